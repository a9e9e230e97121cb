package io.neurondb.pooling;

import io.neurondb.plugin.api.BackendConnectionProvider.BackendLease;
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

    enum State { IDLE, ACTIVE, RESETTING, CLOSED }

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
        socket.handler(b -> {
            // ParameterStatus or a NOTICE could come; a FATAL (admin shutdown) is followed by a close.
        });
        socket.closeHandler(v -> pool.serverClosed(this));
        socket.exceptionHandler(e -> socket.close());
    }

    void close() {
        if (state == State.CLOSED) {
            return;
        }
        state = State.CLOSED;
        socket.write(PgWire.terminate()).onComplete(ar -> socket.close());
    }

    /** A lease on this connection for one acquisition; releasing twice is harmless. */
    BackendLease lease() {
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
                if (released.compareAndSet(false, true)) {
                    pool.release(ServerConnection.this, reusable);
                }
            }
        };
    }
}
