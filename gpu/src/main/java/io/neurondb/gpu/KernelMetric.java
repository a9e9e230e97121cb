package io.neurondb.gpu;

import io.neurondb.engine.Metric;

/**
 * The integer ids by which {@code kernels.cu} selects a metric. Kept apart from
 * {@link Metric#ordinal()} on purpose: reordering the engine's enum must not silently
 * change which formula the device runs. {@code KernelSourceTest} checks these against the
 * {@code #define}s in the kernel source.
 */
final class KernelMetric {

    static final int L2 = 0;
    static final int INNER_PRODUCT = 1;
    static final int COSINE = 2;
    static final int L1 = 3;

    private KernelMetric() {
    }

    static int idOf(Metric metric) {
        return switch (metric) {
            case L2 -> L2;
            case INNER_PRODUCT -> INNER_PRODUCT;
            case COSINE -> COSINE;
            case L1 -> L1;
        };
    }
}
