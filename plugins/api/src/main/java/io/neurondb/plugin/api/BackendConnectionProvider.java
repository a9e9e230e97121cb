package io.neurondb.plugin.api;

import io.vertx.core.Future;
import io.vertx.core.net.NetSocket;
import org.pf4j.ExtensionPoint;

import java.util.Map;

/**
 * Supplies the server connection a client session runs on. Without a provider the proxy
 * opens one server connection per client and relays authentication end to end (1:1 mode).
 * A pooling provider instead authenticates clients itself and lends out server connections
 * that are already logged in; at most one provider is active.
 */
public interface BackendConnectionProvider extends ExtensionPoint {

    /** Short name for logs, e.g. {@code "pooling"}. */
    String name();

    /**
     * Whether this provider authenticates clients itself. If false the proxy relays the
     * server's authentication exchange to the client, as in 1:1 mode.
     */
    boolean authenticatesClients();

    /**
     * A server connection for a client that sent these startup parameters. The future fails
     * with a {@link BackendUnavailableException} carrying the SQLSTATE to report.
     */
    Future<BackendLease> acquire(Map<String, String> startupParameters);

    /** A server connection on loan to one client session. */
    interface BackendLease {

        /** The logged-in server socket, ready for queries. */
        NetSocket socket();

        /** Server parameters (ParameterStatus) the client must be told about on connect. */
        Map<String, String> serverParameters();

        /** Gives the connection back; {@code reusable} false closes it instead. */
        void release(boolean reusable);
    }
}
