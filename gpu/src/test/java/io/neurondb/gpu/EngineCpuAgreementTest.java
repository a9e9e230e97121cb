package io.neurondb.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.neurondb.engine.Metric;
import io.neurondb.engine.compute.ComputeBackend;
import io.neurondb.engine.compute.ComputeBackend.TopK;
import java.util.Random;
import org.assertj.core.data.Offset;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The contract of {@link ComputeBackend}: the same answers as the engine's CPU backend within
 * float tolerance. Checked with the GPU path's host logic and the kernels' Java reference.
 * The CPU backend is looked up by name, so that this module does not compile against a class
 * another module may rename; the test skips if it is not found.
 */
class EngineCpuAgreementTest {

    private static final String ENGINE_CPU_BACKEND = "io.neurondb.engine.compute.CpuComputeBackend";

    private static ComputeBackend engineCpuBackend() {
        try {
            return (ComputeBackend) Class.forName(ENGINE_CPU_BACKEND).getConstructor().newInstance();
        } catch (ReflectiveOperationException | ClassCastException e) {
            return null;
        }
    }

    @ParameterizedTest
    @EnumSource(Metric.class)
    void tiledSearchAgreesWithTheEngineCpuBackend(Metric metric) {
        ComputeBackend cpu = engineCpuBackend();
        assumeTrue(cpu != null, ENGINE_CPU_BACKEND + " not found; nothing to compare with");

        Random random = new Random(77 + metric.ordinal());
        int dims = 33;
        int queryCount = 12;
        int baseCount = 2500;
        int k = 15;
        float[] queries = BruteForce.randomMatrix(random, queryCount, dims);
        float[] base = BruteForce.randomMatrix(random, baseCount, dims);
        TiledSearch gpuPath = new TiledSearch(ReferenceTileKernels::new, 100_000);

        TopK[] expected = cpu.topK(queries, queryCount, base, baseCount, dims, metric, k);
        TopK[] actual = gpuPath.topK(queries, queryCount, base, baseCount, dims, metric, k);
        for (int q = 0; q < queryCount; q++) {
            assertThat(actual[q].size()).isEqualTo(expected[q].size());
            for (int i = 0; i < k; i++) {
                float want = expected[q].distances()[i];
                assertThat(actual[q].distances()[i]).as("%s query %d rank %d", metric, q, i)
                        .isCloseTo(want, Offset.offset(1e-4f * (1 + Math.abs(want))));
            }
        }

        int[] cpuAssigned = cpu.assignNearest(queries, queryCount, base, 50, dims, metric);
        int[] gpuAssigned = gpuPath.assignNearest(queries, queryCount, base, 50, dims, metric);
        for (int v = 0; v < queryCount; v++) {
            double cpuDistance = BruteForce.distance(metric, queries, v, base, cpuAssigned[v], dims);
            double gpuDistance = BruteForce.distance(metric, queries, v, base, gpuAssigned[v], dims);
            assertThat(gpuDistance).as("%s vector %d", metric, v)
                    .isCloseTo(cpuDistance, Offset.offset(BruteForce.tolerance(cpuDistance)));
        }
    }
}
