package io.neurondb.gpu;

import java.util.Objects;

/**
 * {@link TileKernels} that feed a {@link KernelClock}: every step that launches a kernel
 * ({@link #computeDistances}, {@link #selectSegments}, {@link #foldNearest}) or copies
 * kernel results back and so waits for them ({@link #readDistances}, {@link #readNearest})
 * is timed; the uploads are passed through untimed. Wraps the CUDA kernels in production
 * and the plain-Java reference kernels in tests.
 */
final class TimedTileKernels implements TileKernels {

    private final TileKernels kernels;
    private final KernelClock clock;

    TimedTileKernels(TileKernels kernels, KernelClock clock) {
        this.kernels = Objects.requireNonNull(kernels, "kernels");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** A factory whose kernels are timed on {@code clock}. */
    static Factory timed(Factory factory, KernelClock clock) {
        Objects.requireNonNull(factory, "factory");
        return (plan, dims) -> new TimedTileKernels(factory.open(plan, dims), clock);
    }

    @Override
    public void loadQueries(float[] source, int firstRow, int rows) {
        kernels.loadQueries(source, firstRow, rows);
    }

    @Override
    public void loadBase(float[] source, int firstRow, int rows) {
        kernels.loadBase(source, firstRow, rows);
    }

    @Override
    public void computeDistances(int kernelMetric) {
        long t = clock.start();
        try {
            kernels.computeDistances(kernelMetric);
        } finally {
            clock.stop(t, 1);
        }
    }

    @Override
    public void selectSegments(int segmentRows, int segments, int k, int[] rowsOut, float[] distancesOut) {
        long t = clock.start();
        try {
            kernels.selectSegments(segmentRows, segments, k, rowsOut, distancesOut);
        } finally {
            clock.stop(t, 1);
        }
    }

    @Override
    public void readDistances(float[] out) {
        long t = clock.start();
        try {
            kernels.readDistances(out);
        } finally {
            clock.stop(t, 0);
        }
    }

    @Override
    public void foldNearest(int columnOffset) {
        long t = clock.start();
        try {
            kernels.foldNearest(columnOffset);
        } finally {
            clock.stop(t, 1);
        }
    }

    @Override
    public void readNearest(int[] out) {
        long t = clock.start();
        try {
            kernels.readNearest(out);
        } finally {
            clock.stop(t, 0);
        }
    }

    @Override
    public void close() {
        kernels.close();
    }
}
