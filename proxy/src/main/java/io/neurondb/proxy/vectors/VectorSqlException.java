package io.neurondb.proxy.vectors;

import io.neurondb.engine.VectorEngineException;
import io.vertx.pgclient.PgException;

/**
 * An error for a client, PostgreSQL-style: a SQLSTATE, a message in PostgreSQL's or pgvector's
 * wording, and optionally a detail and a hint. Never carries vector values or passwords.
 */
public class VectorSqlException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public static final String UNDEFINED_TABLE = "42P01";
    public static final String UNDEFINED_COLUMN = "42703";
    public static final String UNDEFINED_OBJECT = "42704";
    public static final String DATATYPE_MISMATCH = "42804";
    public static final String DUPLICATE_TABLE = "42P07";
    public static final String WRONG_OBJECT_TYPE = "42809";
    public static final String FEATURE_NOT_SUPPORTED = "0A000";
    public static final String DATA_EXCEPTION = "22000";
    public static final String INVALID_PARAMETER_VALUE = "22023";
    public static final String INTERNAL_ERROR = "XX000";

    private final String sqlState;
    private final String detail;
    private final String hint;

    public VectorSqlException(String sqlState, String message) {
        this(sqlState, message, null, null, null);
    }

    public VectorSqlException(String sqlState, String message, String detail, String hint, Throwable cause) {
        super(message, cause);
        this.sqlState = sqlState;
        this.detail = detail;
        this.hint = hint;
    }

    /** Five-character SQLSTATE, e.g. {@code "42P01"}. */
    public String sqlState() {
        return sqlState;
    }

    /** PostgreSQL's DETAIL field, or null. */
    public String detail() {
        return detail;
    }

    /** PostgreSQL's HINT field, or null. */
    public String hint() {
        return hint;
    }

    /**
     * The client-facing form of any failure: engine errors keep their SQLSTATE and wording,
     * server errors theirs, anything else becomes an internal error.
     */
    public static VectorSqlException from(Throwable t) {
        if (t instanceof VectorSqlException v) {
            return v;
        }
        if (t instanceof VectorEngineException e) {
            return new VectorSqlException(e.sqlState(), e.getMessage(), null, null, e);
        }
        if (t instanceof PgException p) {
            return new VectorSqlException(p.getSqlState(), p.getErrorMessage(), p.getDetail(), p.getHint(), p);
        }
        if (t instanceof java.util.concurrent.CompletionException && t.getCause() != null) {
            return from(t.getCause());
        }
        String message = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        return new VectorSqlException(INTERNAL_ERROR, message, null, null, t);
    }
}
