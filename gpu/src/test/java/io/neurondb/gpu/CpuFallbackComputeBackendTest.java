package io.neurondb.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.neurondb.engine.Metric;
import io.neurondb.engine.compute.ComputeBackend;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class CpuFallbackComputeBackendTest {

    private final Logger logger = (Logger) LoggerFactory.getLogger(CpuFallbackComputeBackend.class);
    private final ListAppender<ILoggingEvent> log = new ListAppender<>();

    @BeforeEach
    void captureLog() {
        log.start();
        logger.addAppender(log);
    }

    @AfterEach
    void releaseLog() {
        logger.detachAppender(log);
    }

    /** Answers every top-k with one row: its own marker. */
    private static final class Fake implements ComputeBackend {
        final String name;
        final int marker;
        final AtomicInteger calls = new AtomicInteger();
        RuntimeException failure;
        boolean closed;

        Fake(String name, int marker) {
            this.name = name;
            this.marker = marker;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public int[] assignNearest(float[] v, int vc, float[] c, int cc, int dims, Metric metric) {
            calls.incrementAndGet();
            if (failure != null) {
                throw failure;
            }
            return new int[] {marker};
        }

        @Override
        public TopK[] topK(float[] q, int qc, float[] b, int bc, int dims, Metric metric, int k) {
            calls.incrementAndGet();
            if (failure != null) {
                throw failure;
            }
            return new TopK[] {new TopK(new int[] {marker}, new float[] {0f})};
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    private static final float[] ONE = {1f};

    @Test
    void usesTheGpuWhileItWorks() {
        Fake gpu = new Fake("cuda:0", 1);
        Fake cpu = new Fake("cpu", 2);
        CpuFallbackComputeBackend backend = new CpuFallbackComputeBackend(gpu, cpu);
        assertThat(backend.topK(ONE, 1, ONE, 1, 1, Metric.L2, 1)[0].rows()).containsExactly(1);
        assertThat(backend.assignNearest(ONE, 1, ONE, 1, 1, Metric.L2)).containsExactly(1);
        assertThat(backend.name()).isEqualTo("cuda:0");
        assertThat(cpu.calls).hasValue(0);
        assertThat(log.list).isEmpty();
    }

    @Test
    void aDeviceFailureMovesThisAndEveryLaterCallToTheCpuWithOneWarning() {
        Fake gpu = new Fake("cuda:0", 1);
        gpu.failure = new CudaFailure("cuMemAlloc(1048576 bytes) failed: CUDA_ERROR_OUT_OF_MEMORY");
        Fake cpu = new Fake("cpu", 2);
        CpuFallbackComputeBackend backend = new CpuFallbackComputeBackend(gpu, cpu);

        assertThat(backend.topK(ONE, 1, ONE, 1, 1, Metric.L2, 1)[0].rows()).containsExactly(2);
        assertThat(backend.assignNearest(ONE, 1, ONE, 1, 1, Metric.L2)).containsExactly(2);
        assertThat(backend.topK(ONE, 1, ONE, 1, 1, Metric.L2, 1)[0].rows()).containsExactly(2);

        assertThat(gpu.calls).as("the GPU is not retried").hasValue(1);
        assertThat(backend.onGpu()).isFalse();
        assertThat(backend.name()).isEqualTo("cpu");
        assertThat(log.list).singleElement().satisfies(line -> {
            assertThat(line.getLevel()).isEqualTo(Level.WARN);
            assertThat(line.getFormattedMessage()).isEqualTo("GPU compute failed on cuda:0 "
                    + "(cuMemAlloc(1048576 bytes) failed: CUDA_ERROR_OUT_OF_MEMORY); using CPU backend cpu from now on");
        });
    }

    @Test
    void invalidArgumentsAreNotADeviceFailure() {
        Fake gpu = new Fake("cuda:0", 1);
        gpu.failure = new IllegalArgumentException("k must be >= 0: -1");
        Fake cpu = new Fake("cpu", 2);
        CpuFallbackComputeBackend backend = new CpuFallbackComputeBackend(gpu, cpu);
        assertThatThrownBy(() -> backend.topK(ONE, 1, ONE, 1, 1, Metric.L2, -1))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(backend.onGpu()).isTrue();
        assertThat(cpu.calls).hasValue(0);
    }

    @Test
    void closesBoth() {
        Fake gpu = new Fake("cuda:0", 1);
        Fake cpu = new Fake("cpu", 2);
        new CpuFallbackComputeBackend(gpu, cpu).close();
        assertThat(gpu.closed).isTrue();
        assertThat(cpu.closed).isTrue();
    }

    @Test
    void gpuSupportHandsOutTheCpuAloneWhenThereIsNoGpu() {
        Fake cpu = new Fake("cpu", 2);
        GpuSupport none = GpuSupport.detect(GpuSetting.OFF, () -> {
            throw new AssertionError("not probed");
        }, ordinal -> {
            throw new AssertionError("not opened");
        });
        assertThat(none.orCpu(cpu)).isSameAs(cpu);

        Fake gpu = new Fake("cuda:0", 1);
        GpuSupport one = GpuSupport.detect(GpuSetting.AUTO, () -> CudaProbe.Result.found(1), ordinal -> gpu);
        assertThat(one.orCpu(cpu)).isInstanceOf(CpuFallbackComputeBackend.class)
                .extracting(ComputeBackend::name).isEqualTo("cuda:0");
    }
}
