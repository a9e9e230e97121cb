package io.neurondb.proxy.session;

/**
 * Life of a client session. Only {@link ClientSession#transition} changes it, and it refuses
 * any move not listed in {@link #canMoveTo}.
 *
 * <pre>
 * AWAITING_STARTUP --SSLRequest, TLS on--> TLS_HANDSHAKE --> AWAITING_STARTUP
 * AWAITING_STARTUP --StartupMessage--> CONNECTING --server up--> AUTHENTICATING
 * AWAITING_STARTUP --StartupMessage, pooling provider active--> AUTHENTICATING (the proxy checks the password)
 * AUTHENTICATING --first ReadyForQuery--> READY
 * any --> CLOSED
 * </pre>
 */
public enum SessionState {
    /** Waiting for StartupMessage, SSLRequest, GSSENCRequest or CancelRequest. */
    AWAITING_STARTUP,
    /** Answered 'S' to SSLRequest; the TLS handshake is running. */
    TLS_HANDSHAKE,
    /** Startup received; opening the server connection. */
    CONNECTING,
    /** Relaying the server's authentication exchange and startup parameters (1:1), or running the pooler's login. */
    AUTHENTICATING,
    /** Logged in: queries flow. Transaction status is tracked separately. */
    READY,
    /** Both sockets closed or closing; nothing more is processed. */
    CLOSED;

    boolean canMoveTo(SessionState next) {
        if (next == CLOSED) {
            return this != CLOSED;
        }
        return switch (this) {
            case AWAITING_STARTUP -> next == TLS_HANDSHAKE || next == CONNECTING || next == AUTHENTICATING;
            case TLS_HANDSHAKE -> next == AWAITING_STARTUP;
            case CONNECTING -> next == AUTHENTICATING;
            case AUTHENTICATING -> next == READY;
            case READY, CLOSED -> false;
        };
    }
}
