package io.neurondb.proxy.protocol;

/**
 * A peer broke the protocol. Carries the SQLSTATE the proxy reports to the client before it
 * closes the connection; the stream cannot be trusted after this, so nobody recovers from it.
 */
public final class ProtocolException extends RuntimeException {

    private final String sqlState;

    public ProtocolException(String sqlState, String message) {
        super(message);
        this.sqlState = sqlState;
    }

    public static ProtocolException violation(String message) {
        return new ProtocolException(SqlState.PROTOCOL_VIOLATION, message);
    }

    public String sqlState() {
        return sqlState;
    }
}
