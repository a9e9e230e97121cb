package io.neurondb.engine;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ExactIndexTest extends VectorIndexContractTest {

    @Test
    void parallelScanOverManyBlocksMatchesANaiveScan() {
        // Enough rows for the parallel path (several storage blocks), few dimensions to stay fast.
        int dims = 8;
        int rows = 40_000;
        float[] data = TestData.clustered(rows, dims, 30, 61);
        ExactIndex index = new ExactIndex(dims, Metric.L1);
        for (int i = 0; i < rows; i++) {
            index.insert(i, TestData.row(data, i, dims));
        }
        for (int i = 0; i < rows; i += 5) {
            index.delete(i);
        }
        float[] q = TestData.row(data, 123, dims);
        float[] best = new float[rows];
        Integer[] order = new Integer[rows];
        for (int i = 0; i < rows; i++) {
            float d = 0;
            for (int j = 0; j < dims; j++) {
                d += Math.abs(q[j] - data[i * dims + j]);
            }
            best[i] = i % 5 == 0 ? Float.POSITIVE_INFINITY : d;
            order[i] = i;
        }
        java.util.Arrays.sort(order, (a, b) -> Float.compare(best[a], best[b]));
        SearchResult r = index.search(q, SearchParams.of(25));
        for (int i = 0; i < 25; i++) {
            assertThat(r.distances()[i]).isCloseTo(best[order[i]], org.assertj.core.api.Assertions.within(1e-4f));
        }
    }

    @Override
    protected VectorIndex newIndex(int dims, Metric metric) {
        return new ExactIndex(dims, metric);
    }

    @Override
    protected SearchParams params(int k) {
        return SearchParams.of(k);
    }

    @Override
    protected double minRecall() {
        return 1.0;
    }
}
