package io.neurondb.engine.ivf;

import io.neurondb.engine.Metric;
import io.neurondb.engine.SearchParams;
import io.neurondb.engine.TestData;
import io.neurondb.engine.VectorIndex;
import io.neurondb.engine.VectorIndexContractTest;
import io.neurondb.engine.compute.ComputeBackend;
import io.neurondb.engine.compute.CpuComputeBackend;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class IvfIndexTest extends VectorIndexContractTest {

    @Override
    protected VectorIndex newIndex(int dims, Metric metric) {
        return new IvfIndex(dims, metric, new IvfParams(20));
    }

    @Override
    protected void load(VectorIndex index, long[] ids, float[] vectors) {
        ((IvfIndex) index).insertAll(ids, vectors);
    }

    @Override
    protected SearchParams params(int k) {
        return SearchParams.of(k).withProbes(5);
    }

    @Override
    protected double minRecall() {
        return 0.9;
    }

    @Test
    void trainingAndScansGoThroughTheComputeBackend() {
        AtomicInteger assigns = new AtomicInteger();
        AtomicInteger scans = new AtomicInteger();
        CpuComputeBackend cpu = new CpuComputeBackend();
        ComputeBackend counting = new ComputeBackend() {
            @Override
            public String name() {
                return "counting";
            }

            @Override
            public int[] assignNearest(float[] v, int n, float[] c, int cn, int dims, Metric metric) {
                assigns.incrementAndGet();
                return cpu.assignNearest(v, n, c, cn, dims, metric);
            }

            @Override
            public TopK[] topK(float[] q, int qn, float[] b, int bn, int dims, Metric metric, int k) {
                scans.incrementAndGet();
                return cpu.topK(q, qn, b, bn, dims, metric, k);
            }
        };
        IvfIndex index = new IvfIndex(DIMS, Metric.L2, new IvfParams(10), counting);
        index.insertAll(ids(500, 0), TestData.clustered(500, DIMS, 10, 31));
        assertThat(index.isTrained()).isTrue();
        assertThat(assigns.get()).isGreaterThan(5); // k-means iterations plus the final assignment
        index.search(TestData.random(DIMS, 1), SearchParams.of(5).withProbes(3));
        assertThat(scans.get()).isEqualTo(1 + 3); // centroid ranking plus three list scans
    }

    @Test
    void moreProbesNeverLowerRecallAndAllProbesIsExact() {
        float[] data = TestData.clustered(ROWS, DIMS, 20, 32);
        IvfIndex index = new IvfIndex(DIMS, Metric.L2, new IvfParams(20));
        index.insertAll(ids(ROWS, 0), data);
        io.neurondb.engine.ExactIndex exact = new io.neurondb.engine.ExactIndex(DIMS, Metric.L2);
        loadExact(exact, ids(ROWS, 0), data);
        double previous = 0;
        for (int probes : new int[] {1, 4, 20}) {
            double recall = 0;
            for (int q = 0; q < 50; q++) {
                float[] query = TestData.row(data, q * 17, DIMS);
                recall += TestData.recall(index.search(query, SearchParams.of(10).withProbes(probes)).rowIds(),
                        exact.search(query, SearchParams.of(10)).rowIds());
            }
            recall /= 50;
            assertThat(recall).isGreaterThanOrEqualTo(previous);
            previous = recall;
        }
        assertThat(previous).isEqualTo(1.0);
    }
}
