package io.neurondb.pooling;

import io.neurondb.plugin.api.BackendConnectionProvider.BackendLease;
import io.neurondb.plugin.api.BackendConnectionProvider.PoolMode;
import io.neurondb.plugin.api.BackendUnavailableException;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The server connections of one (database, user): idle ones (most recently used first, those
 * on the asking session's event loop preferred), the count of lent and connecting ones, and a
 * FIFO of waiting clients. A connection that comes free goes to the longest waiter. The lock
 * is this pool's alone and is held only for bookkeeping, never across I/O.
 */
final class Pool {

    private static final Logger log = LoggerFactory.getLogger(Pool.class);

    /** A client waiting for a connection. */
    private static final class Waiter {
        final Promise<BackendLease> promise = Promise.promise();
        final long since = System.nanoTime();
        final String clientAddress;
        /** Who waits, as SHOW CLIENTS asks ({@link #waitingClients}); null for the pool's own borrowers. */
        final Object client;
        /** The waiting session's event loop. */
        final Context context;
        /** Waited reserve_pool_timeout: the pool may grow into its reserve for this waiter. */
        boolean reserveAllowed;

        Waiter(String clientAddress, Object client, Context context) {
            this.clientAddress = clientAddress;
            this.client = client;
            this.context = context;
        }
    }

    final String database;
    final String user;
    private final Pooler pooler;
    private final Vertx vertx;
    private final ArrayDeque<ServerConnection> idle = new ArrayDeque<>();
    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    private final List<ServerConnection> all = new ArrayList<>();
    private int connecting;
    /** The event loops the connections being opened will live on (null: the opener's own); guarded by this. */
    private final List<Context> connectingOn = new ArrayList<>();
    private int resetting;
    /** Connections running server_check_query before they are lent. */
    private int testing;
    /** Clients logged in to this pool (for cl_active). */
    private int clients;
    /** Their sessions' event loops, one entry per client: where new connections should live. */
    private final List<Context> clientLoops = new ArrayList<>();
    /** Server logins that failed, for metrics. */
    final AtomicLong loginFailures = new AtomicLong();
    /** No login before this instant (System.nanoTime) after one failed; guarded by this. */
    private long loginRetryAtNanos = System.nanoTime();
    private boolean retryScheduled;
    /** SHUTDOWN or the plugin stopping: no more logins. */
    private boolean shutDown;

    /** Connections made before this instant are closed when they come back (RECONNECT). */
    private volatile long reconnectBefore;
    private volatile ServerLogin.Credentials credentials;
    final AtomicReference<Map<String, String>> serverParameters = new AtomicReference<>();
    final AtomicLong acquired = new AtomicLong();
    final AtomicLong waitNanosTotal = new AtomicLong();
    /** Clients that waited in the queue and then got a connection (the waits waitNanosTotal adds up). */
    final AtomicLong waits = new AtomicLong();
    /** SHOW STATS: what the host reported for this pool's leases. */
    final PoolStats stats;

    Pool(Pooler pooler, Vertx vertx, String database, String user) {
        this.pooler = pooler;
        this.vertx = vertx;
        this.database = database;
        this.user = user;
        this.stats = new PoolStats(pooler.statsPeriodStart());
    }

    PoolingSettings settings() {
        return pooler.settings();
    }

    /** The pool mode and the settings it was read from: looked up again only after a RELOAD. */
    private record ModeOf(PoolingSettings settings, PoolMode mode) {
    }

    private volatile ModeOf modeOf;

    PoolMode mode() {
        PoolingSettings s = settings();
        ModeOf m = modeOf;
        if (m == null || m.settings() != s) {
            // Every release asks; two map lookups per transaction showed in the pooled profile.
            m = new ModeOf(s, s.modeFor(database, user));
            modeOf = m;
        }
        return m.mode();
    }

    void credentials(ServerLogin.Credentials c) {
        credentials = c;
    }

    /** A client logged in to this pool; {@code loop} is its session's event loop (null if unknown). */
    synchronized void clientJoined(Context loop) {
        clients++;
        clientLoops.add(loop);
    }

    synchronized void clientLeft(Context loop) {
        clients--;
        clientLoops.remove(loop);
    }

    // ---- lending ----

    Future<BackendLease> acquire(String clientAddress) {
        return acquire(clientAddress, null);
    }

    /**
     * A connection for {@code client} (the key {@link #waitingClients} knows it by): at once when one
     * is idle, else when one comes free or query_wait_timeout fails the wait.
     */
    Future<BackendLease> acquire(String clientAddress, Object client) {
        Context ctx = Vertx.currentContext();
        Waiter w;
        ServerConnection toCheck = null;
        synchronized (this) {
            if (waiters.isEmpty() && !pooler.paused()) {
                ServerConnection c = takeIdle(ctx);
                if (c != null && needsCheck(c)) {
                    c.state = ServerConnection.State.TESTING;
                    testing++;
                    toCheck = c;
                } else if (c != null) {
                    acquired.incrementAndGet();
                    c.clientAddress = clientAddress;
                    return Future.succeededFuture(c.lease());
                }
            }
            if (toCheck == null) {
                w = new Waiter(clientAddress, client, ctx);
                waiters.add(w);
                armWaiterClock();
            } else {
                w = null;
            }
        }
        if (toCheck != null) {
            ServerConnection checked = toCheck;
            return check(checked).compose(ok -> {
                if (!checkDone(checked, ok)) {
                    return acquire(clientAddress, client);
                }
                acquired.incrementAndGet();
                checked.clientAddress = clientAddress;
                return Future.succeededFuture(checked.lease());
            });
        }
        grow();
        return w.promise.future();
    }

    /** An idle connection for a session on {@code ctx}: its own event loop first. Caller holds the lock. */
    private ServerConnection takeIdle(Context ctx) {
        long now = System.nanoTime();
        long lifetime = settings().serverLifetime().toNanos();
        ServerConnection fallback = null;
        for (Iterator<ServerConnection> it = idle.iterator(); it.hasNext(); ) {
            ServerConnection c = it.next();
            if (c.state == ServerConnection.State.CLOSED) {
                it.remove();
                continue;
            }
            if (c.expired(now, lifetime) || c.createdNanos < reconnectBefore) {
                it.remove();
                retire(c);
                continue;
            }
            if (c.context == ctx) {
                it.remove();
                c.state = ServerConnection.State.ACTIVE;
                return c;
            }
            if (fallback == null) {
                fallback = c;
            }
        }
        if (fallback != null) {
            idle.remove(fallback);
            fallback.state = ServerConnection.State.ACTIVE;
        }
        return fallback;
    }

    /**
     * One timer per pool watches the waiters' deadlines (query_wait_timeout, and
     * reserve_pool_timeout when there is a reserve), armed for the earliest. A timer per waiter
     * cost a timer insert and a cross-thread cancel for nearly every transaction once clients
     * queue. Waiters are in arrival order, so the deadlines due are always at the head.
     * Guarded by this; -1 when not armed.
     */
    private long waiterClock = -1;
    private long waiterClockAtNanos;

    /** Arms the clock for the next deadline unless it already fires by then. Caller holds the lock. */
    private void armWaiterClock() {
        long next = nextWaiterDeadline();
        if (next == Long.MAX_VALUE || (waiterClock >= 0 && waiterClockAtNanos - next <= 0)) {
            return;
        }
        if (waiterClock >= 0) {
            vertx.cancelTimer(waiterClock);
        }
        waiterClockAtNanos = next;
        long delayMillis = Math.max(1, TimeUnit.NANOSECONDS.toMillis(next - System.nanoTime()) + 1);
        waiterClock = vertx.setTimer(delayMillis, this::onWaiterClock);
    }

    /** The earliest instant (System.nanoTime) a waiter times out or may use the reserve; MAX_VALUE if none. Caller holds the lock. */
    private long nextWaiterDeadline() {
        PoolingSettings s = settings();
        long wait = s.queryWaitTimeout().toNanos();
        long next = Long.MAX_VALUE;
        Waiter head = waiters.peek();
        if (head != null && wait > 0) {
            next = head.since + wait;
        }
        if (s.reservePoolSize() > 0) {
            long reserve = Math.max(1, s.reservePoolTimeout().toNanos());
            for (Waiter w : waiters) {
                if (!w.reserveAllowed) {
                    next = next == Long.MAX_VALUE || w.since + reserve - next < 0 ? w.since + reserve : next;
                    break;
                }
            }
        }
        return next;
    }

    /** The clock fired: waiters past query_wait_timeout fail, those past reserve_pool_timeout may use the reserve. */
    private void onWaiterClock(long timerId) {
        List<Waiter> expired = new ArrayList<>();
        boolean reserveReached = false;
        synchronized (this) {
            if (timerId != waiterClock) {
                return;
            }
            waiterClock = -1;
            PoolingSettings s = settings();
            long now = System.nanoTime();
            long wait = s.queryWaitTimeout().toNanos();
            long reserve = s.reservePoolSize() > 0 ? Math.max(1, s.reservePoolTimeout().toNanos()) : 0;
            for (Iterator<Waiter> it = waiters.iterator(); it.hasNext(); ) {
                Waiter w = it.next();
                long waited = now - w.since;
                if (wait > 0 && waited >= wait) {
                    it.remove();
                    expired.add(w);
                } else if (reserve > 0 && waited >= reserve) {
                    reserveReached |= !w.reserveAllowed;
                    w.reserveAllowed = true;
                } else {
                    break; // everyone behind arrived later
                }
            }
            armWaiterClock();
        }
        for (Waiter w : expired) {
            long waitedMillis = (System.nanoTime() - w.since) / 1_000_000;
            log.info("event=query_wait_timeout database={} user={} waited_ms={} client={}", database, user, waitedMillis, w.clientAddress);
            w.promise.tryFail(new BackendUnavailableException("08P01", "query_wait_timeout: no server connection became free within "
                    + settings().queryWaitTimeout().toSeconds() + " s (pool " + database + "/" + user + " has "
                    + settings().poolSizeFor(database) + " connections, all busy)"));
        }
        if (reserveReached) {
            grow();
        }
    }

    /** Opens connections while clients wait and the limits allow. */
    void grow() {
        int toOpen = 0;
        boolean evict = false;
        List<Context> where;
        synchronized (this) {
            if (pooler.paused() || shutDown || System.nanoTime() - loginRetryAtNanos < 0) {
                return; // after a failed login, the next waits for server_login_retry (a timer calls grow then)
            }
            PoolingSettings s = settings();
            boolean reserve = s.reservePoolSize() > 0 && waiters.stream().anyMatch(w -> w.reserveAllowed);
            int limit = s.poolSizeFor(database) + (reserve ? s.reservePoolSize() : 0);
            int wanted = Math.max(waiters.size() - connecting, s.minPoolSize() - all.size() - connecting);
            while (toOpen < wanted && all.size() + connecting + toOpen < limit) {
                if (!pooler.reserveSlot(database, user)) {
                    // max_db_connections or max_user_connections is reached: a client that waits
                    // may take the place of an idle connection of another pool (as PgBouncer evicts).
                    evict = !waiters.isEmpty();
                    break;
                }
                toOpen++;
            }
            connecting += toOpen;
            where = new ArrayList<>(toOpen);
            for (int i = 0; i < toOpen; i++) {
                Context loop = loopForNextConnection();
                connectingOn.add(loop);
                where.add(loop);
            }
        }
        for (Context loop : where) {
            open(loop);
        }
        if (evict) {
            pooler.evictIdleFor(this);
        }
    }

    /** Closes this pool's longest-idle connection to make room for another pool; false when none is idle. */
    boolean evictOneIdle() {
        ServerConnection c;
        synchronized (this) {
            c = idle.pollLast();
        }
        if (c == null) {
            return false;
        }
        log.info("event=server_evicted database={} user={} server_id={} reason=\"a client of another pool waits at max_db_connections or max_user_connections\"",
                database, user, c.id);
        retire(c);
        return true;
    }

    /**
     * The event loop a new connection should live on: the one whose clients have the fewest
     * connections each (open or opening). A connection serves sessions on its own loop without
     * a thread hand-over for every message, so connections must follow the clients: opened on
     * whichever loop first asked, a pool of 10 with 256 clients on 2 loops came out 8 to 2, and
     * 15% of its transactions crossed loops. Null (the opener's loop) when no client is known.
     * Caller holds the lock.
     */
    private Context loopForNextConnection() {
        List<Context> taken = new ArrayList<>(connectingOn);
        for (ServerConnection c : all) {
            taken.add(c.context);
        }
        return mostUnderserved(clientLoops, taken);
    }

    /**
     * Of the loops in {@code clients} (one entry per client), the one with the most clients per
     * connection in {@code connections} (one entry per connection), the first seen on a tie;
     * null when there are no clients.
     */
    static <T> T mostUnderserved(List<T> clients, List<T> connections) {
        T best = null;
        double bestScore = -1;
        List<T> seen = new ArrayList<>();
        for (T loop : clients) {
            if (seen.contains(loop)) {
                continue;
            }
            seen.add(loop);
            long clientCount = clients.stream().filter(t -> t == loop).count();
            long connectionCount = connections.stream().filter(t -> t == loop).count();
            double score = (double) clientCount / (connectionCount + 1);
            if (score > bestScore) {
                best = loop;
                bestScore = score;
            }
        }
        return best;
    }

    /** Opens a connection whose socket lives on {@code loop} (null: the current one). */
    private void open(Context loop) {
        if (loop != null && Vertx.currentContext() != loop) {
            loop.runOnContext(v -> login(loop));
        } else {
            login(loop);
        }
    }

    private void login(Context loop) {
        ServerLogin.Credentials c = credentials;
        pooler.login(database, c).onComplete(ar -> {
            synchronized (this) {
                connectingOn.remove(loop);
            }
            if (ar.failed()) {
                List<Waiter> failed = List.of();
                synchronized (this) {
                    connecting--;
                    if (all.isEmpty() && connecting == 0) {
                        failed = new ArrayList<>(waiters);
                        waiters.clear();
                    }
                }
                loginFailures.incrementAndGet();
                long retry = settings().serverLoginRetry().toMillis();
                synchronized (this) {
                    // Without a pause, a refused login (server down, wrong secret, a closed client)
                    // would be retried at once, forever: PgBouncer's server_login_retry.
                    loginRetryAtNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(retry);
                    if (!retryScheduled && !shutDown) {
                        retryScheduled = true;
                        vertx.setTimer(Math.max(1, retry), id -> {
                            synchronized (this) {
                                retryScheduled = false;
                            }
                            grow();
                        });
                    }
                }
                pooler.releaseSlot(database, user);
                log.warn("event=server_login_failed database={} user={} retry_ms={} error=\"{}\"", database, user, retry,
                        ar.cause().getMessage());
                for (Waiter w : failed) {
                    w.promise.tryFail(new BackendUnavailableException("08006", "could not open a server connection: " + ar.cause().getMessage()));
                }
                return;
            }
            ServerLogin.LoggedIn in = ar.result();
            ServerConnection conn = new ServerConnection(pooler.nextServerId(), this, in.socket(), in.context(),
                    in.parameters(), in.processId(), in.secretKey());
            serverParameters.compareAndSet(null, in.parameters());
            conn.startReading();
            synchronized (this) {
                connecting--;
                all.add(conn);
            }
            log.debug("event=server_opened database={} user={} server_id={}", database, user, conn.id);
            handOut(conn);
        });
    }

    /** Gives a free connection to the longest waiter, or makes it idle. */
    private void handOut(ServerConnection conn) {
        // The pool reads the connection again before it can be seen in the idle list: once it is
        // there, a session on another thread may take it and make itself the reader, and a
        // watchIdle() after that would send the new holder's replies to the idle watch (a lost
        // reply, the client hanging for good).
        conn.watchIdle();
        Waiter w = null;
        boolean test = false;
        synchronized (this) {
            if (conn.state == ServerConnection.State.CLOSED) {
                return;
            }
            boolean lend = !pooler.paused() && !waiters.isEmpty();
            if (lend && needsCheck(conn)) {
                // The waiters keep their places while the connection is checked: a good one comes
                // back here (to the longest waiter then), a bad one is closed and another opened.
                test = true;
                conn.state = ServerConnection.State.TESTING;
                testing++;
            } else if (lend) {
                w = nextWaiterFor(conn);
                conn.state = ServerConnection.State.ACTIVE;
                conn.clientAddress = w.clientAddress;
                acquired.incrementAndGet();
                waitNanosTotal.addAndGet(System.nanoTime() - w.since);
                waits.incrementAndGet();
            } else {
                conn.state = ServerConnection.State.IDLE;
                conn.lastUsedNanos = System.nanoTime();
                conn.clientAddress = "";
                idle.push(conn);
            }
        }
        if (test) {
            check(conn).onComplete(ar -> {
                if (checkDone(conn, ar.result())) {
                    handOut(conn);
                }
            });
            return;
        }
        if (w == null) {
            pooler.serverReturned();
            pooler.idleAvailable(this);
            return;
        }
        if (!w.promise.tryComplete(conn.lease())) {
            handOut(conn);
        }
    }

    /**
     * How much longer than the waiter it passes over the longest waiter may have waited when a
     * free connection goes to a waiter on its own event loop. 10 ms rather than 2: at 256
     * clients on a pool of 10 (a wait of about 20 ms each) it gave 6-21% more transactions per
     * second in paired runs with the same spread of latencies (docs/BENCHMARKS.md, session 9).
     */
    private static final long AFFINITY_SLACK_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    /**
     * Who gets a free connection: the longest waiter on the connection's own event loop, unless
     * the longest waiter of all has waited {@link #AFFINITY_SLACK_NANOS} longer. A session
     * running on another loop than its server connection pays a thread hand-over for every
     * message both ways, and with clients queueing for a few connections that was most of the
     * pooled path's cost; the slack keeps the queue fair within a bound when the connections
     * and the waiters sit on different loops. Caller holds the lock; waiters is not empty.
     */
    private Waiter nextWaiterFor(ServerConnection conn) {
        Waiter w = waiterOn(conn.context);
        if (w == null) {
            return waiters.poll();
        }
        if (w == waiters.peek()) {
            return waiters.poll();
        }
        waiters.remove(w);
        return w;
    }

    /**
     * The longest waiter on {@code loop} that has not waited {@link #AFFINITY_SLACK_NANOS} less
     * than the longest waiter of all; null if none. Caller holds the lock; waiters is not empty.
     */
    private Waiter waiterOn(Context loop) {
        Waiter head = waiters.peek();
        long oldestAllowed = head.since + AFFINITY_SLACK_NANOS;
        for (Waiter w : waiters) {
            if (w.since - oldestAllowed > 0) {
                return null;
            }
            if (w.context == loop) {
                return w;
            }
        }
        return null;
    }

    /**
     * Whether a connection must pass server_check_query before it is lent: it sat unused longer
     * than server_check_delay (0: always). An empty query turns checks off.
     */
    private boolean needsCheck(ServerConnection c) {
        PoolingSettings s = settings();
        String q = s.serverCheckQuery();
        return c.lent && q != null && !q.isBlank() && System.nanoTime() - c.lastUsedNanos > s.serverCheckDelay().toNanos();
    }

    /**
     * Runs server_check_query on a connection nobody holds. True when the server answered it
     * without an error and is outside a transaction; false on an error, a close or no answer
     * within server_connect_timeout.
     */
    private Future<Boolean> check(ServerConnection conn) {
        Promise<Boolean> result = Promise.promise();
        PgWire.Splitter splitter = new PgWire.Splitter();
        boolean[] failed = new boolean[1];
        long timer = vertx.setTimer(Math.max(1000, settings().serverConnectTimeout().toMillis()), id -> result.tryComplete(false));
        conn.readByPool(chunk -> {
            try {
                splitter.feed(chunk, m -> {
                    if (m.type() == PgWire.ERROR_RESPONSE) {
                        failed[0] = true;
                        log.info("event=server_check_failed database={} user={} server_id={} sqlstate={}", database, user, conn.id,
                                PgWire.errorFields(m.body())[0]);
                    } else if (m.type() == PgWire.READY_FOR_QUERY) {
                        result.tryComplete(!failed[0] && m.body().getByte(0) == 'I');
                    }
                });
            } catch (IllegalStateException e) {
                result.tryComplete(false);
            }
        }, () -> result.tryComplete(false));
        conn.socket.write(PgWire.query(settings().serverCheckQuery()));
        return result.future().andThen(ar -> vertx.cancelTimer(timer));
    }

    /** After a check: a good connection counts as just used and stays lent, a bad one is closed. */
    private boolean checkDone(ServerConnection conn, boolean ok) {
        synchronized (this) {
            testing--;
            if (ok) {
                conn.state = ServerConnection.State.ACTIVE;
                conn.lastUsedNanos = System.nanoTime();
            }
        }
        if (ok) {
            conn.watchIdle();
        } else {
            log.info("event=server_check_closed database={} user={} server_id={}", database, user, conn.id);
            retire(conn);
            grow();
        }
        return ok;
    }

    /** The host's count of a lease's work (at release, or per transaction in session mode). */
    void usage(io.neurondb.plugin.api.BackendConnectionProvider.LeaseUsage u) {
        stats.add(u);
    }

    /** Ends a stats_period. */
    void rollStats(long nowNanos) {
        stats.roll(nowNanos, acquired.get(), waitNanosTotal.get() / 1000);
    }

    /**
     * Lends {@code conn} to a client waiting on the connection's own event loop while its holder
     * still runs its last statement ({@link io.neurondb.plugin.api.BackendConnectionProvider.BackendLease#lendBehind}):
     * the waiter's work goes out at once and the server runs it as soon as the holder's is
     * done, without going idle between the two. Only a waiter on the connection's loop (the
     * holder's too) qualifies: its writes then follow the holder's on the socket, and the
     * holder passes what it read past its own reply on the same thread. The longest waiter
     * keeps its claim within {@link #AFFINITY_SLACK_NANOS}, as in {@link #nextWaiterFor}.
     */
    boolean lendBehind(ServerConnection conn, ServerConnection.Lease lender) {
        if (!settings().serverPipelining() || Vertx.currentContext() != conn.context) {
            return false;
        }
        Waiter w;
        ServerConnection.Lease next;
        synchronized (this) {
            if (pooler.paused() || shutDown || waiters.isEmpty() || conn.state != ServerConnection.State.ACTIVE) {
                return false;
            }
            w = waiterOn(conn.context);
            if (w == null) {
                return false;
            }
            next = conn.lendNext(lender, w.clientAddress, settings().serverPipelineDepth());
            if (next == null) {
                return false;
            }
            waiters.remove(w);
            acquired.incrementAndGet();
            waitNanosTotal.addAndGet(System.nanoTime() - w.since);
            waits.incrementAndGet();
            lentBehind.incrementAndGet();
        }
        if (!w.promise.tryComplete(next)) {
            synchronized (this) {
                conn.unlend(next, lender);
            }
            return false;
        }
        return true;
    }

    /** Leases lent behind a holder's last statement (see {@link #lendBehind}). */
    final AtomicLong lentBehind = new AtomicLong();

    /** A lease came back; {@code unread} is what its holder read past its own reply. */
    void release(ServerConnection conn, boolean reusable, io.vertx.core.buffer.Buffer unread) {
        ServerConnection.Lease next;
        synchronized (this) {
            next = conn.takeNext();
        }
        if (next != null) {
            conn.lastUsedNanos = System.nanoTime();
            if (reusable && conn.state != ServerConnection.State.CLOSED) {
                conn.promote(next, unread);
                return;
            }
            // The next holder's work was written behind a holder that could not finish cleanly:
            // it goes with the connection, and its client gets the connection's error.
            next.closedBeforeTurn();
        }
        release(conn, reusable);
    }

    /**
     * The holder's client left while the server still owed it {@code readyForQueries}
     * ReadyForQuery messages, and the connection was lent behind it: its replies are read and
     * dropped up to the last of them, then the next holder reads on. Closing the connection, as
     * for any other client that leaves mid-reply, would lose the next client's work with it.
     */
    void abandon(ServerConnection conn, int readyForQueries, io.vertx.core.buffer.Buffer unread) {
        if (readyForQueries <= 0 || !conn.hasNext()) {
            release(conn, readyForQueries <= 0 && conn.hasNext(), unread);
            return;
        }
        int[] left = {readyForQueries};
        // Bytes of the message being passed over; a message's head (type and length, or a whole
        // ReadyForQuery) waits for its bytes. Nothing larger is kept: a large result is skipped.
        long[] skip = {0};
        io.vertx.core.buffer.Buffer[] head = {io.vertx.core.buffer.Buffer.buffer()};
        boolean[] over = {false};
        io.vertx.core.Handler<io.vertx.core.buffer.Buffer> reads = chunk -> {
            if (over[0]) {
                return;
            }
            io.vertx.core.buffer.Buffer buf = head[0].length() == 0 ? chunk : head[0].appendBuffer(chunk);
            int at = 0;
            while (at < buf.length()) {
                if (skip[0] > 0) {
                    int n = (int) Math.min(skip[0], buf.length() - at);
                    at += n;
                    skip[0] -= n;
                    continue;
                }
                if (buf.length() - at < 5) {
                    break;
                }
                byte type = buf.getByte(at);
                int length = buf.getInt(at + 1);
                if (length < 4) {
                    over[0] = true;
                    release(conn, false, null);
                    return;
                }
                if (type != PgWire.READY_FOR_QUERY) {
                    at += 5;
                    skip[0] = length - 4;
                    continue;
                }
                if (buf.length() - at < 1 + length) {
                    break;
                }
                boolean idle = length == 5 && buf.getByte(at + 5) == 'I';
                at += 1 + length;
                if (--left[0] == 0) {
                    over[0] = true;
                    release(conn, idle, buf.getBuffer(at, buf.length()));
                    return;
                }
            }
            head[0] = buf.getBuffer(at, buf.length());
        };
        conn.readByPool(reads, () -> {
            if (!over[0]) {
                over[0] = true;
                release(conn, false, null);
            }
        });
        if (unread != null && unread.length() > 0) {
            reads.handle(unread);
        }
    }

    /** A lease came back. */
    void release(ServerConnection conn, boolean reusable) {
        long now = System.nanoTime();
        conn.lastUsedNanos = now;
        if (!reusable || conn.state == ServerConnection.State.CLOSED || conn.expired(now, settings().serverLifetime().toNanos())
                || conn.createdNanos < reconnectBefore || aboveSize()) {
            retire(conn);
            grow();
            return;
        }
        String reset = settings().serverResetQuery();
        if (mode() == PoolMode.SESSION && reset != null && !reset.isBlank()) {
            resetThenHandOut(conn, reset);
        } else {
            handOut(conn);
        }
    }

    /** More connections than pool_size plus reserve_pool_size (pool_size was lowered by RELOAD), and nobody waits. */
    private synchronized boolean aboveSize() {
        PoolingSettings s = settings();
        return waiters.isEmpty() && all.size() > s.poolSizeFor(database) + s.reservePoolSize();
    }

    /** Runs server_reset_query (session mode) so the next client finds a clean connection. */
    private void resetThenHandOut(ServerConnection conn, String reset) {
        synchronized (this) {
            conn.state = ServerConnection.State.RESETTING;
            resetting++;
        }
        conn.forgetHostState();
        PgWire.Splitter splitter = new PgWire.Splitter();
        boolean[] failed = new boolean[1];
        java.util.concurrent.atomic.AtomicBoolean over = new java.util.concurrent.atomic.AtomicBoolean();
        conn.readByPool(chunk -> splitter.feed(chunk, m -> {
            if (m.type() == PgWire.ERROR_RESPONSE) {
                failed[0] = true;
            } else if (m.type() == PgWire.READY_FOR_QUERY && over.compareAndSet(false, true)) {
                synchronized (this) {
                    resetting--;
                }
                if (failed[0] || m.body().getByte(0) != 'I') {
                    retire(conn);
                    grow();
                } else {
                    handOut(conn);
                }
            }
        }), () -> {
            if (over.compareAndSet(false, true)) {
                synchronized (this) {
                    resetting--;
                }
                serverClosed(conn);
            }
        });
        conn.socket.write(PgWire.query(reset));
    }

    /** Closes a connection and forgets it; the future completes when it is closed. */
    io.vertx.core.Future<Void> retire(ServerConnection conn) {
        boolean known;
        synchronized (this) {
            idle.remove(conn);
            known = all.remove(conn);
        }
        var closed = conn.close(vertx);
        if (known) {
            closed.onComplete(v -> pooler.releaseSlot(database, user));
        }
        pooler.serverReturned();
        return closed;
    }

    /**
     * Closes every idle connection: a {@code DROP DATABASE} of this pool's server database is
     * coming, which PostgreSQL refuses while they are connected. Lent ones stay.
     */
    io.vertx.core.Future<Void> closeIdle() {
        List<ServerConnection> closing;
        synchronized (this) {
            closing = new ArrayList<>(idle);
            idle.clear();
        }
        List<io.vertx.core.Future<Void>> closed = new ArrayList<>();
        for (ServerConnection c : closing) {
            log.info("event=server_closed database={} user={} server_id={} reason=\"DROP DATABASE\"", database, user, c.id);
            closed.add(retire(c));
        }
        return io.vertx.core.Future.join(closed).mapEmpty();
    }

    void serverClosed(ServerConnection conn) {
        log.info("event=server_closed_idle database={} user={} server_id={}", database, user, conn.id);
        conn.closedByServer();
        retire(conn);
        grow();
    }

    /** Periodic upkeep: idle timeout, lifetime, min_pool_size. */
    void maintain() {
        PoolingSettings s = settings();
        long now = System.nanoTime();
        List<ServerConnection> close = new ArrayList<>();
        synchronized (this) {
            long idleLimit = s.serverIdleTimeout().toNanos();
            int keep = s.minPoolSize();
            for (ServerConnection c : idle) {
                boolean tooOld = c.expired(now, s.serverLifetime().toNanos()) || c.createdNanos < reconnectBefore;
                boolean tooIdle = idleLimit > 0 && now - c.lastUsedNanos > idleLimit && all.size() - close.size() > keep;
                if (tooOld || tooIdle) {
                    close.add(c);
                }
            }
        }
        close.forEach(this::retire);
        grow();
    }

    /** RESUME: connections that stayed idle while paused go to the clients that queued. */
    void resumeWaiters() {
        List<ServerConnection> free;
        synchronized (this) {
            free = new ArrayList<>(idle);
            idle.clear();
        }
        free.forEach(this::handOut);
        grow();
    }

    /** RECONNECT: every connection is closed as soon as it is free. */
    void reconnect() {
        reconnectBefore = System.nanoTime();
        maintain();
    }

    /** Fails waiters and closes idle connections (SHUTDOWN). */
    void shutdown() {
        List<Waiter> ws;
        List<ServerConnection> idles;
        synchronized (this) {
            shutDown = true;
            ws = new ArrayList<>(waiters);
            waiters.clear();
            idles = new ArrayList<>(idle);
        }
        ws.forEach(w -> {
            w.promise.tryFail(new BackendUnavailableException("57P01", "pooler is shutting down"));
        });
        idles.forEach(this::retire);
    }

    /** Counts for SHOW POOLS and metrics. */
    record Snapshot(int clActive, int clWaiting, int svActive, int svIdle, int svLogin, int svTested, long maxWaitMicros) {
    }

    synchronized Snapshot snapshot() {
        long maxWait = waiters.isEmpty() ? 0 : (System.nanoTime() - waiters.peek().since) / 1000;
        int svIdle = idle.size();
        int svActive = all.size() - svIdle - resetting - testing;
        return new Snapshot(Math.max(0, clients - waiters.size()), waiters.size(), svActive, svIdle, connecting, resetting + testing, maxWait);
    }

    /**
     * The clients queued for a connection now (SHOW CLIENTS), by identity. Asked of the queue
     * rather than kept by each client: a flag cleared when the lease came needed one more future
     * stage on every hand-over.
     */
    synchronized java.util.Set<Object> waitingClients() {
        java.util.Set<Object> out = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (Waiter w : waiters) {
            if (w.client != null) {
                out.add(w.client);
            }
        }
        return out;
    }

    synchronized boolean hasWaiters() {
        return !waiters.isEmpty();
    }

    /** PAUSE is done with this pool: no connection is lent, logging in, reset or checked. */
    synchronized boolean drained() {
        return connecting == 0 && idle.size() == all.size();
    }

    synchronized List<ServerConnection> connections() {
        return new ArrayList<>(all);
    }
}
