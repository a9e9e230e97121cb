package io.neurondb.gpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.neurondb.engine.Metric;
import io.neurondb.engine.compute.ComputeBackend.TopK;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;

/**
 * The metrics written out the obvious way, in double (cosine against a zero vector is 1, as
 * in the engine's CpuComputeBackend), and result checks that tolerate
 * float rounding and near-ties: the tested code must return rows whose true distances are
 * the k smallest, nearest first.
 */
final class BruteForce {

    private BruteForce() {
    }

    static double distance(Metric metric, float[] a, int aRow, float[] b, int bRow, int dims) {
        double dot = 0;
        double normA = 0;
        double normB = 0;
        double squared = 0;
        double manhattan = 0;
        for (int d = 0; d < dims; d++) {
            double x = a[aRow * dims + d];
            double y = b[bRow * dims + d];
            dot += x * y;
            normA += x * x;
            normB += y * y;
            squared += (x - y) * (x - y);
            manhattan += Math.abs(x - y);
        }
        return switch (metric) {
            case L2 -> squared;
            case INNER_PRODUCT -> -dot;
            case COSINE -> normA * normB == 0 ? 1 : 1 - dot / Math.sqrt(normA * normB);
            case L1 -> manhattan;
        };
    }

    static float[] randomMatrix(Random random, int rows, int dims) {
        float[] m = new float[rows * dims];
        for (int i = 0; i < m.length; i++) {
            m[i] = random.nextFloat() * 2 - 1;
        }
        return m;
    }

    static double tolerance(double distance) {
        return 1e-4 * (1 + Math.abs(distance));
    }

    /** Every query's distance to every base row: {@code [query][row]}. */
    static double[][] allDistances(Metric metric, float[] queries, int queryCount, float[] base, int baseCount,
                                   int dims) {
        double[][] all = new double[queryCount][baseCount];
        for (int q = 0; q < queryCount; q++) {
            for (int b = 0; b < baseCount; b++) {
                all[q][b] = distance(metric, queries, q, base, b, dims);
            }
        }
        return all;
    }

    static void assertTopK(TopK actual, Metric metric, float[] queries, int q, float[] base, int baseCount, int dims,
                           int k) {
        double[] truth = new double[baseCount];
        for (int b = 0; b < baseCount; b++) {
            truth[b] = distance(metric, queries, q, base, b, dims);
        }
        assertTopK(actual, truth, k, "query " + q);
    }

    /** {@code truth[row]} is the true distance of base row {@code row} from the query. */
    static void assertTopK(TopK actual, double[] truth, int k, String query) {
        double[] sorted = truth.clone();
        Arrays.sort(sorted);
        int expectedSize = Math.min(k, truth.length);
        assertThat(actual.size()).as("result size of %s", query).isEqualTo(expectedSize);
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < expectedSize; i++) {
            int row = actual.rows()[i];
            float reported = actual.distances()[i];
            assertThat(row).as("row %d of %s", i, query).isBetween(0, truth.length - 1);
            assertThat(seen.add(row)).as("row %d returned twice for %s", row, query).isTrue();
            assertThat((double) reported).as("reported distance of row %d, %s", row, query)
                    .isCloseTo(truth[row], org.assertj.core.data.Offset.offset(tolerance(truth[row])));
            assertThat((double) reported).as("rank %d of %s", i, query)
                    .isCloseTo(sorted[i], org.assertj.core.data.Offset.offset(tolerance(sorted[i])));
            if (i > 0) {
                assertThat(reported).as("order at rank %d of %s", i, query)
                        .isGreaterThanOrEqualTo(actual.distances()[i - 1]);
            }
        }
    }

    static void assertAssignment(int[] assigned, Metric metric, float[] vectors, int vectorCount, float[] centroids,
                                 int centroidCount, int dims) {
        assertThat(assigned).hasSize(vectorCount);
        for (int v = 0; v < vectorCount; v++) {
            double best = Double.POSITIVE_INFINITY;
            for (int c = 0; c < centroidCount; c++) {
                best = Math.min(best, distance(metric, vectors, v, centroids, c, dims));
            }
            assertThat(assigned[v]).as("centroid of vector %d", v).isBetween(0, centroidCount - 1);
            double chosen = distance(metric, vectors, v, centroids, assigned[v], dims);
            assertThat(chosen).as("distance to chosen centroid of vector %d", v)
                    .isLessThanOrEqualTo(best + tolerance(best));
        }
    }
}
