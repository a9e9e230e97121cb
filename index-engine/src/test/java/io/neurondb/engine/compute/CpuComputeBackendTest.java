package io.neurondb.engine.compute;

import io.neurondb.engine.Metric;
import io.neurondb.engine.TestData;
import io.neurondb.engine.vector.VectorizationProvider;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class CpuComputeBackendTest {

    private static double naive(Metric metric, float[] a, int ao, float[] b, int bo, int dims) {
        double dot = 0, na = 0, nb = 0, l2 = 0, l1 = 0;
        for (int i = 0; i < dims; i++) {
            double x = a[ao + i], y = b[bo + i];
            dot += x * y;
            na += x * x;
            nb += y * y;
            l2 += (x - y) * (x - y);
            l1 += Math.abs(x - y);
        }
        return switch (metric) {
            case L2 -> l2;
            case INNER_PRODUCT -> -dot;
            case COSINE -> 1 - dot / Math.sqrt(na * nb);
            case L1 -> l1;
        };
    }

    @ParameterizedTest
    @EnumSource(Metric.class)
    void assignNearestAndTopKMatchANaiveScan(Metric metric) {
        int dims = 37;
        float[] base = TestData.clustered(300, dims, 8, 41);
        float[] centroids = TestData.clustered(8, dims, 8, 41);
        float[] queries = TestData.clustered(5, dims, 8, 42);
        for (VectorizationProvider kernels : new VectorizationProvider[] {VectorizationProvider.scalar(), VectorizationProvider.get()}) {
            CpuComputeBackend backend = new CpuComputeBackend(kernels);
            int[] assigned = backend.assignNearest(base, 300, centroids, 8, dims, metric);
            for (int i = 0; i < 300; i++) {
                double best = naive(metric, base, i * dims, centroids, assigned[i] * dims, dims);
                for (int c = 0; c < 8; c++) {
                    assertThat(best).isLessThanOrEqualTo(naive(metric, base, i * dims, centroids, c * dims, dims) + 1e-4);
                }
            }
            ComputeBackend.TopK[] top = backend.topK(queries, 5, base, 300, dims, metric, 7);
            for (int q = 0; q < 5; q++) {
                assertThat(top[q].size()).isEqualTo(7);
                for (int i = 0; i < 7; i++) {
                    double d = naive(metric, queries, q * dims, base, top[q].rows()[i] * dims, dims);
                    assertThat((double) top[q].distances()[i]).isCloseTo(d, within(1e-3));
                }
                // Nothing outside the top 7 is nearer than the 7th.
                double seventh = top[q].distances()[6];
                int nearer = 0;
                for (int r = 0; r < 300; r++) {
                    if (naive(metric, queries, q * dims, base, r * dims, dims) < seventh - 1e-4) {
                        nearer++;
                    }
                }
                assertThat(nearer).isLessThanOrEqualTo(6);
            }
        }
    }
}
