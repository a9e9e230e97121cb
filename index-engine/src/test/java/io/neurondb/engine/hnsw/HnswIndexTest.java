package io.neurondb.engine.hnsw;

import io.neurondb.engine.ExactIndex;
import io.neurondb.engine.Metric;
import io.neurondb.engine.SearchParams;
import io.neurondb.engine.TestData;
import io.neurondb.engine.VectorIndex;
import io.neurondb.engine.VectorIndexContractTest;
import io.neurondb.engine.vector.Distance;
import io.neurondb.engine.vector.VectorizationProvider;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class HnswIndexTest extends VectorIndexContractTest {

    @Override
    protected VectorIndex newIndex(int dims, Metric metric) {
        return new HnswIndex(dims, metric, HnswParams.DEFAULT);
    }

    @Override
    protected void load(VectorIndex index, long[] ids, float[] vectors) {
        ((HnswIndex) index).insertAll(ids, vectors, 2);
    }

    @Override
    protected SearchParams params(int k) {
        return SearchParams.of(k).withEfSearch(64);
    }

    @Override
    protected double minRecall() {
        return 0.95;
    }

    @Override
    protected void afterDeletes(VectorIndex index) {
        ((HnswIndex) index).repair(2);
    }

    @Test
    void oneByOneInsertsGiveTheSameQualityAsTheParallelBuild() {
        float[] data = TestData.clustered(ROWS, DIMS, 20, 21);
        HnswIndex index = new HnswIndex(DIMS, Metric.L2, HnswParams.DEFAULT);
        ExactIndex exact = new ExactIndex(DIMS, Metric.L2);
        for (int i = 0; i < ROWS; i++) {
            index.insert(i, TestData.row(data, i, DIMS));
            exact.insert(i, TestData.row(data, i, DIMS));
        }
        assertThat(averageRecall(index, exact, ROWS, 21)).isGreaterThanOrEqualTo(0.95);
    }

    @Test
    void repairAfterHeavyDeletesKeepsRecallAndCutsDeletedNodesOut() {
        float[] data = TestData.clustered(3_000, DIMS, 20, 22);
        HnswIndex index = new HnswIndex(DIMS, Metric.L2, HnswParams.DEFAULT);
        ExactIndex exact = new ExactIndex(DIMS, Metric.L2);
        index.insertAll(ids(3_000, 0), data, 2);
        loadExact(exact, ids(3_000, 0), data);
        for (int i = 0; i < 3_000; i++) {
            if (i % 10 < 4) { // 40% deleted, in runs, so whole neighbourhoods lose members
                index.delete(i * 7L);
                exact.delete(i * 7L);
            }
        }
        assertThat(index.deletedFraction()).isCloseTo(0.4, org.assertj.core.api.Assertions.within(0.01));
        int relinked = index.repair(2);
        assertThat(relinked).isPositive();
        assertThat(index.repair(2)).as("nothing left to repair").isZero();
        assertThat(averageRecall(index, exact, 3_000, 22)).isGreaterThanOrEqualTo(0.93);
    }

    @Test
    void repairRunsWhileInsertsAndSearchesContinue() throws Exception {
        float[] data = TestData.clustered(3_000, DIMS, 20, 25);
        HnswIndex index = new HnswIndex(DIMS, Metric.L2, HnswParams.DEFAULT);
        index.insertAll(ids(1_500, 0), java.util.Arrays.copyOf(data, 1_500 * DIMS), 2);
        for (int i = 0; i < 1_500; i += 2) {
            index.delete(i * 7L);
        }
        java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
        Thread writer = Thread.ofPlatform().start(() -> {
            try {
                for (int i = 1_500; i < 3_000; i++) {
                    index.insert(i * 7L, TestData.row(data, i, DIMS));
                }
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        Thread reader = Thread.ofPlatform().start(() -> {
            try {
                for (int i = 0; i < 500; i++) {
                    for (long id : index.search(TestData.row(data, i * 5, DIMS), params(10)).rowIds()) {
                        boolean deleted = id < 1_500 * 7L && id % 14 == 0;
                        assertThat(deleted).as("row %d was deleted before the search", id).isFalse();
                    }
                }
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        index.repair(1);
        writer.join();
        reader.join();
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
        index.repair(2);
        assertThat(index.size()).isEqualTo(750 + 1_500);
        for (int i = 0; i < 3_000; i++) {
            boolean live = i >= 1_500 || i % 2 == 1;
            long[] found = index.search(TestData.row(data, i, DIMS), params(3)).rowIds();
            if (live) {
                assertThat(found).as("row %d", i * 7L).contains(i * 7L);
            } else {
                assertThat(found).doesNotContain(i * 7L);
            }
        }
    }

    @Test
    void scalarAndPanamaKernelsBuildEquallyGoodGraphs() {
        VectorizationProvider panama = VectorizationProvider.panamaOrNull();
        org.assertj.core.api.Assumptions.assumeThat(panama).isNotNull();
        float[] data = TestData.clustered(ROWS, DIMS, 20, 23);
        ExactIndex exact = new ExactIndex(DIMS, Metric.INNER_PRODUCT);
        loadExact(exact, ids(ROWS, 0), data);
        double[] recall = new double[2];
        VectorizationProvider[] providers = {VectorizationProvider.scalar(), panama};
        for (int i = 0; i < 2; i++) {
            HnswIndex index = new HnswIndex(DIMS, Metric.INNER_PRODUCT, HnswParams.DEFAULT,
                    new Distance(Metric.INNER_PRODUCT, providers[i]));
            // One build thread, so the two graphs differ only by the kernel: with two threads the
            // graph also depends on thread timing, and one CI run saw recall 0.972 against 0.999.
            index.insertAll(ids(ROWS, 0), data, 1);
            recall[i] = averageRecall(index, exact, ROWS, 23);
            assertThat(recall[i]).as(providers[i].name()).isGreaterThanOrEqualTo(0.95);
        }
        assertThat(recall[1]).isCloseTo(recall[0], org.assertj.core.api.Assertions.within(0.02));
    }

    @Test
    void memoryWithM16StaysWithinTargetOfRawVectors() {
        int dims = 384;
        int rows = 4_096;
        float[] data = TestData.clustered(rows, dims, 16, 24);
        HnswIndex index = new HnswIndex(dims, Metric.COSINE, HnswParams.DEFAULT);
        index.insertAll(ids(rows, 0), data, 2);
        double ratio = (double) index.memoryBytes() / ((long) rows * dims * Float.BYTES);
        // Vectors 1536 B + layer-0 list 132 B + row id, level, upper layers and id map.
        assertThat(ratio).isBetween(1.05, 1.15);
    }

    /** Recall@10 on 100 held-out queries of the mixture {@code TestData.clustered(rows, DIMS, 20, seed)}. */
    private double averageRecall(HnswIndex index, ExactIndex exact, int rows, long seed) {
        float[] queries = TestData.heldOutQueries(rows, 100, DIMS, 20, seed);
        double recall = 0;
        for (int q = 0; q < 100; q++) {
            float[] query = TestData.row(queries, q, DIMS);
            recall += TestData.recall(index.search(query, params(10)).rowIds(),
                    exact.search(query, SearchParams.of(10)).rowIds());
        }
        return recall / 100;
    }
}
