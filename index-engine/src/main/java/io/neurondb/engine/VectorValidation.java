package io.neurondb.engine;

import io.neurondb.engine.VectorEngineException.InvalidParameterException;
import io.neurondb.engine.VectorEngineException.InvalidVectorException;

/** Checks on vectors and parameters, with pgvector's error wording where it has one. */
public final class VectorValidation {

    /** pgvector's VECTOR_MAX_DIM. */
    public static final int MAX_DIMS = 16_000;
    /** Upper bound on k: beyond this a caller wants a scan, not a nearest-neighbour search. */
    public static final int MAX_K = 100_000;

    private VectorValidation() {
    }

    public static void checkDims(int dims) {
        if (dims < 1) {
            throw new InvalidVectorException("vector must have at least 1 dimension");
        }
        if (dims > MAX_DIMS) {
            throw new InvalidVectorException("vector cannot have more than " + MAX_DIMS + " dimensions");
        }
    }

    /** Rejects a vector that an index of {@code dims} dimensions under {@code metric} cannot hold. */
    public static void checkVector(float[] v, int dims, Metric metric) {
        if (v == null) {
            throw new InvalidVectorException("vector must not be null");
        }
        if (v.length != dims) {
            throw new InvalidVectorException("expected " + dims + " dimensions, not " + v.length);
        }
        boolean allZero = true;
        for (float x : v) {
            if (Float.isNaN(x)) {
                throw new InvalidVectorException("NaN not allowed in vector");
            }
            if (Float.isInfinite(x)) {
                throw new InvalidVectorException("infinite value not allowed in vector");
            }
            allZero &= x == 0f;
        }
        // Cosine distance divides by the norm; pgvector returns NaN here, which sorts
        // unpredictably, so the engine refuses the vector instead.
        if (allZero && metric == Metric.COSINE) {
            throw new InvalidVectorException("zero vector not allowed with cosine distance");
        }
    }

    public static void checkK(int k) {
        checkRange("k", k, 1, MAX_K);
    }

    public static void checkRange(String name, int value, int min, int max) {
        if (value < min || value > max) {
            throw new InvalidParameterException(name + " must be between " + min + " and " + max);
        }
    }
}
