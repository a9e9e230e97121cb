package io.neurondb.engine.vector;

import io.neurondb.engine.Metric;

/**
 * The internal distance of one metric: smaller is closer, and it orders rows exactly as the
 * reported distance does. L2 stays squared (no sqrt per comparison); cosine is computed as
 * {@code 1 - dot} on vectors that {@link #prepare} normalised once, at insert and query time.
 */
public final class Distance {

    private final Metric metric;
    private final VectorizationProvider kernels;

    public Distance(Metric metric, VectorizationProvider kernels) {
        this.metric = metric;
        this.kernels = kernels;
    }

    public static Distance of(Metric metric) {
        return new Distance(metric, VectorizationProvider.get());
    }

    public Metric metric() {
        return metric;
    }

    public VectorizationProvider kernels() {
        return kernels;
    }

    public float between(float[] a, int aOffset, float[] b, int bOffset, int dims) {
        return switch (metric) {
            case L2 -> kernels.squareDistance(a, aOffset, b, bOffset, dims);
            case INNER_PRODUCT -> -kernels.dotProduct(a, aOffset, b, bOffset, dims);
            case COSINE -> 1f - kernels.dotProduct(a, aOffset, b, bOffset, dims);
            case L1 -> kernels.l1Distance(a, aOffset, b, bOffset, dims);
        };
    }

    /** Distances from {@code q} to four rows at once, into {@code out[0..3]}; see {@link VectorizationProvider#dotProduct4}. */
    public void between4(float[] q, int qo, float[] b0, int o0, float[] b1, int o1, float[] b2, int o2,
                         float[] b3, int o3, int dims, float[] out) {
        switch (metric) {
            case L2 -> kernels.squareDistance4(q, qo, b0, o0, b1, o1, b2, o2, b3, o3, dims, out);
            case INNER_PRODUCT, COSINE -> {
                kernels.dotProduct4(q, qo, b0, o0, b1, o1, b2, o2, b3, o3, dims, out);
                float base = metric == Metric.COSINE ? 1f : 0f;
                for (int i = 0; i < 4; i++) {
                    out[i] = base - out[i];
                }
            }
            case L1 -> {
                out[0] = kernels.l1Distance(q, qo, b0, o0, dims);
                out[1] = kernels.l1Distance(q, qo, b1, o1, dims);
                out[2] = kernels.l1Distance(q, qo, b2, o2, dims);
                out[3] = kernels.l1Distance(q, qo, b3, o3, dims);
            }
        }
    }

    /**
     * A copy of {@code v} in the form the engine stores and compares: unit length for cosine,
     * unchanged otherwise. The caller's array is never modified or retained.
     */
    public float[] prepare(float[] v) {
        float[] copy = v.clone();
        if (metric == Metric.COSINE) {
            normalize(copy, kernels);
        }
        return copy;
    }

    /** Scales {@code v} in place to unit length; a zero vector is left as it is. */
    public static void normalize(float[] v, VectorizationProvider kernels) {
        double norm = Math.sqrt(kernels.dotProduct(v, 0, v, 0, v.length));
        if (norm > 0) {
            float inv = (float) (1.0 / norm);
            for (int i = 0; i < v.length; i++) {
                v[i] *= inv;
            }
        }
    }
}
