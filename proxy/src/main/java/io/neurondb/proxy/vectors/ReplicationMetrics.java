package io.neurondb.proxy.vectors;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The replication sync's meters in the host registry, labelled {@code database}:
 * {@code neurondb_replication_lag_bytes}, {@code neurondb_replication_lag_seconds},
 * {@code neurondb_replication_applied_lsn}, {@code neurondb_replication_durable_lsn},
 * {@code neurondb_replication_transactions_applied_total}, {@code neurondb_replication_reconnects_total},
 * {@code neurondb_replication_resnapshots_total}, {@code neurondb_replication_rebuilds_total},
 * {@code neurondb_replication_slot_conflicts_total},
 * and, per proxy, {@code neurondb_index_copy_rows_total} / {@code neurondb_index_copy_rows_expected}
 * (initial copy progress). Without a registry (tests, embedding) nothing is recorded.
 */
final class ReplicationMetrics {

    private volatile MeterRegistry registry;
    private final Map<String, List<Meter>> perDatabase = new ConcurrentHashMap<>();
    private final Map<String, Long> durable = new ConcurrentHashMap<>();

    void bind(MeterRegistry r) {
        this.registry = r;
        if (r != null) {
            Gauge.builder("neurondb_index_copy_rows_total", CopyProgress.ROWS_COPIED, Number::doubleValue)
                    .description("Rows copied from tables into index builds since start").register(r);
            Gauge.builder("neurondb_index_copy_rows_expected", CopyProgress.ROWS_EXPECTED, Number::doubleValue)
                    .description("Rows the table copies running now will read in all").register(r);
        }
    }

    void register(IndexSync sync, String database) {
        MeterRegistry r = registry;
        if (r == null) {
            return;
        }
        Tags tags = Tags.of("database", database);
        List<Meter> meters = new CopyOnWriteArrayList<>();
        meters.add(Gauge.builder("neurondb_replication_lag_bytes", sync, s -> s.lagBytes()).tags(tags)
                .description("WAL bytes between the server's position and what the indexes applied").register(r));
        meters.add(Gauge.builder("neurondb_replication_lag_seconds", sync, IndexSync::lagSeconds).tags(tags)
                .description("Age of the last applied commit while the indexes lag, else 0").register(r));
        meters.add(Gauge.builder("neurondb_replication_applied_lsn", sync, s -> (double) s.appliedLsn()).tags(tags)
                .description("WAL position the indexes have applied (as a number)").register(r));
        meters.add(Gauge.builder("neurondb_replication_durable_lsn", durable, m -> (double) m.getOrDefault(database, 0L)).tags(tags)
                .description("WAL position covered by the newest durable checkpoint (the slot's flushed position)").register(r));
        perDatabase.put(database, meters);
    }

    void unregister(String database) {
        MeterRegistry r = registry;
        List<Meter> meters = perDatabase.remove(database);
        if (r != null && meters != null) {
            meters.forEach(r::remove);
        }
    }

    private void count(String name, String database, String description, double amount) {
        MeterRegistry r = registry;
        if (r != null) {
            Counter.builder(name).tags("database", database).description(description).register(r).increment(amount);
        }
    }

    void applied(String database, int changes) {
        count("neurondb_replication_transactions_applied_total", database, "Committed transactions applied to the indexes", 1);
    }

    void reconnect(String database) {
        count("neurondb_replication_reconnects_total", database, "Replication stream interruptions followed by a reconnect", 1);
    }

    void resnapshot(String database) {
        count("neurondb_replication_resnapshots_total", database,
                "Fresh snapshots taken because the slot was lost or the server's identity or timeline changed", 1);
    }

    void slotInUse(String database) {
        count("neurondb_replication_slot_conflicts_total", database,
                "Times the instance's slot was found held by another process (another proxy with the same instance_id)", 1);
    }

    void rebuilt(String database) {
        count("neurondb_replication_rebuilds_total", database, "Rebuilds of all the database's indexes from a new slot snapshot", 1);
    }

    void checkpointed(String database, long lsn) {
        durable.put(database, lsn);
    }
}
