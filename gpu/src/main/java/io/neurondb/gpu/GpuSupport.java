package io.neurondb.gpu;

import io.neurondb.engine.compute.ComputeBackend;
import java.util.Objects;
import java.util.Optional;
import java.util.function.IntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides, once at start, whether vector compute runs on a GPU, and says why not when it
 * does not. The GPU is never required: every way it can be missing (setting {@code off}, no
 * JCuda natives, no driver, no device, no NVRTC, kernels that fail to build) ends in an
 * empty {@link #backend()}, a {@link #disabledReason()} and exactly one log line, and the
 * caller uses its CPU backend. Nothing here throws for a missing GPU.
 *
 * <pre>{@code
 * GpuSupport gpu = GpuSupport.detect();
 * ComputeBackend compute = gpu.orCpu(cpuBackend); // or gpu.backend().orElse(cpuBackend)
 * }</pre>
 *
 * <p>The backend, when present, is owned by the caller and must be closed by it.
 */
public final class GpuSupport {

    private static final Logger LOG = LoggerFactory.getLogger(GpuSupport.class);

    private final int deviceCount;
    private final ComputeBackend backend;
    private final String disabledReason;
    private final KernelClock kernelClock;

    private GpuSupport(int deviceCount, ComputeBackend backend, String disabledReason) {
        this.deviceCount = deviceCount;
        this.backend = backend;
        this.disabledReason = disabledReason;
        // Without a CUDA backend nothing launches kernels: a clock of its own that stays at zero.
        this.kernelClock = backend instanceof CudaComputeBackend cuda ? cuda.kernelClock() : new KernelClock();
    }

    /** Detects with the {@value GpuSetting#PROPERTY} system property (default {@code auto}). */
    public static GpuSupport detect() {
        return detect(GpuSetting.fromSystemProperty());
    }

    /** Detects with a setting from the proxy's configuration. */
    public static GpuSupport detect(GpuSetting setting) {
        return detect(setting, new JCudaProbe(), CudaComputeBackend::open);
    }

    static GpuSupport detect(GpuSetting setting, CudaProbe probe, IntFunction<? extends ComputeBackend> opener) {
        Objects.requireNonNull(setting, "setting");
        if (setting == GpuSetting.OFF) {
            // Deliberately no probe: "off" must not even load the native libraries.
            return disabled(setting, 0, GpuSetting.PROPERTY + "=off");
        }
        CudaProbe.Result found = probe.probe();
        if (found.deviceCount() == 0) {
            return disabled(setting, 0, found.problem());
        }
        ComputeBackend opened;
        try {
            opened = opener.apply(0);
        } catch (Throwable t) {
            Failures.rethrowIfFatal(t);
            LOG.debug("CUDA backend could not be opened", t);
            // A device exists, so this is a broken install (e.g. no libnvrtc), not a CPU-only host: warn.
            return disabled(GpuSetting.ON, found.deviceCount(),
                    found.deviceCount() + " CUDA device(s) found but the backend could not be opened: "
                            + Failures.describe(t));
        }
        String described = opened instanceof CudaComputeBackend cuda ? cuda.description() : opened.name();
        LOG.info("GPU compute enabled: {} of {} CUDA device(s)", described, found.deviceCount());
        return new GpuSupport(found.deviceCount(), opened, null);
    }

    private static GpuSupport disabled(GpuSetting setting, int deviceCount, String reason) {
        String line = "GPU compute disabled: " + reason + "; using CPU backend";
        if (setting == GpuSetting.ON) {
            LOG.warn(line);
        } else {
            LOG.info(line);
        }
        return new GpuSupport(deviceCount, null, reason);
    }

    /** Whether a GPU backend is ready; what {@code neurondb.gpu_enabled()} reports. */
    public boolean enabled() {
        return backend != null;
    }

    /**
     * CUDA devices the driver reported; what {@code neurondb.gpu_device_count()} reports. 0
     * when there are none, when CUDA could not be loaded, and with {@code neurondb.gpu=off}
     * (which does not look).
     */
    public int deviceCount() {
        return deviceCount;
    }

    /** The GPU backend, or empty when compute stays on the CPU. */
    public Optional<ComputeBackend> backend() {
        return Optional.ofNullable(backend);
    }

    /**
     * The backend to use: the GPU one guarded by {@code cpu} (see
     * {@link CpuFallbackComputeBackend}) when a GPU is ready, {@code cpu} itself otherwise.
     */
    public ComputeBackend orCpu(ComputeBackend cpu) {
        Objects.requireNonNull(cpu, "cpu");
        return backend == null ? cpu : new CpuFallbackComputeBackend(backend, cpu);
    }

    /**
     * GPU kernel time and launches so far (what {@code neurondb_gpu_kernel_seconds_total}
     * exports); always present, and zero while compute stays on the CPU.
     */
    public KernelClock kernelClock() {
        return kernelClock;
    }

    /** Why the GPU is not used, or empty when it is. */
    public Optional<String> disabledReason() {
        return Optional.ofNullable(disabledReason);
    }
}
