package io.neurondb.engine.hnsw;

import io.neurondb.engine.VectorEngineException.InvalidParameterException;
import io.neurondb.engine.VectorValidation;

/**
 * Build parameters, with pgvector's names, defaults and ranges: {@code m} 16 (2..100),
 * {@code ef_construction} 64 (4..1000, at least 2 * m).
 */
public record HnswParams(int m, int efConstruction) {

    public static final HnswParams DEFAULT = new HnswParams(16, 64);

    public HnswParams {
        VectorValidation.checkRange("m", m, 2, 100);
        VectorValidation.checkRange("ef_construction", efConstruction, 4, 1000);
        if (efConstruction < 2 * m) {
            throw new InvalidParameterException("ef_construction must be greater than or equal to 2 * m");
        }
    }
}
