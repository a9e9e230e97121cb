package io.neurondb.metrics;

import java.time.Duration;
import java.util.Map;
import java.util.Set;

/**
 * The plugin's settings: the {@code plugins: metrics:} section of the configuration file, with
 * {@code NEURONDB_METRICS_*} environment overrides. The port itself is the proxy's
 * {@code metrics_port} (0 turns the endpoint off).
 *
 * @param bindAddress  address the HTTP endpoint listens on; loopback unless an operator opens it
 * @param jvmMetrics   whether JVM and process meters are registered
 * @param readyTimeout how long {@code /ready} waits for the upstream to answer
 */
public record MetricsSettings(String bindAddress, boolean jvmMetrics, Duration readyTimeout) {

    public static final String DEFAULT_BIND_ADDRESS = "127.0.0.1";
    public static final Duration DEFAULT_READY_TIMEOUT = Duration.ofSeconds(2);

    private static final Set<String> KEYS = Set.of("bind_address", "jvm_metrics", "ready_timeout_ms");

    /** @throws IllegalArgumentException naming the key that is unknown or has a bad value */
    public static MetricsSettings parse(Map<String, Object> section, Map<String, String> environment) {
        for (String key : section.keySet()) {
            if (!KEYS.contains(key)) {
                throw new IllegalArgumentException("unknown setting plugins.metrics." + key
                        + " (known: bind_address, jvm_metrics, ready_timeout_ms)");
            }
        }
        String bind = text(section, "bind_address", DEFAULT_BIND_ADDRESS);
        String fromEnv = environment.get("NEURONDB_METRICS_BIND_ADDRESS");
        if (fromEnv != null && !fromEnv.isBlank()) {
            bind = fromEnv.trim();
        }
        if (bind.isBlank()) {
            throw new IllegalArgumentException("plugins.metrics.bind_address must not be empty (e.g. 127.0.0.1, or 0.0.0.0 for every interface)");
        }
        boolean jvm = flag(section, "jvm_metrics", true);
        long timeoutMs = number(section, "ready_timeout_ms", DEFAULT_READY_TIMEOUT.toMillis());
        if (timeoutMs < 1 || timeoutMs > 60_000) {
            throw new IllegalArgumentException("plugins.metrics.ready_timeout_ms must be between 1 and 60000, not " + timeoutMs);
        }
        return new MetricsSettings(bind, jvm, Duration.ofMillis(timeoutMs));
    }

    private static String text(Map<String, Object> s, String key, String dflt) {
        Object v = s.get(key);
        if (v == null) {
            return dflt;
        }
        if (!(v instanceof String str)) {
            throw new IllegalArgumentException("plugins.metrics." + key + " must be a string, not " + v);
        }
        return str.trim();
    }

    private static boolean flag(Map<String, Object> s, String key, boolean dflt) {
        Object v = s.get(key);
        if (v == null) {
            return dflt;
        }
        if (!(v instanceof Boolean b)) {
            throw new IllegalArgumentException("plugins.metrics." + key + " must be true or false, not " + v);
        }
        return b;
    }

    private static long number(Map<String, Object> s, String key, long dflt) {
        Object v = s.get(key);
        if (v == null) {
            return dflt;
        }
        if (!(v instanceof Integer || v instanceof Long)) {
            throw new IllegalArgumentException("plugins.metrics." + key + " must be a whole number, not " + v);
        }
        return ((Number) v).longValue();
    }
}
