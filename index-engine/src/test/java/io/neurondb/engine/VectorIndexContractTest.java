package io.neurondb.engine;

import io.neurondb.engine.VectorEngineException.InvalidVectorException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * What every {@link VectorIndex} must do, checked against {@link ExactIndex} as ground truth.
 * Each index variant subclasses this with its own factory, search parameters and recall bar.
 */
public abstract class VectorIndexContractTest {

    protected static final int DIMS = 24;
    protected static final int ROWS = 2_000;

    /** A fresh, empty index. */
    protected abstract VectorIndex newIndex(int dims, Metric metric);

    /** Bulk load, as the proxy does for an initial build; the default inserts one by one. */
    protected void load(VectorIndex index, long[] ids, float[] vectors) {
        for (int i = 0; i < ids.length; i++) {
            index.insert(ids[i], TestData.row(vectors, i, index.dims()));
        }
    }

    protected static void loadExact(ExactIndex exact, long[] ids, float[] vectors) {
        for (int i = 0; i < ids.length; i++) {
            exact.insert(ids[i], TestData.row(vectors, i, exact.dims()));
        }
    }

    /** Search parameters for recall checks. */
    protected abstract SearchParams params(int k);

    /** Minimum average recall@10 against exact search. */
    protected abstract double minRecall();

    protected static long[] ids(int n, long offset) {
        long[] ids = new long[n];
        for (int i = 0; i < n; i++) {
            ids[i] = offset + i * 7L; // not dense, not starting at 0: row ids are table keys
        }
        return ids;
    }

    @ParameterizedTest
    @EnumSource(Metric.class)
    void recallAgainstExactSearchOnClusteredData(Metric metric) {
        float[] data = TestData.clustered(ROWS, DIMS, 20, 11);
        long[] ids = ids(ROWS, 1_000);
        VectorIndex index = newIndex(DIMS, metric);
        ExactIndex exact = new ExactIndex(DIMS, metric);
        load(index, ids, data);
        loadExact(exact, ids, data);
        assertThat(index.size()).isEqualTo(ROWS);

        float[] queries = TestData.heldOutQueries(ROWS, 100, DIMS, 20, 11);
        double recall = 0;
        for (int q = 0; q < 100; q++) {
            float[] query = TestData.row(queries, q, DIMS);
            SearchResult expected = exact.search(query, SearchParams.of(10));
            SearchResult actual = index.search(query, params(10));
            assertThat(actual.size()).isEqualTo(10);
            assertSortedAscending(actual.distances());
            recall += TestData.recall(actual.rowIds(), expected.rowIds());
        }
        assertThat(recall / 100).as("recall@10 for " + metric).isGreaterThanOrEqualTo(minRecall());
    }

    @Test
    void everyLiveRowIsFindableAndDeletedRowsNeverAre() {
        float[] data = TestData.clustered(1_000, DIMS, 10, 12);
        long[] ids = ids(1_000, 5);
        VectorIndex index = newIndex(DIMS, Metric.L2);
        load(index, ids, data);
        BitSet deleted = new BitSet();
        for (int i = 0; i < ids.length; i += 3) {
            assertThat(index.delete(ids[i])).isTrue();
            deleted.set(i);
        }
        assertThat(index.delete(ids[0])).as("second delete").isFalse();
        assertThat(index.delete(-1)).isFalse();
        assertThat(index.size()).isEqualTo(ids.length - deleted.cardinality());
        afterDeletes(index);
        for (int i = 0; i < ids.length; i++) {
            SearchResult r = index.search(TestData.row(data, i, DIMS), params(5));
            if (deleted.get(i)) {
                assertThat(r.rowIds()).doesNotContain(ids[i]);
                assertThat(index.contains(ids[i])).isFalse();
            } else {
                assertThat(r.rowIds()).as("row %d", ids[i]).contains(ids[i]);
                assertThat(index.contains(ids[i])).isTrue();
            }
            for (long id : r.rowIds()) {
                assertThat(index.contains(id)).isTrue();
            }
        }
    }

    /** Hook for variants that clean up after deletes (HNSW repair). */
    protected void afterDeletes(VectorIndex index) {
    }

    @Test
    void updateReplacesTheVector() {
        VectorIndex index = newIndex(2, Metric.L2);
        load(index, new long[] {1, 2, 3}, new float[] {0, 0, 10, 10, 20, 20});
        index.insert(2, new float[] {100, 100});
        assertThat(index.size()).isEqualTo(3);
        SearchResult r = index.search(new float[] {100, 100}, params(1));
        assertThat(r.rowIds()).containsExactly(2L);
        assertThat(r.distances()[0]).isZero();
        SearchResult near = index.search(new float[] {10, 10}, params(3));
        assertThat(near.rowIds()).containsExactly(1L, 3L, 2L);
    }

    @Test
    void distancesAreReportedAsPgvectorDoes() {
        float[] a = {3, 4};
        float[] q = {0, 1};
        assertThat(single(Metric.L2, a, q)).isCloseTo((float) Math.sqrt(9 + 9), within(1e-5f));
        assertThat(single(Metric.INNER_PRODUCT, a, q)).isCloseTo(-4f, within(1e-5f));
        assertThat(single(Metric.COSINE, a, q)).isCloseTo(1f - 4f / 5f, within(1e-5f));
        assertThat(single(Metric.L1, a, q)).isCloseTo(6f, within(1e-5f));
    }

    private float single(Metric metric, float[] stored, float[] query) {
        VectorIndex index = newIndex(2, metric);
        index.insert(42, stored);
        SearchResult r = index.search(query, params(1));
        assertThat(r.rowIds()).containsExactly(42L);
        return r.distances()[0];
    }

    @Test
    void filterReturnsOnlyAcceptedRowsAndKeepsLookingUntilItHasK() {
        float[] data = TestData.clustered(ROWS, DIMS, 20, 13);
        long[] ids = ids(ROWS, 0);
        VectorIndex index = newIndex(DIMS, Metric.L2);
        ExactIndex exact = new ExactIndex(DIMS, Metric.L2);
        load(index, ids, data);
        loadExact(exact, ids, data);
        // 2% of rows pass: a plain top-ef search would return almost none of them.
        RowFilter selective = rowId -> (rowId / 7) % 50 == 3;
        double recall = 0;
        for (int q = 0; q < 20; q++) {
            float[] query = TestData.row(data, q * 37, DIMS);
            SearchResult r = index.search(query, params(10), selective);
            assertThat(r.size()).isEqualTo(10);
            for (long id : r.rowIds()) {
                assertThat(selective.accept(id)).isTrue();
            }
            recall += TestData.recall(r.rowIds(), exact.search(query, SearchParams.of(10), selective).rowIds());
        }
        assertThat(recall / 20).isGreaterThanOrEqualTo(0.8);

        assertThat(index.search(TestData.row(data, 0, DIMS), params(10), rowId -> false).size())
                .as("a filter nothing passes ends the search, empty").isZero();

        BitSet allowed = new BitSet();
        allowed.set(70);
        allowed.set(140);
        SearchResult two = index.search(TestData.row(data, 0, DIMS), params(10), RowFilter.of(allowed));
        assertThat(two.rowIds()).containsExactlyInAnyOrder(70L, 140L);
    }

    @Test
    void emptyIndexAndBadInput() {
        VectorIndex index = newIndex(3, Metric.COSINE);
        assertThat(index.search(new float[] {1, 2, 3}, params(5)).size()).isZero();
        assertThatThrownBy(() -> index.insert(1, new float[] {1, 2}))
                .isInstanceOf(InvalidVectorException.class).hasMessage("expected 3 dimensions, not 2");
        assertThatThrownBy(() -> index.insert(1, new float[] {0, 0, 0})).isInstanceOf(InvalidVectorException.class);
        assertThatThrownBy(() -> index.search(new float[] {1, Float.NaN, 3}, params(5)))
                .hasMessage("NaN not allowed in vector");
        assertThat(index.size()).isZero();
        assertThat(index.dims()).isEqualTo(3);
        assertThat(index.metric()).isEqualTo(Metric.COSINE);
    }

    @Test
    void memoryIsReportedAndCoversTheVectors() {
        float[] data = TestData.clustered(ROWS, DIMS, 20, 14);
        VectorIndex index = newIndex(DIMS, Metric.L2);
        load(index, ids(ROWS, 0), data);
        long raw = (long) ROWS * DIMS * Float.BYTES;
        // At 24 dimensions per-row bookkeeping (ids, graph links) is of the order of the vector itself.
        assertThat(index.memoryBytes()).isGreaterThanOrEqualTo(raw).isLessThan(raw + ROWS * 400L);
    }

    @Test
    void checkpointRoundTripGivesTheSameAnswers(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        float[] data = TestData.clustered(ROWS, DIMS, 20, 15);
        long[] ids = ids(ROWS, 3);
        VectorIndex index = newIndex(DIMS, Metric.COSINE);
        load(index, ids, data);
        index.delete(ids[10]);
        Path file = dir.resolve("index.ckpt");
        IndexCheckpoint.write(file, index, 0x1234_5678_9ABCL);
        IndexCheckpoint.Loaded loaded = IndexCheckpoint.read(file);
        assertThat(loaded.position()).isEqualTo(0x1234_5678_9ABCL);
        VectorIndex copy = loaded.index();
        assertThat(copy.getClass()).isEqualTo(index.getClass());
        assertThat(copy.size()).isEqualTo(index.size());
        assertThat(copy.contains(ids[10])).isFalse();
        assertThat(copy.dims()).isEqualTo(DIMS);
        assertThat(copy.metric()).isEqualTo(Metric.COSINE);
        for (int q = 0; q < 50; q++) {
            float[] query = TestData.row(data, q * 13, DIMS);
            SearchResult a = index.search(query, params(10));
            SearchResult b = copy.search(query, params(10));
            assertThat(b.rowIds()).containsExactly(a.rowIds());
        }
        copy.insert(999_999, TestData.row(data, 0, DIMS));
        assertThat(copy.search(TestData.row(data, 0, DIMS), params(2)).rowIds()).contains(999_999L);
        try (var files = java.nio.file.Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString()).toList()).containsExactly("index.ckpt");
        }
    }

    @Test
    void concurrentInsertsDeletesAndSearches() throws Exception {
        int writers = 3;
        int perWriter = 400;
        float[] data = TestData.clustered(writers * perWriter, DIMS, 10, 16);
        VectorIndex index = newIndex(DIMS, Metric.L2);
        // A base that the searchers can hit from the start.
        load(index, ids(200, 1_000_000), TestData.clustered(200, DIMS, 10, 17));
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        var deletedIds = ConcurrentHashMap.<Long>newKeySet();
        for (int w = 0; w < writers; w++) {
            int writer = w;
            threads.add(Thread.ofPlatform().unstarted(() -> run(failure, start, () -> {
                for (int i = 0; i < perWriter; i++) {
                    int row = writer * perWriter + i;
                    index.insert(row, TestData.row(data, row, DIMS));
                    if (i % 4 == 3) {
                        long victim = row - 2;
                        assertThat(index.delete(victim)).isTrue();
                        deletedIds.add(victim);
                    }
                }
            })));
        }
        for (int s = 0; s < 2; s++) {
            int seed = s;
            threads.add(Thread.ofPlatform().unstarted(() -> run(failure, start, () -> {
                for (int i = 0; i < 300; i++) {
                    SearchResult r = index.search(TestData.row(data, (i * 31 + seed) % data.length / DIMS, DIMS), params(10));
                    assertThat(r.size()).isLessThanOrEqualTo(10);
                    assertSortedAscending(r.distances());
                }
            })));
        }
        threads.forEach(Thread::start);
        start.countDown();
        for (Thread t : threads) {
            t.join();
        }
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
        assertThat(index.size()).isEqualTo(200 + writers * perWriter - deletedIds.size());
        afterDeletes(index);
        for (int row = 0; row < writers * perWriter; row++) {
            boolean live = !deletedIds.contains((long) row);
            assertThat(index.contains(row)).isEqualTo(live);
            SearchResult r = index.search(TestData.row(data, row, DIMS), params(5));
            if (live) {
                assertThat(r.rowIds()).as("row %d", row).contains((long) row);
            } else {
                assertThat(r.rowIds()).doesNotContain((long) row);
            }
        }
    }

    private static void run(AtomicReference<Throwable> failure, CountDownLatch start, Runnable body) {
        try {
            start.await();
            body.run();
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
        }
    }

    protected static void assertSortedAscending(float[] d) {
        for (int i = 1; i < d.length; i++) {
            assertThat(d[i]).isGreaterThanOrEqualTo(d[i - 1]);
        }
    }
}
