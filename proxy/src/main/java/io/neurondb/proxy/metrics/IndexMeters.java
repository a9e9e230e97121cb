package io.neurondb.proxy.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.neurondb.proxy.session.SearchDefaults;
import io.neurondb.proxy.vectors.IndexState;
import io.neurondb.proxy.vectors.IndexStatus;
import io.neurondb.proxy.vectors.VectorDatabases;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * Per-index gauges from the engine's index table (what {@code neurondb.index_stats()} shows),
 * labelled {@code database, table, index, method}:
 * {@code neurondb_index_rows}, {@code neurondb_index_memory_bytes},
 * {@code neurondb_index_build_seconds} (the last build) and {@code neurondb_index_ready}
 * (1 while the index is built and served), the counter {@code neurondb_index_builds_total}
 * (builds completed: the first, {@code REINDEX}, rebuilds after writes); and the
 * recall-affecting settings in use:
 * {@code neurondb_index_hnsw_m}, {@code neurondb_index_hnsw_ef_construction} and
 * {@code neurondb_index_hnsw_ef_search_default} for HNSW indexes,
 * {@code neurondb_index_ivfflat_lists} and {@code neurondb_index_ivfflat_probes_default} for
 * IVF ones. The build settings are the index's {@code WITH (...)} values or their defaults;
 * the search ones are what a session starts with before it runs {@code SET hnsw.ef_search} or
 * {@code SET ivfflat.probes}.
 *
 * <p>Indexes come and go, so {@link #refresh} runs periodically: it swaps in a new snapshot
 * that the gauges read when scraped, registers gauges for new indexes and removes those of
 * indexes that are gone. A gauge's identity never changes while its index lives.
 */
public final class IndexMeters {

    public static final long REFRESH_MILLIS = 1000;

    /** database, table, index, method */
    private record Key(String database, String table, String index, String method) {
    }

    private final MeterRegistry registry;
    private final VectorDatabases vectors;
    private volatile Map<Key, IndexStatus> current = Map.of();
    private final Map<Key, List<Meter>> registered = new HashMap<>();

    public IndexMeters(MeterRegistry registry, VectorDatabases vectors) {
        this.registry = registry;
        this.vectors = vectors;
    }

    /** Re-reads every opened database's indexes. Cheap: a few fields per index. */
    public synchronized void refresh() {
        Map<Key, IndexStatus> now = new HashMap<>();
        for (Map.Entry<String, List<IndexStatus>> db : vectors.stats().entrySet()) {
            for (IndexStatus s : db.getValue()) {
                now.put(new Key(db.getKey(), s.tableName(), s.indexName(), s.method()), s);
            }
        }
        current = now;
        for (Key k : now.keySet()) {
            registered.computeIfAbsent(k, this::register);
        }
        for (Iterator<Map.Entry<Key, List<Meter>>> it = registered.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Key, List<Meter>> e = it.next();
            if (!now.containsKey(e.getKey())) {
                e.getValue().forEach(registry::remove);
                it.remove();
            }
        }
    }

    private List<Meter> register(Key k) {
        List<Meter> meters = new ArrayList<>(7);
        meters.add(gauge("neurondb.index.rows", null, "Rows in the engine index", k, IndexStatus::rows));
        meters.add(gauge("neurondb.index.memory", "bytes", "Memory the engine index holds", k, IndexStatus::memoryBytes));
        meters.add(gauge("neurondb.index.build", "seconds", "How long the last build of the index took", k, IndexStatus::buildSeconds));
        meters.add(gauge("neurondb.index.ready", null, "1 while the index is built and served, else 0 (building, stale, failed)", k,
                s -> s.state() == IndexState.READY ? 1 : 0));
        meters.add(FunctionCounter.builder("neurondb.index.builds", k, key -> {
                    IndexStatus s = current.get(key);
                    return s == null ? Double.NaN : s.builds();
                })
                .description("Builds of the index completed since the proxy opened its database (the first, REINDEX, rebuilds after writes)")
                .tags("database", k.database(), "table", k.table(), "index", k.index(), "method", k.method())
                .register(registry));
        if ("hnsw".equals(k.method())) {
            meters.add(gauge("neurondb.index.hnsw.m", null, "HNSW m (links per node) the index is built with", k, s -> setting(s, "m")));
            meters.add(gauge("neurondb.index.hnsw.ef_construction", null, "HNSW ef_construction the index is built with", k,
                    s -> setting(s, "ef_construction")));
            int efSearch = SearchDefaults.efSearch();
            meters.add(gauge("neurondb.index.hnsw.ef_search.default", null,
                    "hnsw.ef_search a session searches the index with unless it sets its own (at least k)", k, s -> efSearch));
        } else if ("ivfflat".equals(k.method())) {
            meters.add(gauge("neurondb.index.ivfflat.lists", null, "IVF lists the index is built with", k, s -> setting(s, "lists")));
            int probes = SearchDefaults.probes();
            meters.add(gauge("neurondb.index.ivfflat.probes.default", null,
                    "ivfflat.probes a session searches the index with unless it sets its own", k, s -> probes));
        }
        return meters;
    }

    private static double setting(IndexStatus s, String name) {
        Integer v = s.buildSettings().get(name);
        return v == null ? Double.NaN : v;
    }

    private Gauge gauge(String name, String unit, String description, Key k, ToDoubleFunction<IndexStatus> value) {
        return Gauge.builder(name, k, key -> {
                    IndexStatus s = current.get(key);
                    return s == null ? Double.NaN : value.applyAsDouble(s);
                })
                .strongReference(true)
                .baseUnit(unit)
                .description(description)
                .tags("database", k.database(), "table", k.table(), "index", k.index(), "method", k.method())
                .register(registry);
    }
}
