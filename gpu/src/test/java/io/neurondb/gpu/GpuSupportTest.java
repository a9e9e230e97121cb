package io.neurondb.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.neurondb.engine.Metric;
import io.neurondb.engine.compute.ComputeBackend;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class GpuSupportTest {

    private final Logger logger = (Logger) LoggerFactory.getLogger(GpuSupport.class);
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

    /** Events at INFO and above: what an operator sees. */
    private List<ILoggingEvent> visibleLines() {
        return log.list.stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.INFO)).toList();
    }

    private static final CudaProbe MUST_NOT_PROBE = () -> {
        throw new AssertionError("probed although neurondb.gpu=off");
    };

    @Test
    void onThisMachineDetectionDegradesToCpuWithOneClearLine() {
        CudaProbe.Result probe = new JCudaProbe().probe();
        assumeTrue(probe.deviceCount() == 0,
                "a CUDA device is present here; the fallback is covered by the fake-probe tests below");

        GpuSupport gpu = GpuSupport.detect(GpuSetting.AUTO);

        assertThat(gpu.enabled()).isFalse();
        assertThat(gpu.deviceCount()).isZero();
        assertThat(gpu.backend()).isEmpty();
        assertThat(gpu.kernelClock().launches()).isZero();
        assertThat(gpu.kernelClock().nanos()).isZero();
        assertThat(gpu.disabledReason()).hasValueSatisfying(reason -> assertThat(reason)
                .satisfiesAnyOf(
                        r -> assertThat(r).startsWith("JCuda native libraries not loadable: "),
                        r -> assertThat(r).startsWith("no CUDA device found"),
                        r -> assertThat(r).startsWith("CUDA driver not usable"))
                .doesNotContain("\n"));
        assertThat(visibleLines()).singleElement().satisfies(line -> {
            assertThat(line.getLevel()).isEqualTo(Level.INFO);
            assertThat(line.getFormattedMessage())
                    .isEqualTo("GPU compute disabled: " + gpu.disabledReason().orElseThrow() + "; using CPU backend");
        });
    }

    @Test
    void offDoesNotTouchNativeCode() {
        GpuSupport gpu = GpuSupport.detect(GpuSetting.OFF, MUST_NOT_PROBE, ordinal -> {
            throw new AssertionError("opened although neurondb.gpu=off");
        });
        assertThat(gpu.enabled()).isFalse();
        assertThat(gpu.deviceCount()).isZero();
        assertThat(gpu.disabledReason()).contains("neurondb.gpu=off");
        assertThat(visibleLines()).singleElement().satisfies(line -> {
            assertThat(line.getLevel()).isEqualTo(Level.INFO);
            assertThat(line.getFormattedMessage())
                    .isEqualTo("GPU compute disabled: neurondb.gpu=off; using CPU backend");
        });
    }

    @Test
    void systemPropertyOffIsHonoured() {
        String before = System.getProperty(GpuSetting.PROPERTY);
        System.setProperty(GpuSetting.PROPERTY, "off");
        try {
            GpuSupport gpu = GpuSupport.detect();
            assertThat(gpu.enabled()).isFalse();
            assertThat(gpu.disabledReason()).contains("neurondb.gpu=off");
        } finally {
            if (before == null) {
                System.clearProperty(GpuSetting.PROPERTY);
            } else {
                System.setProperty(GpuSetting.PROPERTY, before);
            }
        }
    }

    @Test
    void noDeviceIsInfoUnderAutoAndWarningUnderOn() {
        CudaProbe none = () -> CudaProbe.Result.none("no CUDA device found (cuInit: CUDA_ERROR_NO_DEVICE)");
        GpuSupport auto = GpuSupport.detect(GpuSetting.AUTO, none, ordinal -> {
            throw new AssertionError("opened without a device");
        });
        GpuSupport on = GpuSupport.detect(GpuSetting.ON, none, ordinal -> {
            throw new AssertionError("opened without a device");
        });
        assertThat(auto.enabled()).isFalse();
        assertThat(on.enabled()).isFalse();
        assertThat(visibleLines()).extracting(ILoggingEvent::getLevel).containsExactly(Level.INFO, Level.WARN);
        assertThat(visibleLines()).extracting(ILoggingEvent::getFormattedMessage).containsOnly(
                "GPU compute disabled: no CUDA device found (cuInit: CUDA_ERROR_NO_DEVICE); using CPU backend");
    }

    @Test
    void aDeviceWhoseBackendCannotBeOpenedFallsBackWithAWarning() {
        GpuSupport gpu = GpuSupport.detect(GpuSetting.AUTO, () -> CudaProbe.Result.found(2), ordinal -> {
            throw new UnsatisfiedLinkError("libnvrtc.so.12: cannot open shared object file");
        });
        assertThat(gpu.enabled()).isFalse();
        assertThat(gpu.deviceCount()).isEqualTo(2);
        assertThat(gpu.disabledReason()).hasValue(
                "2 CUDA device(s) found but the backend could not be opened: "
                        + "libnvrtc.so.12: cannot open shared object file");
        assertThat(visibleLines()).singleElement()
                .satisfies(line -> assertThat(line.getLevel()).isEqualTo(Level.WARN));
    }

    @Test
    void aWorkingDeviceYieldsItsBackend() {
        ComputeBackend fake = new ComputeBackend() {
            @Override
            public String name() {
                return "fake:0";
            }

            @Override
            public int[] assignNearest(float[] v, int vc, float[] c, int cc, int dims, Metric metric) {
                return new int[vc];
            }

            @Override
            public TopK[] topK(float[] q, int qc, float[] b, int bc, int dims, Metric metric, int k) {
                return new TopK[qc];
            }
        };
        GpuSupport gpu = GpuSupport.detect(GpuSetting.AUTO, () -> CudaProbe.Result.found(1), ordinal -> fake);
        assertThat(gpu.enabled()).isTrue();
        assertThat(gpu.deviceCount()).isEqualTo(1);
        assertThat(gpu.backend()).containsSame(fake);
        assertThat(gpu.disabledReason()).isEmpty();
        assertThat(visibleLines()).singleElement().satisfies(line -> assertThat(line.getFormattedMessage())
                .isEqualTo("GPU compute enabled: fake:0 of 1 CUDA device(s)"));
    }

    @Test
    void outOfMemoryIsNotMistakenForAMissingGpu() {
        assertThatThrownBy(() -> GpuSupport.detect(GpuSetting.AUTO, () -> CudaProbe.Result.found(1), ordinal -> {
            throw new OutOfMemoryError("test");
        })).isInstanceOf(OutOfMemoryError.class);
    }

    @Test
    void settingsParse() {
        assertThat(GpuSetting.parse(null)).isEqualTo(GpuSetting.AUTO);
        assertThat(GpuSetting.parse(" ")).isEqualTo(GpuSetting.AUTO);
        assertThat(GpuSetting.parse("Auto")).isEqualTo(GpuSetting.AUTO);
        assertThat(GpuSetting.parse("OFF")).isEqualTo(GpuSetting.OFF);
        assertThat(GpuSetting.parse("false")).isEqualTo(GpuSetting.OFF);
        assertThat(GpuSetting.parse("on")).isEqualTo(GpuSetting.ON);
        assertThatThrownBy(() -> GpuSetting.parse("of"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("neurondb.gpu=of");
    }
}
