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
            java.util.List<Lease> behind;
            synchronized (pool) {
                behind = new java.util.ArrayList<>(queued);
            }
            behind.forEach(Lease::closedBeforeTurn);
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

    /** A lease on this connection for one acquisition, whose holder reads it at once. */
    BackendLease lease() {
        lent = true;
        Lease l = new Lease(true);
        synchronized (pool) {
            queued.clear();
            lastWriter = l;
        }
        return l;
    }

    /**
     * Leases lent behind the current holder's last statement ({@link Pool#lendBehind}), in the
     * order their work was written; each reads the connection once the one before it releases
     * it. Guarded by the pool's lock; every holder lives on this connection's event loop.
     */
    private final java.util.ArrayDeque<Lease> queued = new java.util.ArrayDeque<>(2);
    /** The lease whose work was written last: only it may lend the connection on. Guarded by the pool's lock. */
    private Lease lastWriter;

    /**
     * A lease that waits behind {@code lender}'s work; null unless {@code lender} wrote last
     * and fewer than {@code depth} already wait. Caller holds the pool's lock.
     */
    Lease lendNext(Lease lender, String holderAddress, int depth) {
        if (lender != lastWriter || queued.size() >= depth) {
            return null;
        }
        Lease n = new Lease(false);
        n.holderAddress = holderAddress;
        queued.add(n);
        lastWriter = n;
        return n;
    }

    /** Takes back a lease just lent that nobody took. Caller holds the pool's lock. */
    void unlend(Lease n, Lease lender) {
        if (queued.remove(n) && lastWriter == n) {
            lastWriter = lender;
        }
    }

    /** Whether a lease waits behind the holder. */
    boolean hasNext() {
        synchronized (pool) {
            return !queued.isEmpty();
        }
    }

    /** The lease waiting first behind the holder, taken off the queue (null if none). Caller holds the pool's lock. */
    Lease takeNext() {
        return queued.poll();
    }

    /** A waiting lease's turn: the connection's reads are its own from now, starting with {@code unread}. */
    void promote(Lease n, Buffer unread) {
        n.turn(unread);
        // A place in the queue came free: the lease that wrote last may lend the connection on.
        Lease last;
        synchronized (pool) {
            last = lastWriter;
        }
        if (last != null && last != n && !last.current) {
            LeaseReader r = last.waiting;
            if (r != null && !last.released.get()) {
                r.onRoomBehind();
            }
        }
    }

    /** One acquisition of this connection; releasing twice is harmless. */
    final class Lease implements BackendLease {
        private final AtomicBoolean released = new AtomicBoolean();
        /** The connection's replies are this lease's (false while it waits behind the holder). On the connection's loop. */
        private boolean current;
        /** The reader given while waiting, made the connection's reader at the turn. */
        private LeaseReader waiting;
        /** What the previous holder read past its own reply, when the turn came before the reader. */
        private Buffer unread;
        /** Released before its turn (its client left): its replies are dropped or the connection closed when the turn comes. */
        private boolean leftBeforeTurn;
        /** ReadyForQuery messages its client was still owed when it left; -1 when not known. */
        private int owedAtLeave = -1;
        /** Who holds it, for SHOW SERVERS once it is current. */
        private String holderAddress = "";

        Lease(boolean current) {
            this.current = current;
        }

        /** The previous holder is done: this lease reads the connection now. */
        private void turn(Buffer tail) {
            current = true;
            clientAddress = holderAddress;
            if (leftBeforeTurn) {
                if (owedAtLeave > 0 && hasNext()) {
                    // Others' work waits behind its: its replies are read and dropped.
                    pool.abandon(ServerConnection.this, owedAtLeave, tail);
                } else {
                    // Its statement may still be running, for nobody: ended like any other leaver's.
                    pool.release(ServerConnection.this, false);
                }
                return;
            }
            LeaseReader r = waiting;
            waiting = null;
            if (r == null) {
                unread = tail;
                return;
            }
            start(r, tail);
        }

        private void start(LeaseReader r, Buffer tail) {
            readBy(r);
            r.onTurn();
            if (tail != null && tail.length() > 0 && !socketClosed) {
                r.onMessage(io.netty.buffer.Unpooled.wrappedBuffer(tail.getBytes()));
            }
        }

        /** The connection broke before this lease's turn: its reader hears of it now, or when it comes. */
        void closedBeforeTurn() {
            current = true;
            LeaseReader r = waiting;
            waiting = null;
            if (r != null) {
                r.onClosed();
            }
        }

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
            if (released.get()) {
                return;
            }
            if (!current) {
                waiting = r;
                return;
            }
            if (state == State.CLOSED && !socketClosed) {
                r.onClosed();
                return;
            }
            Buffer tail = unread;
            unread = null;
            start(r, tail);
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
        public boolean lendBehind() {
            return !released.get() && pool.lendBehind(ServerConnection.this, this);
        }

        @Override
        public void release(boolean reusable) {
            release(reusable, null, null);
        }

        @Override
        public void release(boolean reusable, LeaseUsage usage) {
            release(reusable, usage, null);
        }

        @Override
        public void release(boolean reusable, LeaseUsage usage, Buffer unread) {
            if (released.compareAndSet(false, true)) {
                pool.usage(usage);
                if (!leaveBeforeTurn()) {
                    pool.release(ServerConnection.this, reusable, unread);
                }
            }
        }

        @Override
        public void abandon(int readyForQueries, LeaseUsage usage, Buffer unread) {
            if (released.compareAndSet(false, true)) {
                pool.usage(usage);
                if (!leaveBeforeTurn()) {
                    pool.abandon(ServerConnection.this, readyForQueries, unread);
                } else {
                    owedAtLeave = readyForQueries;
                }
            }
        }

        /**
         * A release before the turn (the client left while its work waited behind another's) must
         * not touch the connection the current holder is using: it is noted for the turn. True
         * when so. On the connection's loop, like the turn.
         */
        private boolean leaveBeforeTurn() {
            if (current) {
                return false;
            }
            leftBeforeTurn = true;
            waiting = null;
            return true;
        }

        @Override
        public void report(LeaseUsage usage) {
            if (!released.get()) {
                pool.usage(usage);
            }
        }
    }
}
