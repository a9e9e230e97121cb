package io.neurondb.proxy.session;

/** Who a session belongs to, as far as logs and statement events need to know. */
interface SessionInfo {
    long connectionId();

    String database();

    String user();

    String applicationName();

    String clientAddress();

    /** The server's {@code is_superuser} for the session's login. */
    boolean superuser();
}
