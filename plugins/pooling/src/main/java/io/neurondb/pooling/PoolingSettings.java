package io.neurondb.pooling;

import io.neurondb.plugin.api.BackendConnectionProvider.PoolMode;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The plugin's configuration ({@code plugins: pooling:} in neurondb.yaml), with PgBouncer's
 * setting names and defaults. Durations are in seconds, as in pgbouncer.ini. Environment
 * overrides: {@code NEURONDB_POOL_MODE} (also turns pooling on) and {@code NEURONDB_DEFAULT_POOL_SIZE}.
 * Unknown keys are refused with a message naming them.
 */
public record PoolingSettings(
        boolean enabled,
        PoolMode poolMode,
        int maxClientConn,
        int defaultPoolSize,
        int minPoolSize,
        int reservePoolSize,
        Duration reservePoolTimeout,
        int maxDbConnections,
        int maxUserConnections,
        Duration serverLifetime,
        Duration serverIdleTimeout,
        Duration serverConnectTimeout,
        Duration serverLoginRetry,
        Duration queryWaitTimeout,
        Duration clientIdleTimeout,
        Duration idleTransactionTimeout,
        String serverResetQuery,
        String serverCheckQuery,
        Duration serverCheckDelay,
        int maxPreparedStatements,
        boolean serverPipelining,
        int serverPipelineDepth,
        Duration statsPeriod,
        String authType,
        Path authFile,
        String authUser,
        String authQuery,
        List<String> adminUsers,
        List<String> statsUsers,
        Map<String, DatabaseSettings> databases,
        Map<String, UserSettings> users) {

    /** Per-database overrides ({@code databases: <name>:}); null fields fall back to the global value. */
    public record DatabaseSettings(String dbname, PoolMode poolMode, Integer poolSize, Integer maxDbConnections,
                                   String user, String password) {
    }

    /** Per-user overrides ({@code users: <name>:}). */
    public record UserSettings(PoolMode poolMode, Integer maxUserConnections) {
    }

    static final String DEFAULT_AUTH_QUERY =
            "SELECT rolname, CASE WHEN rolvaliduntil < now() THEN NULL ELSE rolpassword END FROM pg_authid WHERE rolname = $1 AND rolcanlogin";

    private static final Set<String> KEYS = Set.of("enabled", "pool_mode", "max_client_conn", "default_pool_size",
            "min_pool_size", "reserve_pool_size", "reserve_pool_timeout", "max_db_connections", "max_user_connections",
            "server_lifetime", "server_idle_timeout", "server_connect_timeout", "server_login_retry", "query_wait_timeout", "client_idle_timeout",
            "idle_transaction_timeout", "server_reset_query", "server_check_query", "server_check_delay",
            "max_prepared_statements", "server_pipelining", "server_pipeline_depth", "stats_period", "auth_type", "auth_file", "auth_user", "auth_query", "admin_users", "stats_users",
            "databases", "users");

    /** Reads the settings; throws IllegalArgumentException naming the key that is wrong. */
    public static PoolingSettings from(Map<String, Object> raw, Map<String, String> env) {
        for (String key : raw.keySet()) {
            if (!KEYS.contains(key)) {
                throw new IllegalArgumentException("plugins.pooling: unknown setting '" + key + "' (known: " + String.join(", ", KEYS.stream().sorted().toList()) + ")");
            }
        }
        Reader r = new Reader(raw, "plugins.pooling.");
        String envMode = env.get("NEURONDB_POOL_MODE");
        String envSize = env.get("NEURONDB_DEFAULT_POOL_SIZE");
        boolean enabled = r.bool("enabled", false) || (envMode != null && !envMode.isBlank());
        PoolMode mode = envMode != null && !envMode.isBlank() ? mode(envMode, "NEURONDB_POOL_MODE") : r.mode("pool_mode", PoolMode.SESSION);
        int poolSize = envSize != null && !envSize.isBlank() ? positive(envSize, "NEURONDB_DEFAULT_POOL_SIZE") : r.integer("default_pool_size", 20, 1);
        String authType = r.string("auth_type", "md5").toLowerCase(Locale.ROOT);
        if (!Set.of("trust", "md5", "scram-sha-256", "plain").contains(authType)) {
            throw new IllegalArgumentException("plugins.pooling.auth_type: '" + authType + "' is not one of trust, md5, scram-sha-256, plain");
        }
        String authFile = blankToNull(r.string("auth_file", null));
        Map<String, DatabaseSettings> dbs = new LinkedHashMap<>();
        r.map("databases").forEach((name, v) -> dbs.put(name, database(name, v)));
        Map<String, UserSettings> users = new LinkedHashMap<>();
        r.map("users").forEach((name, v) -> users.put(name, user(name, v)));
        PoolingSettings s = new PoolingSettings(enabled, mode,
                r.integer("max_client_conn", 100, 1), poolSize, r.integer("min_pool_size", 0, 0),
                r.integer("reserve_pool_size", 0, 0), r.seconds("reserve_pool_timeout", 5),
                r.integer("max_db_connections", 0, 0), r.integer("max_user_connections", 0, 0),
                r.seconds("server_lifetime", 3600), r.seconds("server_idle_timeout", 600),
                r.seconds("server_connect_timeout", 15), r.seconds("server_login_retry", 15), r.seconds("query_wait_timeout", 120),
                r.seconds("client_idle_timeout", 0), r.seconds("idle_transaction_timeout", 0),
                r.string("server_reset_query", "DISCARD ALL"), r.string("server_check_query", "select 1"),
                r.seconds("server_check_delay", 30), r.integer("max_prepared_statements", 200, 0),
                r.bool("server_pipelining", false), atMost(r.integer("server_pipeline_depth", 3, 1), 16, "plugins.pooling.server_pipeline_depth"),
                positiveSeconds(r.seconds("stats_period", 60), "plugins.pooling.stats_period"),
                authType, authFile == null ? null : Path.of(authFile), blankToNull(r.string("auth_user", null)),
                r.string("auth_query", DEFAULT_AUTH_QUERY), r.list("admin_users"), r.list("stats_users"), dbs, users);
        if (s.enabled && !authType.equals("trust") && s.authFile == null && s.authUser == null) {
            throw new IllegalArgumentException("plugins.pooling: auth_type " + authType + " needs auth_file or auth_user (or use auth_type: trust)");
        }
        return s;
    }

    /** The pool mode for a database and user: the user's setting wins, then the database's, then the global one. */
    public PoolMode modeFor(String database, String user) {
        UserSettings u = users.get(user);
        if (u != null && u.poolMode() != null) {
            return u.poolMode();
        }
        DatabaseSettings d = databases.get(database);
        if (d != null && d.poolMode() != null) {
            return d.poolMode();
        }
        return poolMode;
    }

    public int poolSizeFor(String database) {
        DatabaseSettings d = databases.get(database);
        return d != null && d.poolSize() != null ? d.poolSize() : defaultPoolSize;
    }

    public int maxDbConnectionsFor(String database) {
        DatabaseSettings d = databases.get(database);
        return d != null && d.maxDbConnections() != null ? d.maxDbConnections() : maxDbConnections;
    }

    public int maxUserConnectionsFor(String user) {
        UserSettings u = users.get(user);
        return u != null && u.maxUserConnections() != null ? u.maxUserConnections() : maxUserConnections;
    }

    /** Settings as SHOW CONFIG lists them: name, value (passwords never). */
    public Map<String, String> asConfigRows() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("pool_mode", poolMode.name().toLowerCase(Locale.ROOT));
        m.put("max_client_conn", Integer.toString(maxClientConn));
        m.put("default_pool_size", Integer.toString(defaultPoolSize));
        m.put("min_pool_size", Integer.toString(minPoolSize));
        m.put("reserve_pool_size", Integer.toString(reservePoolSize));
        m.put("reserve_pool_timeout", Long.toString(reservePoolTimeout.toSeconds()));
        m.put("max_db_connections", Integer.toString(maxDbConnections));
        m.put("max_user_connections", Integer.toString(maxUserConnections));
        m.put("server_lifetime", Long.toString(serverLifetime.toSeconds()));
        m.put("server_idle_timeout", Long.toString(serverIdleTimeout.toSeconds()));
        m.put("server_connect_timeout", Long.toString(serverConnectTimeout.toSeconds()));
        m.put("server_login_retry", Long.toString(serverLoginRetry.toSeconds()));
        m.put("query_wait_timeout", Long.toString(queryWaitTimeout.toSeconds()));
        m.put("client_idle_timeout", Long.toString(clientIdleTimeout.toSeconds()));
        m.put("idle_transaction_timeout", Long.toString(idleTransactionTimeout.toSeconds()));
        m.put("server_reset_query", serverResetQuery);
        m.put("server_check_query", serverCheckQuery);
        m.put("server_check_delay", Long.toString(serverCheckDelay.toSeconds()));
        m.put("max_prepared_statements", Integer.toString(maxPreparedStatements));
        m.put("server_pipelining", serverPipelining ? "1" : "0");
        m.put("server_pipeline_depth", Integer.toString(serverPipelineDepth));
        m.put("stats_period", Long.toString(statsPeriod.toSeconds()));
        m.put("auth_type", authType);
        m.put("auth_file", authFile == null ? "" : authFile.toString());
        m.put("auth_user", authUser == null ? "" : authUser);
        m.put("auth_query", authQuery);
        m.put("admin_users", String.join(",", adminUsers));
        m.put("stats_users", String.join(",", statsUsers));
        return m;
    }

    private static int atMost(int value, int max, String key) {
        if (value > max) {
            throw new IllegalArgumentException(key + ": at most " + max + ", got " + value);
        }
        return value;
    }

    private static Duration positiveSeconds(Duration d, String key) {
        if (d.isZero() || d.isNegative()) {
            throw new IllegalArgumentException(key + ": must be at least 1 second, got " + d.toSeconds());
        }
        return d;
    }

    private static DatabaseSettings database(String name, Object v) {
        Reader r = new Reader(asMap(v, "plugins.pooling.databases." + name), "plugins.pooling.databases." + name + ".");
        r.only(Set.of("dbname", "pool_mode", "pool_size", "max_db_connections", "user", "password"));
        return new DatabaseSettings(r.string("dbname", null), r.raw.containsKey("pool_mode") ? r.mode("pool_mode", null) : null,
                r.raw.containsKey("pool_size") ? r.integer("pool_size", 0, 1) : null,
                r.raw.containsKey("max_db_connections") ? r.integer("max_db_connections", 0, 0) : null,
                r.string("user", null), r.string("password", null));
    }

    private static UserSettings user(String name, Object v) {
        Reader r = new Reader(asMap(v, "plugins.pooling.users." + name), "plugins.pooling.users." + name + ".");
        r.only(Set.of("pool_mode", "max_user_connections"));
        return new UserSettings(r.raw.containsKey("pool_mode") ? r.mode("pool_mode", null) : null,
                r.raw.containsKey("max_user_connections") ? r.integer("max_user_connections", 0, 0) : null);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asMap(Object v, String where) {
        if (v == null) {
            return Map.of();
        }
        if (!(v instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException(where + ": expected a map, got " + v);
        }
        Map<String, Object> out = new HashMap<>();
        m.forEach((k, val) -> out.put(String.valueOf(k), val));
        return out;
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }

    static PoolMode mode(String v, String where) {
        return switch (v.strip().toLowerCase(Locale.ROOT)) {
            case "session" -> PoolMode.SESSION;
            case "transaction" -> PoolMode.TRANSACTION;
            // PgBouncer's statement mode refuses multi-statement transactions; this pooler does not
            // (yet), and running it as transaction mode would silently allow them.
            case "statement" -> throw new IllegalArgumentException(where + ": pool mode 'statement' is not supported;"
                    + " use 'transaction' (a server connection per transaction) or 'session'");
            default -> throw new IllegalArgumentException(where + ": '" + v + "' is not one of session, transaction");
        };
    }

    private static int positive(String v, String where) {
        try {
            int n = Integer.parseInt(v.strip());
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new IllegalArgumentException(where + ": '" + v + "' is not a positive integer");
    }

    /** Typed reads of one map, with messages that name the full key. */
    private record Reader(Map<String, Object> raw, String prefix) {

        void only(Set<String> keys) {
            for (String k : raw.keySet()) {
                if (!keys.contains(k)) {
                    throw new IllegalArgumentException(prefix + k + ": unknown setting (known: " + String.join(", ", keys.stream().sorted().toList()) + ")");
                }
            }
        }

        boolean bool(String key, boolean def) {
            Object v = raw.get(key);
            if (v == null) {
                return def;
            }
            if (v instanceof Boolean b) {
                return b;
            }
            String s = v.toString().strip().toLowerCase(Locale.ROOT);
            if (s.equals("true") || s.equals("on") || s.equals("1")) {
                return true;
            }
            if (s.equals("false") || s.equals("off") || s.equals("0")) {
                return false;
            }
            throw new IllegalArgumentException(prefix + key + ": '" + v + "' is not a boolean");
        }

        int integer(String key, int def, int min) {
            Object v = raw.get(key);
            if (v == null) {
                return def;
            }
            long n;
            try {
                n = v instanceof Number num ? num.longValue() : Long.parseLong(v.toString().strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(prefix + key + ": '" + v + "' is not an integer");
            }
            if (n < min || n > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(prefix + key + ": " + n + " is out of range (minimum " + min + ")");
            }
            return (int) n;
        }

        Duration seconds(String key, double def) {
            Object v = raw.get(key);
            double s;
            if (v == null) {
                s = def;
            } else {
                try {
                    s = v instanceof Number num ? num.doubleValue() : Double.parseDouble(v.toString().strip());
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException(prefix + key + ": '" + v + "' is not a number of seconds");
                }
            }
            if (s < 0) {
                throw new IllegalArgumentException(prefix + key + ": must not be negative");
            }
            return Duration.ofMillis(Math.round(s * 1000));
        }

        String string(String key, String def) {
            Object v = raw.get(key);
            return v == null ? def : v.toString();
        }

        PoolMode mode(String key, PoolMode def) {
            Object v = raw.get(key);
            return v == null ? def : PoolingSettings.mode(v.toString(), prefix + key);
        }

        List<String> list(String key) {
            Object v = raw.get(key);
            if (v == null) {
                return List.of();
            }
            if (v instanceof List<?> l) {
                return l.stream().map(Object::toString).map(String::strip).toList();
            }
            return java.util.Arrays.stream(v.toString().split(",")).map(String::strip).filter(x -> !x.isEmpty()).toList();
        }

        Map<String, Object> map(String key) {
            return asMap(raw.get(key), prefix + key);
        }
    }
}
