package io.neurondb.engine;

/**
 * Base of every error the engine reports to its caller. Each carries a SQLSTATE-style code so
 * the proxy can forward it to a Postgres client unchanged, and a message worded for a SQL user
 * (pgvector's wording where pgvector has one).
 */
public abstract class VectorEngineException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String sqlState;

    protected VectorEngineException(String sqlState, String message, Throwable cause) {
        super(message, cause);
        this.sqlState = sqlState;
    }

    /** Five-character SQLSTATE, e.g. {@code "22000"}. */
    public String sqlState() {
        return sqlState;
    }

    /** Bad data in a vector: wrong dimension count, NaN, infinity, zero vector under cosine. */
    public static final class InvalidVectorException extends VectorEngineException {
        private static final long serialVersionUID = 1L;

        public InvalidVectorException(String message) {
            super("22000", message, null);
        }
    }

    /** A parameter outside its allowed range (k, ef_search, m, lists, ...) or an unknown name. */
    public static final class InvalidParameterException extends VectorEngineException {
        private static final long serialVersionUID = 1L;

        public InvalidParameterException(String message) {
            super("22023", message, null);
        }
    }

    /** A checkpoint file that is truncated, corrupt or of an unknown format version. */
    public static final class CorruptCheckpointException extends VectorEngineException {
        private static final long serialVersionUID = 1L;

        public CorruptCheckpointException(String message, Throwable cause) {
            super("XX001", message, cause);
        }
    }
}
