package io.neurondb.plugin.api;

/** An error a {@link SqlFunction} reports to the client, as PostgreSQL would. */
public class SqlFunctionException extends RuntimeException {

    private final String sqlState;

    public SqlFunctionException(String sqlState, String message) {
        super(message);
        this.sqlState = sqlState;
    }

    public String sqlState() {
        return sqlState;
    }
}
