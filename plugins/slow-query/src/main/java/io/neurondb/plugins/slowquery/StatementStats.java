package io.neurondb.plugins.slowquery;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * pg_stat_statements-like figures per statement since the proxy started: calls, total, mean,
 * p95 and max time, rows, for every route (vector included), keyed like pg_stat_statements by
 * user, database and fingerprint (and route: the same text can pass through before its
 * index exists and be served by the engine after). Bounded: when full, the least-called
 * tenth is forgotten, as pg_stat_statements evicts. Thread-safe.
 */
final class StatementStats {

    record Key(String user, String database, String fingerprint, String route) {
    }

    /** A snapshot of one statement's figures. */
    record Row(Key key, String query, long calls, double totalMs, double meanMs, double p95Ms, double maxMs, long rows) {
    }

    private static final class Entry {
        final String query;
        final LatencyHistogram latencies = new LatencyHistogram();
        long calls;
        double totalMs;
        double maxMs;
        long rows;

        Entry(String query) {
            this.query = query;
        }
    }

    private final int max;
    private final Map<Key, Entry> entries = new HashMap<>();

    StatementStats(int max) {
        this.max = max;
    }

    synchronized void add(Key key, String query, double ms, long rows) {
        Entry e = entries.get(key);
        if (e == null) {
            if (entries.size() >= max) {
                evict();
            }
            e = new Entry(query);
            entries.put(key, e);
        }
        e.calls++;
        e.totalMs += ms;
        e.maxMs = Math.max(e.maxMs, ms);
        if (rows > 0) {
            e.rows += rows;
        }
        e.latencies.add(ms);
    }

    private void evict() {
        List<Map.Entry<Key, Entry>> all = new ArrayList<>(entries.entrySet());
        all.sort(Comparator.comparingLong(x -> x.getValue().calls));
        int n = Math.max(1, all.size() / 10);
        for (int i = 0; i < n; i++) {
            entries.remove(all.get(i).getKey());
        }
    }

    /** The {@code limit} statements with the most total time, most first. */
    synchronized List<Row> top(int limit) {
        return entries.entrySet().stream()
                .sorted(Comparator.comparingDouble((Map.Entry<Key, Entry> x) -> x.getValue().totalMs).reversed())
                .limit(limit)
                .map(x -> {
                    Entry e = x.getValue();
                    return new Row(x.getKey(), e.query, e.calls, e.totalMs, e.totalMs / e.calls,
                            Math.min(e.maxMs, e.latencies.quantile(0.95)), e.maxMs, e.rows);
                })
                .toList();
    }

    synchronized int size() {
        return entries.size();
    }
}
