package io.neurondb.engine.ivf;

import io.neurondb.engine.VectorValidation;

/** Build parameters with pgvector's ivfflat name, default and range: {@code lists} 100 (1..32768). */
public record IvfParams(int lists) {

    public static final IvfParams DEFAULT = new IvfParams(100);

    public IvfParams {
        VectorValidation.checkRange("lists", lists, 1, 32768);
    }
}
