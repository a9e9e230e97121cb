package io.neurondb.proxy.config;

import io.neurondb.proxy.protocol.FrameLimits;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import io.neurondb.proxy.replication.ReplicationSettings;

/**
 * Reads {@code neurondb.yaml}, applies the {@code NEURONDB_*} environment overrides, and
 * checks every value. Unknown keys are errors: a misspelt setting silently ignored is how
 * a production proxy ends up listening on the wrong port.
 */
public final class ConfigLoader {

    public static final String ENV_CONFIG = "NEURONDB_CONFIG";
    public static final String ENV_LISTEN = "NEURONDB_LISTEN";
    public static final String ENV_UPSTREAM = "NEURONDB_UPSTREAM";
    public static final String ENV_METRICS_PORT = "NEURONDB_METRICS_PORT";
    public static final String ENV_DATA_DIR = "NEURONDB_DATA_DIR";
    public static final String ENV_PLUGINS_DIR = "NEURONDB_PLUGINS_DIR";
    /** text or json; also read by the log layout before any configuration is loaded. */
    public static final String ENV_LOG_FORMAT = "NEURONDB_LOG_FORMAT";
    public static final String ENV_HOME = "NEURONDB_HOME";
    public static final String ENV_INSTANCE_ID = "NEURONDB_INSTANCE_ID";
    private static final Set<String> REPLICATION_KEYS = Set.of("enabled", "checkpoint_interval_seconds", "status_interval_ms", "max_staleness_ms");

    public static final int DEFAULT_LISTEN_PORT = 6432;
    public static final int DEFAULT_METRICS_PORT = 9187;

    private static final Set<String> TOP_KEYS = Set.of("listen", "upstream", "metrics_port", "data_dir",
            "plugins_dir", "event_loops", "connect_timeout_ms", "client_login_timeout", "limits", "tls", "upstream_tls", "embedded", "log_level", "plugins", "log_format",
            "instance_id", "replication", "open_indexed_databases_at_start");
    private static final Set<String> LIMIT_KEYS = Set.of("max_message_bytes", "max_copy_data_bytes");
    private static final Set<String> TLS_KEYS = Set.of("cert_file", "key_file");
    private static final Set<String> UPSTREAM_TLS_KEYS = Set.of("mode", "ca_file");
    private static final Set<String> EMBEDDED_KEYS = Set.of("bin_dir", "port");
    private static final Set<String> LOG_LEVELS = Set.of("debug", "info", "warning", "error");

    private final Map<String, String> env;
    private final Path home;

    /**
     * @param env  environment to read overrides from (System.getenv() in production)
     * @param home directory relative paths resolve against
     */
    public ConfigLoader(Map<String, String> env, Path home) {
        this.env = env;
        this.home = home;
    }

    public static ConfigLoader fromSystem() {
        Map<String, String> env = System.getenv();
        String home = env.getOrDefault(ENV_HOME, ".");
        return new ConfigLoader(env, Path.of(home).toAbsolutePath().normalize());
    }

    /** The config file to read: NEURONDB_CONFIG, else conf/neurondb.yaml under the home. */
    public Path defaultConfigPath() {
        String fromEnv = env.get(ENV_CONFIG);
        return fromEnv != null && !fromEnv.isBlank() ? home.resolve(fromEnv) : home.resolve("conf/neurondb.yaml");
    }

    /** Loads {@code file} if it exists (a missing default file means all defaults). */
    public ProxyConfig load(Path file) {
        Map<String, Object> root = Map.of();
        if (Files.exists(file)) {
            root = readYaml(file);
        } else if (env.containsKey(ENV_CONFIG)) {
            throw new ConfigException(ENV_CONFIG + " points to " + file + ", which does not exist");
        }
        return build(new Section(root, "", file));
    }

    public ProxyConfig loadFromString(String yaml) {
        Object parsed = new Load(LoadSettings.builder().build()).loadFromString(yaml);
        return build(new Section(asMap(parsed, "<root>", Path.of("<string>")), "", Path.of("<string>")));
    }

    private static Map<String, Object> readYaml(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            Object parsed = new Load(LoadSettings.builder().setLabel(file.toString()).build()).loadFromInputStream(in);
            return asMap(parsed, "<root>", file);
        } catch (IOException e) {
            throw new ConfigException("cannot read config file " + file + ": " + e.getMessage(), e);
        } catch (YamlEngineException e) {
            throw new ConfigException("config file " + file + " is not valid YAML: " + e.getMessage(), e);
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asMap(Object o, String where, Path file) {
        if (o == null) {
            return Map.of();
        }
        if (!(o instanceof Map<?, ?> m)) {
            throw new ConfigException(file + ": " + where + " must be a mapping of key: value");
        }
        return (Map<String, Object>) m;
    }

    private ProxyConfig build(Section root) {
        root.checkKeys(TOP_KEYS);

        HostAndPort listen = HostAndPort.parse(
                override(ENV_LISTEN, root.string("listen", "127.0.0.1:" + DEFAULT_LISTEN_PORT)), "127.0.0.1",
                env.containsKey(ENV_LISTEN) ? ENV_LISTEN : "listen");

        String upstreamText = override(ENV_UPSTREAM, root.string("upstream", ""));
        UpstreamUrl upstream = upstreamText.isBlank() ? null
                : UpstreamUrl.parse(upstreamText, env.containsKey(ENV_UPSTREAM) ? ENV_UPSTREAM : "upstream");

        int metricsPort = parseInt(override(ENV_METRICS_PORT, root.string("metrics_port", String.valueOf(DEFAULT_METRICS_PORT))),
                env.containsKey(ENV_METRICS_PORT) ? ENV_METRICS_PORT : "metrics_port", 0, 65535);

        Path dataDir = home.resolve(override(ENV_DATA_DIR, root.string("data_dir", "data"))).normalize();
        Path pluginsDir = home.resolve(override(ENV_PLUGINS_DIR, root.string("plugins_dir", "plugins.d"))).normalize();

        int eventLoops = parseInt(root.string("event_loops", "0"), "event_loops", 0, 1024);
        if (eventLoops == 0) {
            eventLoops = Runtime.getRuntime().availableProcessors();
        }
        Duration connectTimeout = Duration.ofMillis(parseInt(root.string("connect_timeout_ms", "5000"), "connect_timeout_ms", 100, 600_000));

        // PgBouncer's name and unit (seconds); 0 disables the limit.
        Duration clientLoginTimeout = Duration.ofSeconds(parseInt(root.string("client_login_timeout", "60"), "client_login_timeout", 0, 86_400));

        Section limits = root.section("limits");
        limits.checkKeys(LIMIT_KEYS);
        FrameLimits clientLimits = FrameLimits.frontend(
                parseInt(limits.string("max_message_bytes", String.valueOf(FrameLimits.DEFAULT_MAX_MESSAGE_BYTES)), "limits.max_message_bytes", 1024, Integer.MAX_VALUE - 8),
                parseInt(limits.string("max_copy_data_bytes", String.valueOf(FrameLimits.DEFAULT_MAX_COPY_DATA_BYTES)), "limits.max_copy_data_bytes", 1024, Integer.MAX_VALUE - 8));

        Section tls = root.section("tls");
        tls.checkKeys(TLS_KEYS);
        Path cert = optionalPath(tls.string("cert_file", ""));
        Path key = optionalPath(tls.string("key_file", ""));
        if ((cert == null) != (key == null)) {
            throw new ConfigException("tls.cert_file and tls.key_file must be set together (or both left empty to turn client TLS off)");
        }
        requireReadable(cert, "tls.cert_file");
        requireReadable(key, "tls.key_file");
        Section upstreamTls = root.section("upstream_tls");
        upstreamTls.checkKeys(UPSTREAM_TLS_KEYS);
        TlsSettings.UpstreamTlsMode mode = TlsSettings.UpstreamTlsMode.parse(upstreamTls.string("mode", "prefer"));
        Path ca = optionalPath(upstreamTls.string("ca_file", ""));
        if (mode == TlsSettings.UpstreamTlsMode.VERIFY_FULL && ca == null) {
            throw new ConfigException("upstream_tls.mode verify-full needs upstream_tls.ca_file (PEM file of the CA that signed the server certificate)");
        }
        requireReadable(ca, "upstream_tls.ca_file");

        Section embedded = root.section("embedded");
        embedded.checkKeys(EMBEDDED_KEYS);
        ProxyConfig.EmbeddedSettings embeddedSettings = new ProxyConfig.EmbeddedSettings(
                optionalPath(embedded.string("bin_dir", "")),
                parseInt(embedded.string("port", "0"), "embedded.port", 0, 65535));

        String logLevel = root.string("log_level", "info").toLowerCase(java.util.Locale.ROOT);
        if (!LOG_LEVELS.contains(logLevel)) {
            throw new ConfigException("log_level: '" + logLevel + "' is not one of " + new TreeSet<>(LOG_LEVELS));
        }
        String logFormat = override(ENV_LOG_FORMAT, root.string("log_format", "text")).strip().toLowerCase(java.util.Locale.ROOT);
        if (!logFormat.equals("text") && !logFormat.equals("json")) {
            throw new ConfigException((env.containsKey(ENV_LOG_FORMAT) ? ENV_LOG_FORMAT : "log_format") + ": '" + logFormat
                    + "' is not one of [json, text]");
        }
        // Each plugin checks its own section when it starts; the host only insists on the shape.
        Section plugins = root.section("plugins");
        Map<String, Map<String, Object>> pluginSettings = new LinkedHashMap<>();
        for (String id : plugins.values().keySet()) {
            pluginSettings.put(id, plugins.section(id).values());
        }
        String instanceId = override(ENV_INSTANCE_ID, root.string("instance_id", ReplicationSettings.DEFAULT_INSTANCE_ID));
        if (!ReplicationSettings.INSTANCE_ID.matcher(instanceId).matches()) {
            throw new ConfigException((env.containsKey(ENV_INSTANCE_ID) ? ENV_INSTANCE_ID : "instance_id") + ": '" + instanceId
                    + "' must be 1 to 32 lower-case letters, digits or underscores (it names this proxy's replication slots)");
        }
        Section replication = root.section("replication");
        replication.checkKeys(REPLICATION_KEYS);
        String enabledText = replication.string("enabled", "true").toLowerCase(java.util.Locale.ROOT);
        if (!enabledText.equals("true") && !enabledText.equals("false")) {
            throw new ConfigException("replication.enabled: '" + enabledText + "' is not true or false");
        }
        ReplicationSettings replicationSettings = new ReplicationSettings(enabledText.equals("true"), instanceId,
                Duration.ofSeconds(parseInt(replication.string("checkpoint_interval_seconds", "60"), "replication.checkpoint_interval_seconds", 1, 86_400)),
                Duration.ofMillis(parseInt(replication.string("status_interval_ms", "1000"), "replication.status_interval_ms", 100, 60_000)),
                Duration.ofMillis(parseInt(replication.string("max_staleness_ms", String.valueOf(ReplicationSettings.DEFAULT_MAX_STALENESS.toMillis())),
                        "replication.max_staleness_ms", 100, 86_400_000)));
        String openAtStart = root.string("open_indexed_databases_at_start", "true").toLowerCase(java.util.Locale.ROOT);
        if (!openAtStart.equals("true") && !openAtStart.equals("false")) {
            throw new ConfigException("open_indexed_databases_at_start: '" + openAtStart + "' is not true or false");
        }
        return new ProxyConfig(listen, upstream, metricsPort, dataDir, pluginsDir, eventLoops, connectTimeout, clientLoginTimeout,
                clientLimits, new TlsSettings(cert, key, mode, ca), embeddedSettings, logLevel, pluginSettings, logFormat, replicationSettings,
                openAtStart.equals("true"));
    }

    private String override(String envName, String fileValue) {
        String v = env.get(envName);
        return v != null && !v.isBlank() ? v : fileValue;
    }

    private Path optionalPath(String s) {
        return s == null || s.isBlank() ? null : home.resolve(s).normalize();
    }

    private static void requireReadable(Path p, String setting) {
        if (p != null && !Files.isReadable(p)) {
            throw new ConfigException(setting + ": cannot read " + p);
        }
    }

    private static int parseInt(String s, String setting, int min, int max) {
        long v;
        try {
            v = Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            throw new ConfigException(setting + ": '" + s + "' is not a whole number");
        }
        if (v < min || v > max) {
            throw new ConfigException(setting + ": " + v + " is outside the allowed range " + min + ".." + max);
        }
        return (int) v;
    }

    /** One mapping of the YAML tree, with its dotted path for error messages. */
    private record Section(Map<String, Object> values, String path, Path file) {

        void checkKeys(Set<String> known) {
            for (String k : values.keySet()) {
                if (!known.contains(k)) {
                    throw new ConfigException(file + ": unknown setting '" + path + k + "' (known here: " + new TreeSet<>(known) + ")");
                }
            }
        }

        String string(String key, String dflt) {
            Object v = values.get(key);
            if (v == null) {
                return dflt;
            }
            if (v instanceof Map<?, ?> || v instanceof java.util.List<?>) {
                throw new ConfigException(file + ": '" + path + key + "' must be a single value");
            }
            return v.toString();
        }

        Section section(String key) {
            Object v = values.get(key);
            Map<String, Object> m = v == null ? new LinkedHashMap<>() : asMap(v, path + key, file);
            return new Section(m, path + key + ".", file);
        }
    }
}
