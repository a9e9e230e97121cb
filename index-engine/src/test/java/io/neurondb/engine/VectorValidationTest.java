package io.neurondb.engine;

import io.neurondb.engine.VectorEngineException.InvalidParameterException;
import io.neurondb.engine.VectorEngineException.InvalidVectorException;
import io.neurondb.engine.hnsw.HnswIndex;
import io.neurondb.engine.hnsw.HnswParams;
import io.neurondb.engine.ivf.IvfParams;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class VectorValidationTest {

    @Test
    void wrongDimensionUsesPgvectorWording() {
        ExactIndex index = new ExactIndex(3, Metric.L2);
        assertThatThrownBy(() -> index.insert(1, new float[] {1, 2}))
                .isInstanceOf(InvalidVectorException.class)
                .hasMessage("expected 3 dimensions, not 2")
                .extracting(e -> ((VectorEngineException) e).sqlState()).isEqualTo("22000");
        assertThatThrownBy(() -> index.search(new float[] {1, 2, 3, 4}, SearchParams.of(1)))
                .hasMessage("expected 3 dimensions, not 4");
    }

    @Test
    void nanAndInfinityAreRejected() {
        HnswIndex index = new HnswIndex(2, Metric.L2, HnswParams.DEFAULT);
        assertThatThrownBy(() -> index.insert(1, new float[] {Float.NaN, 0}))
                .isInstanceOf(InvalidVectorException.class).hasMessage("NaN not allowed in vector");
        assertThatThrownBy(() -> index.insert(1, new float[] {0, Float.NEGATIVE_INFINITY}))
                .isInstanceOf(InvalidVectorException.class).hasMessage("infinite value not allowed in vector");
        assertThat(index.size()).isZero();
    }

    @Test
    void zeroVectorIsRejectedOnlyUnderCosine() {
        assertThatThrownBy(() -> new ExactIndex(2, Metric.COSINE).insert(1, new float[] {0, 0}))
                .isInstanceOf(InvalidVectorException.class).hasMessageContaining("zero vector");
        ExactIndex l2 = new ExactIndex(2, Metric.L2);
        l2.insert(1, new float[] {0, 0});
        assertThat(l2.size()).isEqualTo(1);
    }

    @Test
    void parameterRangesFollowPgvector() {
        assertThatThrownBy(() -> SearchParams.of(10).withEfSearch(0))
                .isInstanceOf(InvalidParameterException.class)
                .hasMessage("ef_search must be between 1 and 1000")
                .extracting(e -> ((VectorEngineException) e).sqlState()).isEqualTo("22023");
        assertThatThrownBy(() -> SearchParams.of(10).withEfSearch(1001)).hasMessage("ef_search must be between 1 and 1000");
        assertThatThrownBy(() -> SearchParams.of(0)).hasMessage("k must be between 1 and 100000");
        assertThatThrownBy(() -> SearchParams.of(-5)).isInstanceOf(InvalidParameterException.class);
        assertThatThrownBy(() -> SearchParams.of(Integer.MAX_VALUE)).isInstanceOf(InvalidParameterException.class);
        assertThatThrownBy(() -> new HnswParams(1, 64)).hasMessage("m must be between 2 and 100");
        assertThatThrownBy(() -> new HnswParams(16, 1001)).hasMessage("ef_construction must be between 4 and 1000");
        assertThatThrownBy(() -> new HnswParams(40, 64))
                .hasMessage("ef_construction must be greater than or equal to 2 * m");
        assertThatThrownBy(() -> new IvfParams(0)).hasMessage("lists must be between 1 and 32768");
        assertThat(HnswParams.DEFAULT).isEqualTo(new HnswParams(16, 64));
        assertThat(IvfParams.DEFAULT.lists()).isEqualTo(100);
        assertThat(SearchParams.of(1).efSearch()).isEqualTo(40);
        assertThat(SearchParams.of(1).probes()).isEqualTo(1);
    }

    @Test
    void dimensionLimits() {
        assertThatThrownBy(() -> new ExactIndex(0, Metric.L2)).hasMessage("vector must have at least 1 dimension");
        assertThatThrownBy(() -> new HnswIndex(16_001, Metric.L2, HnswParams.DEFAULT))
                .hasMessage("vector cannot have more than 16000 dimensions");
    }

    @Test
    void metricNames() {
        assertThat(Metric.fromName("vector_cosine_ops")).isEqualTo(Metric.COSINE);
        assertThat(Metric.fromName("L2")).isEqualTo(Metric.L2);
        assertThat(Metric.fromName("ip")).isEqualTo(Metric.INNER_PRODUCT);
        assertThat(Metric.fromName("vector_l1_ops")).isEqualTo(Metric.L1);
        assertThatThrownBy(() -> Metric.fromName("hamming"))
                .isInstanceOf(InvalidParameterException.class)
                .hasMessage("unknown distance metric: \"hamming\"");
    }
}
