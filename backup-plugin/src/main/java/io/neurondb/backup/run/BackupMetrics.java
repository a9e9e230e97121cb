package io.neurondb.backup.run;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The plugin's meters in the host registry (names as Prometheus shows them):
 * {@code neurondb_backup_last_success_timestamp_seconds{kind}}, {@code neurondb_backup_duration_seconds{kind,status}},
 * {@code neurondb_backup_failures_total{kind}} and {@code neurondb_backup_last_verified_timestamp_seconds}.
 */
public final class BackupMetrics {

    private final MeterRegistry registry;
    private final Map<String, AtomicLong> lastSuccess = new ConcurrentHashMap<>();
    private final AtomicLong lastVerified = new AtomicLong();

    public BackupMetrics(MeterRegistry registry) {
        this.registry = registry;
        Gauge.builder("neurondb_backup_last_verified_timestamp_seconds", lastVerified, AtomicLong::get)
                .description("When a restore test of the latest logical backup last passed (Unix seconds)").register(registry);
    }

    public void succeeded(String kind, Duration took) {
        lastSuccess(kind).set(System.currentTimeMillis() / 1000);
        timer(kind, "succeeded").record(took);
    }

    public void failed(String kind, Duration took) {
        timer(kind, "failed").record(took);
        Counter.builder("neurondb_backup_failures").tag("kind", kind).description("Backup runs that failed")
                .register(registry).increment();
    }

    public void verified() {
        lastVerified.set(System.currentTimeMillis() / 1000);
    }

    private AtomicLong lastSuccess(String kind) {
        return lastSuccess.computeIfAbsent(kind, k -> {
            AtomicLong v = new AtomicLong();
            Gauge.builder("neurondb_backup_last_success_timestamp_seconds", v, AtomicLong::get).tag("kind", k)
                    .description("When a backup of this kind last succeeded (Unix seconds)").register(registry);
            return v;
        });
    }

    private Timer timer(String kind, String status) {
        return Timer.builder("neurondb_backup_duration").tag("kind", kind).tag("status", status)
                .description("How long backup runs took").register(registry);
    }

    /** Registers the per-kind gauges at 0 so dashboards see them before the first run. */
    public void declare(Iterable<String> kinds) {
        kinds.forEach(this::lastSuccess);
    }
}
