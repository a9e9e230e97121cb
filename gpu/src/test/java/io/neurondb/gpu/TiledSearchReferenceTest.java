package io.neurondb.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.neurondb.engine.Metric;
import io.neurondb.engine.compute.ComputeBackend.TopK;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The whole GPU path minus the GPU: {@link TiledSearch} (tiling, batching, merging, result
 * assembly) over {@link ReferenceTileKernels} (the kernels' algorithm in Java), checked
 * against brute force. Budgets are tiny on purpose so that every call crosses several
 * base tiles, query batches and device segments.
 */
class TiledSearchReferenceTest {

    /** Forces ~a dozen tiles and several query batches on the shapes below. */
    private static final long TINY_BUDGET = 20_000;
    /** Tiles of a few segments each on the shapes below. */
    private static final long MEDIUM_BUDGET = 200_000;
    private static final long AMPLE_BUDGET = 64L << 20;

    private static TiledSearch search(long budget) {
        return new TiledSearch(ReferenceTileKernels::new, budget);
    }

    @ParameterizedTest
    @EnumSource(Metric.class)
    void topKMatchesBruteForceAcrossTilesAndSegments(Metric metric) {
        Random random = new Random(42 + metric.ordinal());
        int dims = 19; // not a multiple of the kernel's 16-wide slices
        int queryCount = 40;
        int baseCount = 5000;
        float[] queries = BruteForce.randomMatrix(random, queryCount, dims);
        float[] base = BruteForce.randomMatrix(random, baseCount, dims);

        // The tiny budget splits the queries into batches; the medium one gives tiles of
        // several device segments each. Both cut the base into many tiles.
        TilePlan batched = TilePlan.forTopK(queryCount, baseCount, dims, 10, TINY_BUDGET);
        assertThat(batched.queryRows()).as("several query batches").isLessThan(queryCount);
        assertThat(batched.baseRows()).as("several base tiles").isLessThan(baseCount / 3);
        TilePlan segmented = TilePlan.forTopK(queryCount, baseCount, dims, 10, MEDIUM_BUDGET);
        assertThat(segmented.segments(segmented.baseRows())).as("several segments per tile").isGreaterThan(1);
        assertThat(segmented.baseRows()).as("several base tiles").isLessThan(baseCount / 3);

        double[][] truth = BruteForce.allDistances(metric, queries, queryCount, base, baseCount, dims);
        for (long budget : new long[] {TINY_BUDGET, MEDIUM_BUDGET, AMPLE_BUDGET}) {
            for (int k : new int[] {1, 10, KernelSource.MAX_DEVICE_K}) {
                TopK[] results = search(budget).topK(queries, queryCount, base, baseCount, dims, metric, k);
                assertThat(results).hasSize(queryCount);
                for (int q = 0; q < queryCount; q++) {
                    BruteForce.assertTopK(results[q], truth[q], k, "query " + q + ", budget " + budget);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Metric.class)
    void largeKIsSelectedOnTheHostFromWholeBlocks(Metric metric) {
        Random random = new Random(7 + metric.ordinal());
        int dims = 8;
        int queryCount = 5;
        int baseCount = 700;
        int k = KernelSource.MAX_DEVICE_K + 37;
        float[] queries = BruteForce.randomMatrix(random, queryCount, dims);
        float[] base = BruteForce.randomMatrix(random, baseCount, dims);
        assertThat(TilePlan.forTopK(queryCount, baseCount, dims, k, TINY_BUDGET).selectsOnDevice()).isFalse();

        TopK[] results = search(TINY_BUDGET).topK(queries, queryCount, base, baseCount, dims, metric, k);
        for (int q = 0; q < queryCount; q++) {
            BruteForce.assertTopK(results[q], metric, queries, q, base, baseCount, dims, k);
        }
    }

    @Test
    void moreQueriesThanOneBatchHolds() {
        Random random = new Random(3);
        int dims = 4;
        int queryCount = TilePlan.MAX_QUERY_ROWS + 77;
        int baseCount = 90;
        float[] queries = BruteForce.randomMatrix(random, queryCount, dims);
        float[] base = BruteForce.randomMatrix(random, baseCount, dims);
        TopK[] results = search(AMPLE_BUDGET).topK(queries, queryCount, base, baseCount, dims, Metric.L2, 3);
        for (int q = 0; q < queryCount; q++) {
            BruteForce.assertTopK(results[q], Metric.L2, queries, q, base, baseCount, dims, 3);
        }
    }

    @Test
    void tiedDistancesKeepTheLowerRowsWhateverTheTiling() {
        int dims = 3;
        int baseCount = 600;
        float[] base = new float[baseCount * dims];
        // Every row is one of three vectors, so each distance is shared by ~200 rows.
        for (int row = 0; row < baseCount; row++) {
            base[row * dims + row % 3] = 1f;
        }
        float[] query = {1f, 0f, 0f};
        List<TopK> answers = new ArrayList<>();
        for (long budget : new long[] {TINY_BUDGET / 4, TINY_BUDGET, AMPLE_BUDGET}) {
            for (int k : new int[] {5, KernelSource.MAX_DEVICE_K + 1}) {
                TopK result = search(budget).topK(query, 1, base, baseCount, dims, Metric.L2, k)[0];
                for (int i = 0; i < k; i++) {
                    assertThat(result.rows()[i]).as("budget %d k %d rank %d", budget, k, i).isEqualTo(3 * i);
                    assertThat(result.distances()[i]).isZero();
                }
                answers.add(result);
            }
        }
        assertThat(answers).hasSize(6);
    }

    @Test
    void zeroVectorsAreAtCosineDistanceOneAsInTheCpuBackend() {
        int dims = 2;
        float[] base = {0f, 0f, 1f, 0f, 0f, 0f, 0f, 1f};
        float[] query = {1f, 0f};
        TopK result = search(AMPLE_BUDGET).topK(query, 1, base, 4, dims, Metric.COSINE, 4)[0];
        assertThat(result.rows()).containsExactly(1, 0, 2, 3);
        assertThat(result.distances()).containsExactly(0f, 1f, 1f, 1f);
        float[] zeroQuery = {0f, 0f};
        assertThat(search(AMPLE_BUDGET).topK(zeroQuery, 1, base, 4, dims, Metric.COSINE, 1)[0].distances())
                .containsExactly(1f);
    }

    @Test
    void nanDistancesRankLast() {
        float[] base = {Float.NaN, 0f, 5f, 0f, Float.NaN, 1f, 1f, 0f};
        float[] query = {0f, 0f};
        TopK result = search(AMPLE_BUDGET).topK(query, 1, base, 4, 2, Metric.L2, 4)[0];
        assertThat(result.rows()).containsExactly(3, 1, 0, 2);
        assertThat(result.distances()[2]).isNaN();
        assertThat(result.distances()[3]).isNaN();
    }

    @Test
    void metricsFollowTheEngineDefinitions() {
        float[] query = {1f, 2f, 3f};
        float[] base = {4f, -5f, 6f};
        TiledSearch search = search(AMPLE_BUDGET);
        assertThat(search.topK(query, 1, base, 1, 3, Metric.L2, 1)[0].distances()[0]).isEqualTo(9f + 49f + 9f);
        assertThat(search.topK(query, 1, base, 1, 3, Metric.INNER_PRODUCT, 1)[0].distances()[0])
                .isEqualTo(-(4f - 10f + 18f));
        assertThat(search.topK(query, 1, base, 1, 3, Metric.L1, 1)[0].distances()[0]).isEqualTo(3f + 7f + 3f);
        double cosine = 12 / (Math.sqrt(14) * Math.sqrt(77)); // 1 - cos, as CpuComputeBackend
        assertThat((double) search.topK(query, 1, base, 1, 3, Metric.COSINE, 1)[0].distances()[0])
                .isCloseTo(1 - cosine, org.assertj.core.data.Offset.offset(1e-6));
    }

    @Test
    void edgeSizes() {
        float[] base = {1f, 2f, 3f, 4f};
        float[] query = {0f, 0f};
        TiledSearch search = search(AMPLE_BUDGET);
        assertThat(search.topK(query, 0, base, 2, 2, Metric.L2, 3)).isEmpty();
        assertThat(search.topK(query, 1, base, 2, 2, Metric.L2, 0)[0].size()).isZero();
        assertThat(search.topK(query, 1, base, 0, 2, Metric.L2, 3)[0].size()).isZero();
        TopK all = search.topK(query, 1, base, 2, 2, Metric.L2, 10)[0];
        assertThat(all.rows()).containsExactly(0, 1);
        assertThat(all.distances()).containsExactly(5f, 25f);
        assertThat(search.assignNearest(query, 0, base, 2, 2, Metric.L2)).isEmpty();
    }

    @Test
    void rejectsInconsistentArguments() {
        TiledSearch search = search(AMPLE_BUDGET);
        float[] two = {1f, 2f};
        assertThatThrownBy(() -> search.topK(two, 2, two, 1, 2, Metric.L2, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("queries");
        assertThatThrownBy(() -> search.topK(two, 1, two, 1, 2, Metric.L2, -1))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> search.assignNearest(two, 1, two, 0, 2, Metric.L2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no centroids");
    }

    @ParameterizedTest
    @EnumSource(Metric.class)
    void assignmentMatchesBruteForceAcrossCentroidTiles(Metric metric) {
        Random random = new Random(11 + metric.ordinal());
        int dims = 21;
        int vectorCount = 300;
        int centroidCount = 400;
        float[] vectors = BruteForce.randomMatrix(random, vectorCount, dims);
        float[] centroids = BruteForce.randomMatrix(random, centroidCount, dims);
        TilePlan plan = TilePlan.forAssignment(vectorCount, centroidCount, dims, TINY_BUDGET);
        assertThat(plan.baseRows()).as("several centroid tiles").isLessThan(centroidCount);
        assertThat(plan.queryRows()).as("several vector batches").isLessThan(vectorCount);

        for (long budget : new long[] {TINY_BUDGET, AMPLE_BUDGET}) {
            int[] assigned = search(budget).assignNearest(vectors, vectorCount, centroids, centroidCount, dims, metric);
            BruteForce.assertAssignment(assigned, metric, vectors, vectorCount, centroids, centroidCount, dims);
        }
    }

    @Test
    void assignmentTiesGoToTheLowerCentroidAcrossTiles() {
        int dims = 2;
        int centroidCount = 1000;
        float[] centroids = new float[centroidCount * dims];
        java.util.Arrays.fill(centroids, 1f);
        float[] vectors = {0f, 0f, 2f, 2f};
        int[] assigned = search(2_000).assignNearest(vectors, 2, centroids, centroidCount, dims, Metric.L2);
        assertThat(TilePlan.forAssignment(2, centroidCount, dims, 2_000).baseRows()).isLessThan(centroidCount);
        assertThat(assigned).containsExactly(0, 0);
    }
}
