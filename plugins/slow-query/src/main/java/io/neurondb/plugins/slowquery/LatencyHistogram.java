package io.neurondb.plugins.slowquery;

/**
 * Durations in logarithmic buckets, eight per doubling (about 9% wide), from 10 µs to about
 * 12 hours: enough for a p95 within a bucket's width in 1 KiB, whatever the number of calls.
 * Not thread-safe; {@link StatementStats} guards it.
 */
final class LatencyHistogram {

    private static final double MIN_MS = 0.01;
    private static final int PER_DOUBLING = 8;
    private static final int BUCKETS = 32 * PER_DOUBLING;
    private static final double LOG_STEP = Math.log(2) / PER_DOUBLING;

    private final int[] counts = new int[BUCKETS];
    private long total;

    void add(double ms) {
        counts[bucket(ms)]++;
        total++;
    }

    private static int bucket(double ms) {
        if (!(ms > MIN_MS)) {
            return 0;
        }
        int b = (int) (Math.log(ms / MIN_MS) / LOG_STEP);
        return Math.min(BUCKETS - 1, b);
    }

    /** The upper bound of the bucket holding the q-quantile, or 0 when empty. */
    double quantile(double q) {
        if (total == 0) {
            return 0;
        }
        long rank = (long) Math.ceil(q * total);
        long seen = 0;
        for (int b = 0; b < BUCKETS; b++) {
            seen += counts[b];
            if (seen >= rank) {
                return MIN_MS * Math.exp((b + 1) * LOG_STEP);
            }
        }
        return MIN_MS * Math.exp(BUCKETS * LOG_STEP);
    }
}
