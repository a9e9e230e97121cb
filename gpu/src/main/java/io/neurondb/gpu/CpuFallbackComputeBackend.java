package io.neurondb.gpu;

import io.neurondb.engine.Metric;
import io.neurondb.engine.compute.ComputeBackend;
import java.util.Objects;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The GPU backend with the CPU one behind it: when a device call fails (a driver error, an
 * out-of-memory on the device, a lost device), that call is answered by the CPU backend and
 * so is every later one, after one warning. A GPU that failed once is not trusted again in
 * this run: retrying a lost or wedged device on every query would only add latency.
 *
 * <p>Invalid arguments are the caller's error, not the device's, and are thrown as they are.
 */
public final class CpuFallbackComputeBackend implements ComputeBackend {

    private static final Logger LOG = LoggerFactory.getLogger(CpuFallbackComputeBackend.class);

    private final ComputeBackend gpu;
    private final ComputeBackend cpu;
    private volatile boolean gpuFailed;

    public CpuFallbackComputeBackend(ComputeBackend gpu, ComputeBackend cpu) {
        this.gpu = Objects.requireNonNull(gpu, "gpu");
        this.cpu = Objects.requireNonNull(cpu, "cpu");
    }

    /** The GPU backend's name until it fails, then the CPU backend's. */
    @Override
    public String name() {
        return gpuFailed ? cpu.name() : gpu.name();
    }

    /** Whether calls still go to the GPU. */
    public boolean onGpu() {
        return !gpuFailed;
    }

    @Override
    public int[] assignNearest(float[] vectors, int vectorCount, float[] centroids, int centroidCount, int dims,
                               Metric metric) {
        return call(() -> gpu.assignNearest(vectors, vectorCount, centroids, centroidCount, dims, metric),
                () -> cpu.assignNearest(vectors, vectorCount, centroids, centroidCount, dims, metric));
    }

    @Override
    public TopK[] topK(float[] queries, int queryCount, float[] base, int baseCount, int dims, Metric metric, int k) {
        return call(() -> gpu.topK(queries, queryCount, base, baseCount, dims, metric, k),
                () -> cpu.topK(queries, queryCount, base, baseCount, dims, metric, k));
    }

    /** Closes both backends. */
    @Override
    public void close() {
        try {
            gpu.close();
        } finally {
            cpu.close();
        }
    }

    private <T> T call(Supplier<T> onGpu, Supplier<T> onCpu) {
        if (gpuFailed) {
            return onCpu.get();
        }
        try {
            return onGpu.get();
        } catch (CudaFailure | LinkageError | IllegalStateException failure) {
            switchToCpu(failure);
            return onCpu.get();
        }
    }

    private synchronized void switchToCpu(Throwable failure) {
        if (gpuFailed) {
            return;
        }
        gpuFailed = true;
        LOG.warn("GPU compute failed on {} ({}); using CPU backend {} from now on",
                gpu.name(), Failures.describe(failure), cpu.name());
        LOG.debug("GPU failure", failure);
    }
}
