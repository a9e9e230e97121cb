package io.neurondb.proxy.cli;

import io.neurondb.proxy.config.ConfigException;
import io.neurondb.proxy.config.ConfigLoader;
import io.neurondb.proxy.config.ProxyConfig;
import io.neurondb.proxy.logging.LogFormat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.function.Predicate;

/**
 * Re-reads the configuration file and applies what can change without a restart: the
 * logging's {@code log_level} and {@code log_format}, then whatever {@code alsoApply} takes (the
 * running proxy's plugin sections). Triggered by SIGHUP ({@code kill -HUP <pid>}, as PostgreSQL
 * and PgBouncer reload; other reload actions register with {@link Sighup} too) and by a plugin's
 * request (an admin console's RELOAD). A file that no longer loads is reported and the running
 * settings stay.
 */
public final class ConfigReload {

    private static final Logger log = LoggerFactory.getLogger(ConfigReload.class);

    private final ConfigLoader loader;
    private final Path file;

    private final Predicate<ProxyConfig> alsoApply;

    public ConfigReload(ConfigLoader loader, Path file) {
        this(loader, file, config -> true);
    }

    /** @param alsoApply applies the rest of a loaded file; false when part of it was refused */
    public ConfigReload(ConfigLoader loader, Path file, Predicate<ProxyConfig> alsoApply) {
        this.loader = loader;
        this.file = file;
        this.alsoApply = alsoApply;
    }

    /** Applies the configuration's logging settings now. */
    public static void apply(ProxyConfig config) {
        LogLevels.applyRootLevel(config.logLevel());
        LogFormat.set(LogFormat.parse(config.logFormat()));
    }

    /** Reloads; true when the file loaded and all its settings now apply. */
    public boolean reload() {
        ProxyConfig config;
        try {
            config = loader.load(file);
        } catch (ConfigException e) {
            log.warn("event=log_settings_reload_failed file={} error=\"{}\"", file, e.getMessage().replace('"', '\''));
            return false;
        }
        // Said before the new level applies, so raising it to warning or error still shows the line.
        log.info("event=log_settings_reloaded file={} log_level={} log_format={}", file, config.logLevel(), config.logFormat());
        apply(config);
        return alsoApply.test(config);
    }

    /** Reloads on SIGHUP (see {@link Sighup}). False when the JVM does not let the signal be handled. */
    public boolean installOnSighup() {
        return Sighup.register(this::reload);
    }
}
