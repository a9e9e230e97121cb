package io.neurondb.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.neurondb.engine.Metric;
import io.neurondb.engine.compute.ComputeBackend.TopK;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The CUDA backend against brute force. Skips itself where no usable CUDA device is
 * present (every machine of this project so far); {@link TiledSearchReferenceTest} runs the
 * same host logic and the kernels' algorithm in Java everywhere.
 */
class CudaComputeBackendDeviceTest {

    /** Small enough to force several tiles and segments on the shapes below. */
    private static final long SMALL_BUDGET = 64 << 10;

    private static CudaProbe.Result probe;
    private static CudaComputeBackend ample;
    private static CudaComputeBackend tiled;

    @BeforeAll
    static void openDevice() {
        probe = new JCudaProbe().probe();
        if (probe.deviceCount() > 0) {
            ample = CudaComputeBackend.open(0);
            tiled = CudaComputeBackend.open(0, SMALL_BUDGET);
        }
    }

    /** Per test rather than per class, so each skipped device test shows up in the report. */
    @BeforeEach
    void requireDevice() {
        assumeTrue(probe.deviceCount() > 0, () -> "no CUDA device, device test skipped: " + probe.problem());
    }

    @AfterAll
    static void closeDevice() {
        if (ample != null) {
            ample.close();
        }
        if (tiled != null) {
            tiled.close();
        }
    }

    @ParameterizedTest
    @EnumSource(Metric.class)
    void topKMatchesBruteForce(Metric metric) {
        Random random = new Random(100 + metric.ordinal());
        int dims = 37;
        int queryCount = 33;
        int baseCount = 5000;
        float[] queries = BruteForce.randomMatrix(random, queryCount, dims);
        float[] base = BruteForce.randomMatrix(random, baseCount, dims);
        double[][] truth = BruteForce.allDistances(metric, queries, queryCount, base, baseCount, dims);
        for (CudaComputeBackend backend : new CudaComputeBackend[] {ample, tiled}) {
            for (int k : new int[] {1, 10, KernelSource.MAX_DEVICE_K, 150}) {
                TopK[] results = backend.topK(queries, queryCount, base, baseCount, dims, metric, k);
                assertThat(results).hasSize(queryCount);
                for (int q = 0; q < queryCount; q++) {
                    BruteForce.assertTopK(results[q], truth[q], k, "query " + q + " on " + backend.name());
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Metric.class)
    void assignNearestMatchesBruteForce(Metric metric) {
        Random random = new Random(200 + metric.ordinal());
        int dims = 24;
        int vectorCount = 3000;
        int centroidCount = 300;
        float[] vectors = BruteForce.randomMatrix(random, vectorCount, dims);
        float[] centroids = BruteForce.randomMatrix(random, centroidCount, dims);
        for (CudaComputeBackend backend : new CudaComputeBackend[] {ample, tiled}) {
            int[] assigned = backend.assignNearest(vectors, vectorCount, centroids, centroidCount, dims, metric);
            BruteForce.assertAssignment(assigned, metric, vectors, vectorCount, centroids, centroidCount, dims);
        }
    }

    @Test
    void agreesWithTheJavaReferenceOfTheKernels() {
        Random random = new Random(5);
        int dims = 50;
        float[] queries = BruteForce.randomMatrix(random, 7, dims);
        float[] base = BruteForce.randomMatrix(random, 2000, dims);
        TiledSearch reference = new TiledSearch(ReferenceTileKernels::new, SMALL_BUDGET);
        TopK[] expected = reference.topK(queries, 7, base, 2000, dims, Metric.L2, 20);
        TopK[] actual = tiled.topK(queries, 7, base, 2000, dims, Metric.L2, 20);
        for (int q = 0; q < 7; q++) {
            for (int i = 0; i < 20; i++) {
                assertThat(actual[q].distances()[i]).isCloseTo(expected[q].distances()[i],
                        org.assertj.core.data.Offset.offset(1e-4f));
            }
        }
    }

    @Test
    void closedBackendRefusesWork() {
        CudaComputeBackend backend = CudaComputeBackend.open(0);
        assertThat(backend.name()).isEqualTo("cuda:0");
        backend.close();
        backend.close();
        float[] one = {1f};
        assertThatThrownBy(() -> backend.topK(one, 1, one, 1, 1, Metric.L2, 1))
                .isInstanceOf(IllegalStateException.class);
    }
}
