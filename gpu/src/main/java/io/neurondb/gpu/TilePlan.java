package io.neurondb.gpu;

/**
 * How a queries x base computation is cut so that the device buffers of one step fit a
 * memory budget: at most {@code queryRows} queries and {@code baseRows} base rows are
 * resident at once, with their {@code queryRows x baseRows} distance block.
 *
 * <p>{@code segmentRows > 0} means top-k is selected on the device, {@code k} candidates per
 * segment of that many base rows, and only those candidates are copied back; 0 means the
 * whole distance block is copied back and selected on the host (k too large for the
 * device's per-thread lists, or an assignment, which keeps its own running best).
 *
 * @param queryRows   queries (or vectors to assign) per batch
 * @param baseRows    base rows (or centroids) per tile
 * @param segmentRows base rows per device top-k segment, or 0 when the device does not select
 * @param k           candidates kept per segment (1 for an assignment)
 * @param assignment  whether the plan also holds the running nearest centroid per vector
 */
record TilePlan(int queryRows, int baseRows, int segmentRows, int k, boolean assignment) {

    /** Queries per batch before the budget has its say; beyond this, batching costs nothing. */
    static final int MAX_QUERY_ROWS = 1024;

    /** Below this many base rows per tile the launch overhead dominates: shrink the batch instead. */
    static final int MIN_BASE_ROWS = 256;

    /** Per-segment scan length floor; each device thread scans one segment serially. */
    static final int MIN_SEGMENT_ROWS = 256;

    /**
     * Host arrays mirror the largest device block, and Java arrays are int-indexed: keep one
     * block well inside that.
     */
    static final long MAX_BLOCK_ELEMENTS = 1L << 28;

    TilePlan {
        if (queryRows < 1 || baseRows < 1 || segmentRows < 0 || k < 0) {
            throw new IllegalArgumentException("invalid plan " + queryRows + "x" + baseRows
                    + " segmentRows=" + segmentRows + " k=" + k);
        }
    }

    static TilePlan forTopK(int queryCount, int baseCount, int dims, int k, long budgetBytes) {
        int segmentRows = k >= 1 && k <= KernelSource.MAX_DEVICE_K
                // 8k rows per segment keeps the k (row, distance) pairs copied back at most a
                // quarter of the bytes of the distances they summarise.
                ? Math.max(MIN_SEGMENT_ROWS, 8 * k)
                : 0;
        return fit(queryCount, baseCount, dims, segmentRows, Math.max(k, 1), false, budgetBytes);
    }

    static TilePlan forAssignment(int vectorCount, int centroidCount, int dims, long budgetBytes) {
        return fit(vectorCount, centroidCount, dims, 0, 1, true, budgetBytes);
    }

    /** Whether top-k candidates are selected on the device rather than from the whole block. */
    boolean selectsOnDevice() {
        return segmentRows > 0;
    }

    /** Segments of a tile of {@code tileRows} base rows. */
    int segments(int tileRows) {
        return segmentRows == 0 ? 0 : ceilDiv(tileRows, segmentRows);
    }

    /** Candidate slots of a full batch against a full tile: the size of the candidate buffers. */
    long candidateSlots() {
        return (long) queryRows * segments(baseRows) * k;
    }

    long distanceBlockElements() {
        return (long) queryRows * baseRows;
    }

    /** Device bytes the plan's buffers take for vectors of {@code dims} floats. */
    long deviceBytes(int dims) {
        return deviceBytes(queryRows, baseRows, dims, segmentRows, k, assignment);
    }

    private static TilePlan fit(int queryCount, int baseCount, int dims, int segmentRows, int k,
                                boolean assignment, long budgetBytes) {
        if (queryCount < 1 || baseCount < 1 || dims < 1) {
            throw new IllegalArgumentException("nothing to plan: queries=" + queryCount
                    + " base=" + baseCount + " dims=" + dims);
        }
        int queryRows = Math.min(queryCount, MAX_QUERY_ROWS);
        int baseRows;
        while (true) {
            baseRows = largestBaseRows(queryRows, baseCount, dims, segmentRows, k, assignment, budgetBytes);
            boolean tooThin = baseRows < Math.min(baseCount, MIN_BASE_ROWS);
            if (!tooThin || queryRows == 1) {
                break;
            }
            queryRows = Math.max(1, queryRows / 2);
        }
        // When even one query against one row exceeds the budget (huge dims, tiny budget) we
        // still run one row at a time: the budget is a target, not a device limit.
        return new TilePlan(queryRows, Math.max(1, baseRows), segmentRows, k, assignment);
    }

    private static int largestBaseRows(int queryRows, int baseCount, int dims, int segmentRows, int k,
                                       boolean assignment, long budgetBytes) {
        int low = 0;
        int high = (int) Math.min(baseCount, MAX_BLOCK_ELEMENTS / queryRows);
        // deviceBytes grows with base rows, so the largest fitting count is a binary search
        // away; exact, unlike solving the linear bound, because segment counts round up.
        while (low < high) {
            int mid = low + (high - low + 1) / 2;
            if (deviceBytes(queryRows, mid, dims, segmentRows, k, assignment) <= budgetBytes) {
                low = mid;
            } else {
                high = mid - 1;
            }
        }
        return low;
    }

    private static long deviceBytes(int queryRows, int baseRows, int dims, int segmentRows, int k,
                                    boolean assignment) {
        long floats = (long) queryRows * dims + (long) baseRows * dims + (long) queryRows * baseRows;
        long candidates = segmentRows == 0 ? 0 : (long) queryRows * ceilDiv(baseRows, segmentRows) * k;
        long nearest = assignment ? queryRows : 0;
        // candidates and nearest entries are (int row, float distance) pairs
        return Float.BYTES * floats + 8L * (candidates + nearest);
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
