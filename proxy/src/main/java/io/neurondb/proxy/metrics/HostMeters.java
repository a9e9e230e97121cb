package io.neurondb.proxy.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.neurondb.gpu.KernelClock;
import io.micrometer.core.instrument.MeterRegistry;
import io.neurondb.gpu.GpuSupport;
import io.neurondb.proxy.plugin.PluginHost;
import io.neurondb.proxy.vectors.VectorDatabases;
import io.vertx.core.Vertx;

/**
 * The proxy's own meters in the host registry (exported by the metrics plugin when it is
 * loaded): sessions' connections, bytes and searches ({@link SessionMeters}), per-index gauges
 * ({@link IndexMeters}), the GPU ({@code neurondb_gpu_enabled}, {@code neurondb_gpu_devices},
 * {@code neurondb_gpu_kernel_seconds_total} and {@code neurondb_gpu_kernel_launches_total}, which
 * stay at 0 without a GPU; see {@link io.neurondb.gpu.KernelClock} for what is timed)
 * and plugins ({@code neurondb_plugins_started}, {@code neurondb_plugin_load_failures}: plugins
 * found in the plugins folder that are not in use because they failed to load or start).
 */
public final class HostMeters {

    private HostMeters() {
    }

    /**
     * Registers everything and starts the per-index refresh on {@code vertx}.
     *
     * @param vectors the engine side, or null when vector routing is off (no index meters then)
     * @return what sessions count into
     */
    public static SessionMeters bind(MeterRegistry registry, Vertx vertx, VectorDatabases vectors, GpuSupport gpu, PluginHost plugins) {
        Gauge.builder("neurondb.gpu.enabled", gpu, g -> g.enabled() ? 1 : 0).strongReference(true)
                .description("1 when kNN distance work runs on a GPU, 0 on the CPU").register(registry);
        Gauge.builder("neurondb.gpu.devices", gpu, GpuSupport::deviceCount).strongReference(true)
                .description("CUDA devices found at start").register(registry);
        KernelClock kernels = gpu.kernelClock();
        FunctionCounter.builder("neurondb.gpu.kernel", kernels, KernelClock::seconds).baseUnit("seconds")
                .description("Time in GPU kernel steps, from launch until their results are copied back").register(registry);
        FunctionCounter.builder("neurondb.gpu.kernel.launches", kernels, k -> (double) k.launches())
                .description("GPU kernels launched").register(registry);
        Gauge.builder("neurondb.plugins.started", plugins, p -> p.startedPluginIds().size()).strongReference(true)
                .description("Plugins loaded and in use").register(registry);
        Gauge.builder("neurondb.plugin.load.failures", plugins, p -> p.notStartedPluginIds().size()).strongReference(true)
                .description("Plugins in the plugins folder that failed to load or start and are not in use").register(registry);
        if (vectors != null) {
            IndexMeters indexes = new IndexMeters(registry, vectors);
            indexes.refresh();
            vertx.setPeriodic(IndexMeters.REFRESH_MILLIS, id -> indexes.refresh());
        }
        return new SessionMeters(registry);
    }
}
