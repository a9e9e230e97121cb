package io.neurondb.gpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.neurondb.engine.Metric;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The Java constants that describe kernels.cu agree with it. */
class KernelSourceTest {

    private static final String SOURCE = KernelSource.load();

    private static Map<String, Integer> defines() {
        Map<String, Integer> defines = new HashMap<>();
        Matcher m = Pattern.compile("(?m)^#define\\s+(\\w+)\\s+(\\d+)\\s*$").matcher(SOURCE);
        while (m.find()) {
            defines.put(m.group(1), Integer.parseInt(m.group(2)));
        }
        return defines;
    }

    @Test
    void metricIdsMatchTheKernelDefines() {
        Map<String, Integer> defines = defines();
        for (Metric metric : Metric.values()) {
            assertThat(defines).as("kernels.cu defines METRIC_%s", metric)
                    .containsEntry("METRIC_" + metric.name(), KernelMetric.idOf(metric));
        }
    }

    @Test
    void sizesMatchTheKernelDefines() {
        assertThat(defines())
                .containsEntry("TILE", KernelSource.DISTANCE_BLOCK_SIDE)
                .containsEntry("MAX_DEVICE_K", KernelSource.MAX_DEVICE_K);
    }

    @Test
    void everyEntryPointIsAnUnmangledKernel() {
        for (String entry : KernelSource.ENTRY_POINTS) {
            assertThat(SOURCE).containsPattern("extern \"C\" __global__ void " + entry + "\\(");
        }
    }

    @Test
    void needsNoHeaders() {
        // NVRTC on the target has no include path set up; the source must stand alone.
        assertThat(SOURCE).doesNotContainPattern("(?m)^\\s*#include");
    }
}
