package io.neurondb.gpu;

import io.neurondb.engine.Metric;
import io.neurondb.engine.compute.ComputeBackend;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * {@link ComputeBackend} on one CUDA device: kernels compiled at start by NVRTC, each call
 * cut into tiles by {@link TilePlan} so its device memory stays within a budget, buffers
 * freed when the call returns. Obtain it through {@link GpuSupport}, which falls back to
 * the CPU when this cannot be built.
 *
 * <p>Calls are serialised: the kernels already fill the device, and one call at a time
 * keeps the memory bound per backend rather than per caller thread.
 */
public final class CudaComputeBackend implements ComputeBackend {

    /** Default cap on the device memory one call may use. */
    public static final long DEFAULT_MEMORY_BUDGET_BYTES = 256L << 20;

    private final CudaDevice device;
    private final TiledSearch search;
    private final long memoryBudgetBytes;
    private final ReentrantLock lock = new ReentrantLock();
    private final KernelClock kernelClock = new KernelClock();
    private volatile boolean closed;

    private CudaComputeBackend(CudaDevice device, long memoryBudgetBytes) {
        this.device = device;
        this.memoryBudgetBytes = memoryBudgetBytes;
        this.search = new TiledSearch(TimedTileKernels.timed((plan, dims) -> new CudaTileKernels(device, plan, dims), kernelClock),
                memoryBudgetBytes);
    }

    /** The kernel time and launches of this backend's calls so far. */
    public KernelClock kernelClock() {
        return kernelClock;
    }

    /**
     * Opens device {@code ordinal} with a budget of at most {@code maxMemoryBudgetBytes}, and
     * at most half the device memory free at start (the rest is left to other processes and
     * to the driver).
     *
     * @throws CudaFailure   when a driver or NVRTC call fails
     * @throws LinkageError  when JCuda's or CUDA's native libraries cannot be loaded
     */
    public static CudaComputeBackend open(int ordinal, long maxMemoryBudgetBytes) {
        if (maxMemoryBudgetBytes <= 0) {
            throw new IllegalArgumentException("memory budget must be positive: " + maxMemoryBudgetBytes);
        }
        CudaDevice device = CudaDevice.open(ordinal);
        try {
            long free = device.inContext(device::freeMemoryBytes);
            // No floor: a nearly full device gets small tiles, which is slow but correct.
            long budget = Math.max(1, Math.min(maxMemoryBudgetBytes, free / 2));
            return new CudaComputeBackend(device, budget);
        } catch (RuntimeException | Error e) {
            device.close();
            throw e;
        }
    }

    /** Opens device {@code ordinal} with {@link #DEFAULT_MEMORY_BUDGET_BYTES}. */
    public static CudaComputeBackend open(int ordinal) {
        return open(ordinal, DEFAULT_MEMORY_BUDGET_BYTES);
    }

    @Override
    public String name() {
        return "cuda:" + device.ordinal();
    }

    /** For the startup log line: device name, compute capability and memory budget. */
    public String description() {
        int capability = device.computeCapability();
        return name() + " (" + device.deviceName() + ", compute " + capability / 10 + "." + capability % 10
                + ", budget " + (memoryBudgetBytes >= 1L << 20
                        ? (memoryBudgetBytes >> 20) + " MiB" : (memoryBudgetBytes >> 10) + " KiB") + " per call)";
    }

    @Override
    public int[] assignNearest(float[] vectors, int vectorCount, float[] centroids, int centroidCount, int dims,
                               Metric metric) {
        return exclusively(() -> search.assignNearest(vectors, vectorCount, centroids, centroidCount, dims, metric));
    }

    @Override
    public TopK[] topK(float[] queries, int queryCount, float[] base, int baseCount, int dims, Metric metric, int k) {
        return exclusively(() -> search.topK(queries, queryCount, base, baseCount, dims, metric, k));
    }

    @Override
    public void close() {
        lock.lock();
        try {
            if (!closed) {
                closed = true;
                device.close();
            }
        } finally {
            lock.unlock();
        }
    }

    private <T> T exclusively(Supplier<T> work) {
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException(name() + " is closed");
            }
            return device.inContext(work);
        } finally {
            lock.unlock();
        }
    }
}
