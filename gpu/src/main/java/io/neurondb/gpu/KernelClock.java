package io.neurondb.gpu;

import java.util.Objects;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * Running totals of the GPU's kernel work, for the proxy's metrics
 * ({@code neurondb_gpu_kernel_seconds_total}, {@code neurondb_gpu_kernel_launches_total}).
 *
 * <p>What is timed is host-observed: from a kernel's launch until the step that launched it
 * returns, plus the synchronous copies back that wait for the kernels to finish. Launches are
 * asynchronous, so a kernel's device time shows up in the copy that waits for it; uploads of
 * queries and base tiles are not counted. This needs no CUDA events, so the same wrapper is
 * measured on machines without a device (see {@link TimedTileKernels}).
 *
 * <p>Thread-safe; counting is two {@link LongAdder} additions per step. With no GPU in use
 * the clock exists and stays at zero.
 */
public final class KernelClock {

    private final LongSupplier nanoTime;
    private final LongAdder nanos = new LongAdder();
    private final LongAdder launches = new LongAdder();

    public KernelClock() {
        this(System::nanoTime);
    }

    /** With a given time source, for tests. */
    KernelClock(LongSupplier nanoTime) {
        this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
    }

    /** Now, on this clock's time source; pass it to {@link #stop}. */
    long start() {
        return nanoTime.getAsLong();
    }

    /** Adds the time since {@code startedAt} and {@code kernelLaunches} kernel launches. */
    void stop(long startedAt, int kernelLaunches) {
        nanos.add(Math.max(0, nanoTime.getAsLong() - startedAt));
        if (kernelLaunches > 0) {
            launches.add(kernelLaunches);
        }
    }

    /** Total kernel time measured so far, in seconds. */
    public double seconds() {
        return nanos.sum() / 1e9;
    }

    /** Total kernel time measured so far, in nanoseconds. */
    public long nanos() {
        return nanos.sum();
    }

    /** Kernels launched so far. */
    public long launches() {
        return launches.sum();
    }
}
