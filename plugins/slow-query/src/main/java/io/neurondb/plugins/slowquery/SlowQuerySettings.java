package io.neurondb.plugins.slowquery;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * The plugin's section of the configuration ({@code plugins: slow-query:}), checked: an
 * unknown key or a value out of range stops the plugin's start with a message naming it.
 *
 * @param thresholdMillis     statements that take at least this long are recorded
 * @param logRawText          also store the statement as sent (literals included)
 * @param database            the database that holds {@code neurondb.slow_queries}
 * @param bufferSize          records held while the table cannot take them; the oldest go first
 * @param batchSize           records per INSERT
 * @param flushIntervalMillis how often the buffer is written
 * @param retentionDays       records older than this are deleted; 0 keeps them all
 * @param retentionIntervalSeconds how often the retention delete runs
 * @param summaryMaxStatements distinct statements kept for {@code slow_query_summary()}
 * @param writeTimeoutMillis  the writer's {@code statement_timeout}: a batch INSERT (or the
 *                            retention delete) waiting longer, e.g. on a lock, is cancelled
 */
record SlowQuerySettings(long thresholdMillis, boolean logRawText, String database, int bufferSize, int batchSize,
                         long flushIntervalMillis, int retentionDays, long retentionIntervalSeconds,
                         int summaryMaxStatements, long writeTimeoutMillis) {

    static final String THRESHOLD_ENV = "NEURONDB_SLOW_QUERY_THRESHOLD_MS";

    private static final Map<String, String> KEYS = new LinkedHashMap<>();

    static {
        KEYS.put("slow_query_threshold_ms", "1000");
        KEYS.put("log_raw_text", "false");
        KEYS.put("database", "");
        KEYS.put("buffer_size", "10000");
        KEYS.put("batch_size", "500");
        KEYS.put("flush_interval_ms", "1000");
        KEYS.put("retention_days", "7");
        KEYS.put("retention_check_interval_s", "3600");
        KEYS.put("summary_max_statements", "5000");
        KEYS.put("write_timeout_ms", "5000");
    }

    /**
     * @param defaultDatabase the proxy's own login database, used when {@code database} is not set
     */
    static SlowQuerySettings from(Map<String, Object> settings, Map<String, String> env, String defaultDatabase) {
        for (String key : settings.keySet()) {
            if (!KEYS.containsKey(key)) {
                throw new IllegalArgumentException("plugins.slow-query: unknown setting '" + key + "' (known: "
                        + new TreeSet<>(KEYS.keySet()) + ")");
            }
        }
        String envThreshold = env.get(THRESHOLD_ENV);
        long threshold = envThreshold != null && !envThreshold.isBlank()
                ? number(THRESHOLD_ENV, envThreshold.strip(), 0, Long.MAX_VALUE)
                : number(settings, "slow_query_threshold_ms", 0, Long.MAX_VALUE);
        String database = text(settings, "database");
        return new SlowQuerySettings(
                threshold,
                bool(settings, "log_raw_text"),
                database.isEmpty() ? (defaultDatabase == null || defaultDatabase.isEmpty() ? "postgres" : defaultDatabase) : database,
                (int) number(settings, "buffer_size", 1, 10_000_000),
                (int) number(settings, "batch_size", 1, 100_000),
                number(settings, "flush_interval_ms", 10, 3_600_000),
                (int) number(settings, "retention_days", 0, 36_500),
                number(settings, "retention_check_interval_s", 1, 86_400 * 7),
                (int) number(settings, "summary_max_statements", 10, 1_000_000),
                number(settings, "write_timeout_ms", 100, 3_600_000));
    }

    private static Object value(Map<String, Object> settings, String key) {
        Object v = settings.get(key);
        return v == null ? KEYS.get(key) : v;
    }

    private static long number(Map<String, Object> settings, String key, long min, long max) {
        Object v = value(settings, key);
        if (v instanceof Number n && !(v instanceof Double) && !(v instanceof Float)) {
            return inRange(key, n.longValue(), min, max);
        }
        return number(key, v.toString().strip(), min, max);
    }

    private static long number(String key, String v, long min, long max) {
        try {
            return inRange(key, Long.parseLong(v), min, max);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("plugins.slow-query: " + key + " must be a whole number, not '" + v + "'");
        }
    }

    private static long inRange(String key, long v, long min, long max) {
        if (v < min || v > max) {
            throw new IllegalArgumentException("plugins.slow-query: " + key + " is " + v + ", must be between " + min + " and " + max);
        }
        return v;
    }

    private static boolean bool(Map<String, Object> settings, String key) {
        Object v = value(settings, key);
        if (v instanceof Boolean b) {
            return b;
        }
        return switch (v.toString().strip().toLowerCase(Locale.ROOT)) {
            case "true", "on", "yes" -> true;
            case "false", "off", "no" -> false;
            default -> throw new IllegalArgumentException("plugins.slow-query: " + key + " must be true or false, not '" + v + "'");
        };
    }

    private static String text(Map<String, Object> settings, String key) {
        return value(settings, key).toString().strip();
    }
}
