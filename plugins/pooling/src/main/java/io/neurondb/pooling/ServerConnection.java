package io.neurondb.pooling;

import io.neurondb.plugin.api.BackendConnectionProvider.BackendLease;
import io.neurondb.plugin.api.BackendConnectionProvider.LeaseUsage;
import io.vertx.core.Context;
import io.vertx.core.net.NetSocket;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One logged-in server connection of a pool. While lent it belongs to one session (the lease);
 * while idle the pool watches it for the server closing it.
 */
final class ServerConnection {

    enum State { IDLE, ACTIVE, RESETTING, TESTING, CLOSED }

    final long id;
    final Pool pool;
    final NetSocket socket;
    /** The event loop the socket lives on; sessions on the same loop get it first. */
    final Context context;
    final Map<String, String> parameters;
    final int processId;
    final int secretKey;
    final long createdNanos = System.nanoTime();
    final long createdMillis = System.currentTimeMillis();
    final Map<String, Object> attachments = new ConcurrentHashMap<>();
    volatile long lastUsedNanos = System.nanoTime();
    volatile State state = State.IDLE;
    /** Connection-level facts for SHOW SERVERS. */
    volatile String clientAddress = "";
    volatile long leasedAtMillis;
    /** Lent at least once: a connection fresh from its login needs no server_check_query. */
    volatile boolean lent;

    ServerConnection(long id, Pool pool, NetSocket socket, Context context, Map<String, String> parameters, int processId, int secretKey) {
        this.id = id;
        this.pool = pool;
        this.socket = socket;
        this.context = context;
        this.parameters = parameters;
        this.processId = processId;
        this.secretKey = secretKey;
    }

    long lastUsedMillis() {
        return System.currentTimeMillis() - (System.nanoTime() - lastUsedNanos) / 1_000_000;
    }

    boolean expired(long nowNanos, long lifetimeNanos) {
        return lifetimeNanos > 0 && nowNanos - createdNanos > lifetimeNanos;
    }

    /** Watches an idle connection: anything the server sends now is unexpected, and a close removes it from the pool. */
    void watchIdle() {
        onData(b -> {
            // ParameterStatus or a NOTICE could come; a FATAL (admin shutdown) is followed by a close.
        });
        socket.closeHandler(v -> pool.serverClosed(this));
        socket.exceptionHandler(e -> socket.close());
    }

    /**
     * Takes the socket's reads back from the last lease holder: the host reads a lent socket
     * through its message handler, which a plain data handler does not replace, so that is
     * reset first (else the pool would never see the answer to its reset or check query).
     */
    void onData(io.vertx.core.Handler<io.vertx.core.buffer.Buffer> handler) {
        ((io.vertx.core.internal.net.NetSocketInternal) socket).messageHandler(null);
        socket.handler(handler);
    }

    private final io.vertx.core.Promise<Void> gone = io.vertx.core.Promise.promise();

    /** The server closed the connection (an idle one was terminated): nothing is left to close. */
    void closedByServer() {
        state = State.CLOSED;
        gone.tryComplete();
    }

    /**
     * Ends the connection: Terminate, then the server's own close, which comes once its backend
     * has exited — so a slot freed on that (max_db_connections, max_user_connections) is free
     * on the server too. A server that does not close within 2 s is cut off.
     */
    io.vertx.core.Future<Void> close(io.vertx.core.Vertx vertx) {
        if (state == State.CLOSED) {
            return gone.future();
        }
        state = State.CLOSED;
        socket.closeHandler(v -> gone.tryComplete());
        socket.exceptionHandler(e -> socket.close());
        long timer = vertx.setTimer(2000, id -> {
            socket.close();
            gone.tryComplete();
        });
        gone.future().onComplete(v -> vertx.cancelTimer(timer));
        socket.write(PgWire.terminate());
        return gone.future();
    }

    /** A lease on this connection for one acquisition; releasing twice is harmless. */
    BackendLease lease() {
        lent = true;
        AtomicBoolean released = new AtomicBoolean();
        return new BackendLease() {
            @Override
            public NetSocket socket() {
                return socket;
            }

            @Override
            public int processId() {
                return processId;
            }

            @Override
            public int secretKey() {
                return secretKey;
            }

            @Override
            public Map<String, Object> attachments() {
                return attachments;
            }

            @Override
            public void release(boolean reusable) {
                release(reusable, null);
            }

            @Override
            public void release(boolean reusable, LeaseUsage usage) {
                if (released.compareAndSet(false, true)) {
                    pool.usage(usage);
                    pool.release(ServerConnection.this, reusable);
                }
            }

            @Override
            public void report(LeaseUsage usage) {
                if (!released.get()) {
                    pool.usage(usage);
                }
            }
        };
    }
}
