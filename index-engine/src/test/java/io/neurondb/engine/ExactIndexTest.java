package io.neurondb.engine;

class ExactIndexTest extends VectorIndexContractTest {

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
