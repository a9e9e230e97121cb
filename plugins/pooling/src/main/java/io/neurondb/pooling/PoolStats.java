package io.neurondb.pooling;

import io.neurondb.plugin.api.BackendConnectionProvider.LeaseUsage;

import java.util.concurrent.atomic.LongAdder;

/**
 * One pool's SHOW STATS figures: running totals of what the host reported for its leases
 * (adders: sessions on every event loop add at once without contending), and the figures of
 * the last completed {@code stats_period}, from which the console derives PgBouncer's avg_*
 * columns.
 */
final class PoolStats {

    final LongAdder transactions = new LongAdder();
    final LongAdder queries = new LongAdder();
    /** Bytes the pool's clients sent to its server connections (PgBouncer's total_received). */
    final LongAdder bytesToServer = new LongAdder();
    /** Bytes its server connections sent to the clients (PgBouncer's total_sent). */
    final LongAdder bytesFromServer = new LongAdder();
    final LongAdder transactionMicros = new LongAdder();
    final LongAdder queryMicros = new LongAdder();

    /** What happened in one stats period; the wait figures come from the pool's own counters. */
    record Period(double seconds, long transactions, long queries, long bytesToServer, long bytesFromServer,
                  long transactionMicros, long queryMicros, long acquisitions, long waitMicros) {

        static final Period EMPTY = new Period(0, 0, 0, 0, 0, 0, 0, 0, 0);

        /** Several pools' periods together (SHOW STATS is per database). */
        Period plus(Period o) {
            return new Period(Math.max(seconds, o.seconds), transactions + o.transactions, queries + o.queries,
                    bytesToServer + o.bytesToServer, bytesFromServer + o.bytesFromServer, transactionMicros + o.transactionMicros,
                    queryMicros + o.queryMicros, acquisitions + o.acquisitions, waitMicros + o.waitMicros);
        }

        long perSecond(long v) {
            return seconds <= 0 ? 0 : Math.round(v / seconds);
        }

        static long per(long total, long count) {
            return count == 0 ? 0 : total / count;
        }
    }

    /** Totals at the start of the current period. */
    private Period mark = Period.EMPTY;
    private long markNanos;
    private volatile Period last = Period.EMPTY;

    /**
     * {@code periodStartNanos}: when the pooler's current stats period began. A pool made in
     * the middle of a period counts from there (with nothing before its creation), so its
     * first rates are per second of the same period as every other pool's.
     */
    PoolStats(long periodStartNanos) {
        this.markNanos = periodStartNanos;
    }

    void add(LeaseUsage u) {
        if (u == null || u.isEmpty()) {
            return;
        }
        transactions.add(u.transactions());
        queries.add(u.queries());
        bytesToServer.add(u.bytesToServer());
        bytesFromServer.add(u.bytesFromServer());
        transactionMicros.add(u.transactionMicros());
        queryMicros.add(u.queryMicros());
    }

    /** The running totals, with the pool's acquisitions and wait time. */
    Period totals(long acquisitions, long waitMicros) {
        return new Period(0, transactions.sum(), queries.sum(), bytesToServer.sum(), bytesFromServer.sum(),
                transactionMicros.sum(), queryMicros.sum(), acquisitions, waitMicros);
    }

    /** Ends a stats period: what happened since the last call becomes {@link #lastPeriod()}. */
    synchronized void roll(long nowNanos, long acquisitions, long waitMicros) {
        Period now = totals(acquisitions, waitMicros);
        double seconds = (nowNanos - markNanos) / 1e9;
        last = new Period(seconds, now.transactions() - mark.transactions(), now.queries() - mark.queries(),
                now.bytesToServer() - mark.bytesToServer(), now.bytesFromServer() - mark.bytesFromServer(),
                now.transactionMicros() - mark.transactionMicros(), now.queryMicros() - mark.queryMicros(),
                now.acquisitions() - mark.acquisitions(), now.waitMicros() - mark.waitMicros());
        mark = now;
        markNanos = nowNanos;
    }

    Period lastPeriod() {
        return last;
    }
}
