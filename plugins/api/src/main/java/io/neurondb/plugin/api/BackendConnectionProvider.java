package io.neurondb.plugin.api;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetSocket;
import org.pf4j.ExtensionPoint;

import java.util.Map;

/**
 * Supplies the server connections client sessions run on (connection pooling). Without an
 * active provider the proxy opens one server connection per client and relays authentication
 * end to end (1:1 mode). An active provider authenticates clients itself and lends out server
 * connections that are already logged in; at most one provider is active.
 *
 * <p>Life of a client with a provider: {@link #admit} at its StartupMessage, then
 * {@link PooledClient#authenticate} until it says {@link AuthStep.Accepted}, then
 * {@link PooledClient#serverParameters} for what the client is told at login; then
 * {@link PooledClient#acquire} whenever the session needs a server connection (once per session
 * in session mode, once per transaction in transaction mode), {@link BackendLease#release}
 * when it no longer does, and {@link PooledClient#close} when the client is gone.
 * Futures may complete on any thread; the host moves back to the session's own.
 */
public interface BackendConnectionProvider extends ExtensionPoint {

    /** Short name for logs, e.g. {@code "pooling"}. */
    String name();

    /** Whether the provider is configured on; an inactive one is ignored (1:1 mode). */
    boolean active();

    /**
     * A client sent its StartupMessage. Throws {@link BackendUnavailableException} when it may
     * not connect at all (too many clients: 53300; unknown database: 3D000).
     */
    PooledClient admit(Map<String, String> startupParameters, String clientAddress);

    /**
     * A {@code DROP DATABASE} of {@code database} is about to be sent: close the idle server
     * connections to it, which would make PostgreSQL refuse the drop (connections lent to
     * clients stay). Completes when they are closed.
     */
    default io.vertx.core.Future<Void> closeIdleConnections(String database) {
        return io.vertx.core.Future.succeededFuture();
    }

    /** When a client's server connection goes back to the pool. */
    enum PoolMode {
        /** At the end of the client session. */
        SESSION,
        /** At the end of each transaction (ReadyForQuery 'I' with nothing pending). */
        TRANSACTION,
        /** After each statement; multi-statement transactions are refused. */
        STATEMENT
    }

    /** One step of the client's login, driven by the provider. */
    sealed interface AuthStep {
        /** Send this Authentication message (type 'R', complete) to the client and wait for its answer. */
        record Challenge(Buffer message) implements AuthStep {
        }

        /**
         * The client is who it says it is: the host sends {@code finalMessage} (a complete
         * Authentication message such as SASLFinal) when not null, then AuthenticationOk.
         */
        record Accepted(Buffer finalMessage) implements AuthStep {
        }

        /** Login refused: the host sends a FATAL error with this SQLSTATE (28P01, 28000, ...). */
        record Rejected(String sqlState, String message) implements AuthStep {
        }
    }

    /** The provider's side of one client connection. */
    interface PooledClient {

        PoolMode poolMode();

        /** The client asked for the admin console (virtual database {@code neurondb} or {@code pgbouncer}). */
        boolean console();

        /** Bound on the prepared statements the host keeps per server connection in transaction mode; 0 turns that off. */
        int maxPreparedStatements();

        /** How long the client may sit inside a transaction doing nothing (zero: no limit). */
        java.time.Duration idleTransactionTimeout();

        /** How long the client may sit idle outside a transaction (zero: no limit). */
        java.time.Duration clientIdleTimeout();

        /**
         * Runs the login: {@code response} is null the first time, then the payload of each
         * PasswordMessage (SASLInitialResponse, SASLResponse) the client sent.
         */
        Future<AuthStep> authenticate(Buffer response);

        /** Server parameters (ParameterStatus) the client is told at login. */
        Future<Map<String, String>> serverParameters();

        /**
         * A server connection, possibly after waiting in the pool's queue; fails with
         * {@link BackendUnavailableException} (e.g. after {@code query_wait_timeout}).
         */
        Future<BackendLease> acquire();

        /** The client is gone: frees its {@code max_client_conn} slot. Idempotent. */
        void close();
    }

    /** Receives a lent server connection's reads and its close, on the connection's event loop. */
    interface LeaseReader {

        /** One read: a Netty {@code ByteBuf} the reader owns (and releases), as Vert.x's message handler gives it. */
        void onMessage(Object message);

        /** The server closed the connection, or it broke. */
        void onClosed();

        /**
         * The connection's replies are this reader's from now: at once for a lease taken from
         * the pool, later for one lent behind another holder's last statement
         * ({@link BackendLease#lendBehind()}), once that holder's reply has ended.
         */
        default void onTurn() {
        }

        /**
         * For a lease that waits behind others: the connection has room for more work behind
         * this lease's, so a {@link BackendLease#lendBehind()} refused for lack of room may be
         * tried again.
         */
        default void onRoomBehind() {
        }
    }

    /** A server connection on loan to one client session. */
    interface BackendLease {

        /** The {@link #attachments()} key of the default {@link #hostState()}. */
        String HOST_STATE = "neurondb-host-state";

        /** The logged-in server socket, idle and ready for queries: the host writes to it while it holds the lease. */
        NetSocket socket();

        /**
         * Sends what the server sends on this connection, and its close, to {@code reader} until
         * the lease is released. A connection the server already closed reports that to the
         * reader at once. Providers that lend a connection over and over should keep one set of
         * socket handlers for the connection's life and switch the reader they dispatch to:
         * replacing the socket's handlers at every lease and every return was a measurable part
         * of a pooled transaction. Every provider calls {@link LeaseReader#onTurn()} once the
         * replies are the reader's (the host sends the client's cancels there only from then).
         * The default sets the socket's handlers and calls it at once.
         */
        default void read(LeaseReader reader) {
            ((io.vertx.core.internal.net.NetSocketInternal) socket()).messageHandler(reader::onMessage);
            socket().closeHandler(v -> reader.onClosed());
            reader.onTurn();
        }

        /** The server's process id and secret key (BackendKeyData): where the client's cancels go. */
        int processId();

        int secretKey();

        /**
         * State the host keeps per server connection for as long as it lives (which statements
         * are prepared on it, which settings it has). Only touched by the lease holder.
         */
        Map<String, Object> attachments();

        /**
         * The host's own state on this server connection (what it prepared and set there), or
         * null before the host first stored one. A field rather than an {@link #attachments()}
         * entry: the host reads it at every lease, and the map lookup showed in the pooled
         * profile. A provider that resets the connection (server_reset_query) clears it, as it
         * clears the attachments. The default keeps it in the attachments.
         */
        default Object hostState() {
            return attachments().get(HOST_STATE);
        }

        default void hostState(Object state) {
            attachments().put(HOST_STATE, state);
        }

        /**
         * Gives the connection back. {@code reusable} false closes it (it may be mid-result or
         * in an unknown state). In session mode the provider runs {@code server_reset_query}
         * before it lends the connection again.
         */
        void release(boolean reusable);

        /**
         * Gives the connection back like {@link #release(boolean)}, with what the client did on
         * it since the last report (SHOW STATS). Providers that keep statistics override this.
         */
        default void release(boolean reusable, LeaseUsage usage) {
            release(reusable);
        }

        /**
         * What the client did on the connection since the last report, while it keeps the lease
         * (session mode reports at the end of each transaction, so statistics do not wait for
         * the client to disconnect).
         */
        default void report(LeaseUsage usage) {
        }

        /**
         * The holder has just written a batch that certainly ends in the server being idle
         * outside a transaction (one autocommit statement and its Sync), and writes nothing more
         * on this lease: the provider may lend the connection now to a client that waits, whose
         * work is then written behind it and runs as soon as the server is done. True when it
         * did; the holder's replies then end at its batch's ReadyForQuery, and whatever the
         * server sends after it belongs to the next holder ({@link #release(boolean, LeaseUsage, Buffer)}).
         * The default lends nothing.
         */
        default boolean lendBehind() {
            return false;
        }

        /**
         * Gives the connection back like {@link #release(boolean, LeaseUsage)}; {@code unread}
         * is what the holder read from the server past its own last reply (a next holder's,
         * see {@link #lendBehind()}), passed on to whoever reads the connection next.
         */
        default void release(boolean reusable, LeaseUsage usage, Buffer unread) {
            release(reusable, usage);
        }

        /**
         * The holder's client left while the server still owes it {@code readyForQueries}
         * ReadyForQuery messages, after the connection was lent behind it ({@link #lendBehind()}):
         * the provider reads and drops the rest of those replies ({@code unread} is what the
         * holder had read of them), then lets the next holder read on. The default closes the
         * connection.
         */
        default void abandon(int readyForQueries, LeaseUsage usage, Buffer unread) {
            release(false, usage);
        }
    }

    /**
     * Work done on a lent server connection, counted by the host (which sees the traffic):
     * queries (a Query or an Execute, counted when its first CommandComplete, EmptyQueryResponse
     * or ErrorResponse reaches the client), transactions (from the first query while the server
     * is idle to the ReadyForQuery 'I' that ends it; a statement outside BEGIN is one), bytes the
     * client sent to the server and bytes the server sent, and the time queries and transactions
     * took in microseconds.
     */
    record LeaseUsage(long queries, long transactions, long bytesToServer, long bytesFromServer, long queryMicros, long transactionMicros) {

        public static final LeaseUsage NONE = new LeaseUsage(0, 0, 0, 0, 0, 0);

        public boolean isEmpty() {
            return queries == 0 && transactions == 0 && bytesToServer == 0 && bytesFromServer == 0;
        }
    }
}
