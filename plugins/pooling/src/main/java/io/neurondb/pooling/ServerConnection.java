package io.neurondb.pooling;

import io.neurondb.plugin.api.BackendConnectionProvider.BackendLease;
import io.neurondb.plugin.api.BackendConnectionProvider.LeaseReader;
import io.neurondb.plugin.api.BackendConnectionProvider.LeaseUsage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetSocket;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One logged-in server connection of a pool. While lent it belongs to one session (the lease),
 * which reads it through the reader it gives the lease; while idle the pool watches it for the
 * server closing it.
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
    /** The host's state on this connection ({@link BackendLease#hostState()}); written by the lease holder only. */
    volatile Object hostState;
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

    /** The reader of an idle connection: anything the server sends now is unexpected, and a close removes it from the pool. */
    private final LeaseReader idleWatch = new LeaseReader() {
        @Override
        public void onMessage(Object message) {
            // ParameterStatus or a NOTICE could come; a FATAL (admin shutdown) is followed by a close.
            ReferenceCountUtil.release(message);
        }

        @Override
        public void onClosed() {
            pool.serverClosed(ServerConnection.this);
        }
    };

    /**
     * Who gets the socket's reads and its close now: the lease holder's reader, or one of the
     * pool's (the idle watch, a reset or check query, the close). The socket's handlers are set
     * once, here, and dispatch to it: swapping handlers at every lease and return cost more than
     * this field.
     */
    private volatile LeaseReader reader = idleWatch;
    private volatile boolean socketClosed;
    /** The last reader told of the close (each is told once); guarded by this. */
    private LeaseReader toldOfClose;

    /** Sets the socket's handlers for the connection's life; once, after its login. */
    void startReading() {
        ((NetSocketInternal) socket).messageHandler(m -> reader.onMessage(m));
        socket.closeHandler(v -> {
            socketClosed = true;
            tellClosed(reader);
        });
        socket.exceptionHandler(e -> socket.close());
    }

    /** The connection is idle (or between holders): the pool watches it. */
    void watchIdle() {
        readBy(idleWatch);
    }

    /** The pool reads the socket itself (a reset or check query): each read as a Buffer, and what a close does. */
    void readByPool(Handler<Buffer> reads, Runnable onClose) {
        readBy(new LeaseReader() {
            @Override
            public void onMessage(Object message) {
                if (message instanceof ByteBuf bytes) {
                    Buffer chunk = Buffer.buffer(ByteBufUtil.getBytes(bytes));
                    bytes.release();
                    reads.handle(chunk);
                } else {
                    ReferenceCountUtil.release(message);
                }
            }

            @Override
            public void onClosed() {
                onClose.run();
            }
        });
    }

    /** Makes {@code r} the reader; a close that came before reaches it too. */
    private void readBy(LeaseReader r) {
        reader = r;
        if (socketClosed) {
            tellClosed(r);
        }
    }

    /** Each reader hears of the close once, though the close may race its switch-over. */
    private void tellClosed(LeaseReader r) {
        synchronized (this) {
            if (toldOfClose == r) {
                return;
            }
            toldOfClose = r;
        }
        r.onClosed();
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
        readByPool(chunk -> {
        }, gone::tryComplete);
        long timer = vertx.setTimer(2000, id -> {
            socket.close();
            gone.tryComplete();
        });
        gone.future().onComplete(v -> vertx.cancelTimer(timer));
        socket.write(PgWire.terminate());
        return gone.future();
    }

    /** server_reset_query ran (or is about to): what any lease holder kept on the connection is void. */
    void forgetHostState() {
        attachments.clear();
        hostState = null;
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
            public void read(LeaseReader r) {
                if (!released.get()) {
                    readBy(r);
                }
            }

            @Override
            public Map<String, Object> attachments() {
                return attachments;
            }

            @Override
            public Object hostState() {
                return hostState;
            }

            @Override
            public void hostState(Object state) {
                hostState = state;
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
