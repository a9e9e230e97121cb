package io.neurondb.gpu;

import io.neurondb.engine.Metric;
import io.neurondb.engine.compute.ComputeBackend.TopK;
import java.util.Arrays;
import java.util.Objects;

/**
 * The host side of the GPU path: validates a request, cuts it by a {@link TilePlan}, runs
 * the steps of {@link TileKernels} tile by tile and merges what comes back. It knows
 * nothing of CUDA, so the same code runs against {@link ReferenceTileKernels} in tests.
 *
 * <p>Top-k: the base is walked in tiles (outer loop, so each tile is uploaded once) and the
 * queries in batches (inner loop; a single batch is uploaded once for the whole call). For
 * small k the device keeps k candidates per segment and only those cross the bus; the
 * host merges segments and tiles into each query's global top-k with a {@link BoundedTopK}.
 *
 * <p>Assignment: vectors in batches (outer), centroids in tiles (inner); the running
 * nearest centroid stays on the device across centroid tiles and is read once per batch.
 */
final class TiledSearch {

    private static final TopK EMPTY = new TopK(new int[0], new float[0]);

    private final TileKernels.Factory kernels;
    private final long memoryBudgetBytes;

    TiledSearch(TileKernels.Factory kernels, long memoryBudgetBytes) {
        this.kernels = Objects.requireNonNull(kernels, "kernels");
        if (memoryBudgetBytes <= 0) {
            throw new IllegalArgumentException("memory budget must be positive: " + memoryBudgetBytes);
        }
        this.memoryBudgetBytes = memoryBudgetBytes;
    }

    TopK[] topK(float[] queries, int queryCount, float[] base, int baseCount, int dims, Metric metric, int k) {
        checkMatrix("queries", queries, queryCount, dims);
        checkMatrix("base", base, baseCount, dims);
        Objects.requireNonNull(metric, "metric");
        if (k < 0) {
            throw new IllegalArgumentException("k must be >= 0: " + k);
        }
        TopK[] results = new TopK[queryCount];
        if (queryCount == 0) {
            return results;
        }
        int kept = Math.min(k, baseCount);
        if (kept == 0) {
            Arrays.fill(results, EMPTY);
            return results;
        }

        TilePlan plan = TilePlan.forTopK(queryCount, baseCount, dims, kept, memoryBudgetBytes);
        BoundedTopK[] best = new BoundedTopK[queryCount];
        for (int q = 0; q < queryCount; q++) {
            best[q] = new BoundedTopK(kept);
        }
        int metricId = KernelMetric.idOf(metric);
        boolean oneQueryBatch = queryCount <= plan.queryRows();
        int[] candidateRows = plan.selectsOnDevice() ? new int[Math.toIntExact(plan.candidateSlots())] : null;
        float[] candidateDistances = plan.selectsOnDevice() ? new float[candidateRows.length] : null;
        float[] block = plan.selectsOnDevice() ? null : new float[Math.toIntExact(plan.distanceBlockElements())];

        try (TileKernels device = kernels.open(plan, dims)) {
            if (oneQueryBatch) {
                device.loadQueries(queries, 0, queryCount);
            }
            for (int tileStart = 0; tileStart < baseCount; tileStart += plan.baseRows()) {
                int tileRows = Math.min(plan.baseRows(), baseCount - tileStart);
                device.loadBase(base, tileStart, tileRows);
                for (int batchStart = 0; batchStart < queryCount; batchStart += plan.queryRows()) {
                    int batchRows = Math.min(plan.queryRows(), queryCount - batchStart);
                    if (!oneQueryBatch) {
                        device.loadQueries(queries, batchStart, batchRows);
                    }
                    device.computeDistances(metricId);
                    if (plan.selectsOnDevice()) {
                        int segments = plan.segments(tileRows);
                        device.selectSegments(plan.segmentRows(), segments, kept, candidateRows, candidateDistances);
                        mergeCandidates(best, batchStart, batchRows, tileStart, segments * kept,
                                candidateRows, candidateDistances);
                    } else {
                        device.readDistances(block);
                        mergeBlock(best, batchStart, batchRows, tileStart, tileRows, block);
                    }
                }
            }
        }
        for (int q = 0; q < queryCount; q++) {
            results[q] = best[q].drain();
        }
        return results;
    }

    int[] assignNearest(float[] vectors, int vectorCount, float[] centroids, int centroidCount, int dims,
                        Metric metric) {
        checkMatrix("vectors", vectors, vectorCount, dims);
        checkMatrix("centroids", centroids, centroidCount, dims);
        Objects.requireNonNull(metric, "metric");
        int[] nearest = new int[vectorCount];
        if (vectorCount == 0) {
            return nearest;
        }
        if (centroidCount == 0) {
            throw new IllegalArgumentException("cannot assign " + vectorCount + " vectors to no centroids");
        }

        TilePlan plan = TilePlan.forAssignment(vectorCount, centroidCount, dims, memoryBudgetBytes);
        int metricId = KernelMetric.idOf(metric);
        boolean oneCentroidTile = centroidCount <= plan.baseRows();
        int[] batchNearest = new int[plan.queryRows()];

        try (TileKernels device = kernels.open(plan, dims)) {
            if (oneCentroidTile) {
                device.loadBase(centroids, 0, centroidCount);
            }
            for (int batchStart = 0; batchStart < vectorCount; batchStart += plan.queryRows()) {
                int batchRows = Math.min(plan.queryRows(), vectorCount - batchStart);
                device.loadQueries(vectors, batchStart, batchRows);
                for (int tileStart = 0; tileStart < centroidCount; tileStart += plan.baseRows()) {
                    if (!oneCentroidTile) {
                        device.loadBase(centroids, tileStart, Math.min(plan.baseRows(), centroidCount - tileStart));
                    }
                    device.computeDistances(metricId);
                    device.foldNearest(tileStart);
                }
                device.readNearest(batchNearest);
                System.arraycopy(batchNearest, 0, nearest, batchStart, batchRows);
            }
        }
        return nearest;
    }

    /** Candidates of one batch: {@code slotsPerQuery} slots per query, -1 marks the end of a segment's list. */
    static void mergeCandidates(BoundedTopK[] best, int batchStart, int batchRows, int tileStart, int slotsPerQuery,
                                int[] rows, float[] distances) {
        for (int q = 0; q < batchRows; q++) {
            BoundedTopK target = best[batchStart + q];
            int from = q * slotsPerQuery;
            for (int slot = from; slot < from + slotsPerQuery; slot++) {
                if (rows[slot] >= 0) {
                    target.offer(tileStart + rows[slot], distances[slot]);
                }
            }
        }
    }

    static void mergeBlock(BoundedTopK[] best, int batchStart, int batchRows, int tileStart, int tileRows,
                           float[] block) {
        for (int q = 0; q < batchRows; q++) {
            BoundedTopK target = best[batchStart + q];
            int rowStart = q * tileRows;
            for (int b = 0; b < tileRows; b++) {
                target.offer(tileStart + b, block[rowStart + b]);
            }
        }
    }

    private static void checkMatrix(String name, float[] matrix, int rows, int dims) {
        Objects.requireNonNull(matrix, name);
        if (rows < 0 || dims < 1) {
            throw new IllegalArgumentException(name + ": rows must be >= 0 and dims >= 1, got rows="
                    + rows + " dims=" + dims);
        }
        if ((long) rows * dims > matrix.length) {
            throw new IllegalArgumentException(name + ": " + rows + " rows of " + dims
                    + " floats need " + (long) rows * dims + " elements, array has " + matrix.length);
        }
    }
}
