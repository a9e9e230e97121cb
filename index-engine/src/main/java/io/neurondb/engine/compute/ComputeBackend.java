package io.neurondb.engine.compute;

import io.neurondb.engine.Metric;

/**
 * Bulk distance work that an accelerator may take over: IVF k-means assignment and list
 * scans, and batched exact top-k. The CPU implementation is the default; the {@code gpu}
 * module provides a CUDA one. Implementations must give the same answers as the CPU one
 * within float tolerance (ties may order differently).
 *
 * <p>Vectors are passed densely: row {@code i} of a matrix with {@code dims} columns starts
 * at offset {@code i * dims}.
 */
public interface ComputeBackend extends AutoCloseable {

    /** Short name for logs and metrics, e.g. {@code "cpu-simd"} or {@code "cuda:0"}. */
    String name();

    /**
     * For each of {@code vectorCount} vectors, the index of the nearest of
     * {@code centroidCount} centroids under {@code metric}.
     */
    int[] assignNearest(float[] vectors, int vectorCount, float[] centroids, int centroidCount,
                        int dims, Metric metric);

    /**
     * Exact top-k of {@code baseCount} base rows for each of {@code queryCount} queries.
     * Result row {@code q} holds at most {@code k} base row indexes, nearest first, with their
     * distances.
     */
    TopK[] topK(float[] queries, int queryCount, float[] base, int baseCount, int dims,
                Metric metric, int k);

    @Override
    default void close() {
    }

    /** Nearest rows of one query: parallel arrays, nearest first. */
    record TopK(int[] rows, float[] distances) {
        public int size() {
            return rows.length;
        }
    }
}
