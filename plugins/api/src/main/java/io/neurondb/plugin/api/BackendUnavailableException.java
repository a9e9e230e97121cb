package io.neurondb.plugin.api;

/** No server connection could be had; {@link #sqlState()} is what the client is told. */
public class BackendUnavailableException extends RuntimeException {

    private final String sqlState;

    public BackendUnavailableException(String sqlState, String message) {
        super(message);
        this.sqlState = sqlState;
    }

    public String sqlState() {
        return sqlState;
    }
}
