package io.neurondb.engine.compute;

import io.neurondb.engine.Metric;
import io.neurondb.engine.util.NodeHeap;
import io.neurondb.engine.vector.VectorizationProvider;

import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * The default {@link ComputeBackend}: the SIMD kernels of {@link VectorizationProvider}, spread
 * over the common fork-join pool when the work is large enough to pay for it. Stateless and
 * thread-safe.
 */
public final class CpuComputeBackend implements ComputeBackend {

    /** Below about this many multiply-adds, running on the calling thread is faster. */
    private static final long PARALLEL_WORK_THRESHOLD = 1L << 22;

    private final VectorizationProvider kernels;

    public CpuComputeBackend() {
        this(VectorizationProvider.get());
    }

    public CpuComputeBackend(VectorizationProvider kernels) {
        this.kernels = kernels;
    }

    @Override
    public String name() {
        return "cpu-" + kernels.name();
    }

    @Override
    public int[] assignNearest(float[] vectors, int vectorCount, float[] centroids, int centroidCount,
                               int dims, Metric metric) {
        float[] centroidNorms = metric == Metric.COSINE ? norms(centroids, centroidCount, dims) : null;
        int[] out = new int[vectorCount];
        IntStream rows = IntStream.range(0, vectorCount);
        if ((long) vectorCount * centroidCount * dims > PARALLEL_WORK_THRESHOLD) {
            rows = rows.parallel();
        }
        rows.forEach(i -> {
            float vNorm = centroidNorms == null ? 0 : norm(vectors, i * dims, dims);
            int best = 0;
            float bestDist = Float.POSITIVE_INFINITY;
            for (int c = 0; c < centroidCount; c++) {
                float d = distance(metric, vectors, i * dims, vNorm, centroids, c * dims,
                        centroidNorms == null ? 0 : centroidNorms[c], dims);
                if (d < bestDist) {
                    bestDist = d;
                    best = c;
                }
            }
            out[i] = best;
        });
        return out;
    }

    @Override
    public TopK[] topK(float[] queries, int queryCount, float[] base, int baseCount, int dims, Metric metric, int k) {
        float[] baseNorms = metric == Metric.COSINE ? norms(base, baseCount, dims) : null;
        TopK[] out = new TopK[queryCount];
        IntStream qs = IntStream.range(0, queryCount);
        if (queryCount > 1 && (long) queryCount * baseCount * dims > PARALLEL_WORK_THRESHOLD) {
            qs = qs.parallel();
        }
        qs.forEach(q -> {
            float qNorm = baseNorms == null ? 0 : norm(queries, q * dims, dims);
            NodeHeap heap = NodeHeap.farthestFirst(k + 1);
            for (int r = 0; r < baseCount; r++) {
                float d = distance(metric, queries, q * dims, qNorm, base, r * dims,
                        baseNorms == null ? 0 : baseNorms[r], dims);
                heap.pushBounded(r, d, k);
            }
            long[] sorted = heap.toEncodedArray();
            Arrays.sort(sorted);
            int[] rows = new int[sorted.length];
            float[] dists = new float[sorted.length];
            for (int i = 0; i < sorted.length; i++) {
                rows[i] = NodeHeap.node(sorted[i]);
                dists[i] = NodeHeap.distance(sorted[i]);
            }
            out[q] = new TopK(rows, dists);
        });
        return out;
    }

    /**
     * Distance in the engine's internal form (L2 squared, negative inner product, 1 - cosine,
     * L1). Cosine divides by the norms here because callers may pass unnormalised rows.
     */
    private float distance(Metric metric, float[] a, int ao, float aNorm, float[] b, int bo, float bNorm, int dims) {
        return switch (metric) {
            case L2 -> kernels.squareDistance(a, ao, b, bo, dims);
            case INNER_PRODUCT -> -kernels.dotProduct(a, ao, b, bo, dims);
            case L1 -> kernels.l1Distance(a, ao, b, bo, dims);
            case COSINE -> {
                float denom = aNorm * bNorm;
                yield denom == 0 ? 1f : 1f - kernels.dotProduct(a, ao, b, bo, dims) / denom;
            }
        };
    }

    private float[] norms(float[] m, int rows, int dims) {
        float[] out = new float[rows];
        for (int r = 0; r < rows; r++) {
            out[r] = norm(m, r * dims, dims);
        }
        return out;
    }

    private float norm(float[] m, int off, int dims) {
        return (float) Math.sqrt(kernels.dotProduct(m, off, m, off, dims));
    }
}
