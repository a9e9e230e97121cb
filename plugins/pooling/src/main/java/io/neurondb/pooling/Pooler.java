package io.neurondb.pooling;

import io.neurondb.plugin.api.UpstreamServer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.ClientSSLOptions;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.PemTrustOptions;

import java.util.Collection;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * All pools, keyed by (database, user), and the limits that span pools: {@code max_client_conn},
 * {@code max_db_connections}, {@code max_user_connections}. Settings are swapped whole on
 * RELOAD; pools and clients stay.
 */
final class Pooler {

    record PoolKey(String database, String user) {
    }

    private final Vertx vertx;
    private final UpstreamServer upstream;
    private final NetClient netClient;
    private volatile PoolingSettings settings;
    private volatile ServerLogin login;
    private final ConcurrentHashMap<PoolKey, Pool> pools = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, AtomicInteger> perDatabase = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, AtomicInteger> perUser = new ConcurrentHashMap<>();
    final AtomicInteger clients = new AtomicInteger();
    private final AtomicLong serverIds = new AtomicLong();
    private volatile boolean paused;
    private final Consumer<Pool> onNewPool;

    Pooler(Vertx vertx, UpstreamServer upstream, PoolingSettings settings, Consumer<Pool> onNewPool) {
        this.vertx = vertx;
        this.upstream = upstream;
        this.settings = settings;
        this.onNewPool = onNewPool;
        this.netClient = vertx.createNetClient(new NetClientOptions().setTcpNoDelay(true)
                .setConnectTimeout((int) Math.max(1, settings.serverConnectTimeout().toMillis())));
        this.login = newLogin(settings);
    }

    private ServerLogin newLogin(PoolingSettings s) {
        ClientSSLOptions ssl = new ClientSSLOptions();
        if ("verify-full".equals(upstream.tlsMode()) && upstream.caFile() != null) {
            ssl.setTrustOptions(new PemTrustOptions().addCertPath(upstream.caFile())).setHostnameVerificationAlgorithm("HTTPS");
        } else {
            ssl.setTrustAll(true).setHostnameVerificationAlgorithm("");
        }
        return new ServerLogin(netClient, upstream.host(), upstream.port(), upstream.tlsMode(), ssl, s.serverConnectTimeout().toMillis());
    }

    PoolingSettings settings() {
        return settings;
    }

    void reload(PoolingSettings next) {
        settings = next;
        login = newLogin(next);
        pools.values().forEach(Pool::grow);
    }

    UpstreamServer upstream() {
        return upstream;
    }

    Vertx vertx() {
        return vertx;
    }

    Pool pool(String database, String user) {
        return pools.computeIfAbsent(new PoolKey(database, user), k -> {
            Pool p = new Pool(this, vertx, k.database(), k.user());
            onNewPool.accept(p);
            return p;
        });
    }

    Collection<Pool> pools() {
        return List.copyOf(pools.values());
    }

    /** Closes the idle server connections of every pool whose server database is {@code serverDatabase}. */
    io.vertx.core.Future<Void> closeIdle(String serverDatabase) {
        List<io.vertx.core.Future<Void>> closed = new java.util.ArrayList<>();
        for (Pool p : pools.values()) {
            if (serverDatabase(p.database).equals(serverDatabase)) {
                closed.add(p.closeIdle());
            }
        }
        return io.vertx.core.Future.join(closed).mapEmpty();
    }

    /** The server database a client's database maps to ({@code databases: x: dbname}). */
    String serverDatabase(String database) {
        PoolingSettings.DatabaseSettings d = settings.databases().get(database);
        return d != null && d.dbname() != null ? d.dbname() : database;
    }

    Future<ServerLogin.LoggedIn> login(String database, ServerLogin.Credentials credentials) {
        return login.login(vertx, serverDatabase(database), credentials);
    }

    long nextServerId() {
        return serverIds.incrementAndGet();
    }

    /** Takes one server connection slot against max_db_connections and max_user_connections; false if none is left. */
    boolean reserveSlot(String database, String user) {
        int maxDb = settings.maxDbConnectionsFor(database);
        int maxUser = settings.maxUserConnectionsFor(user);
        AtomicInteger db = perDatabase.computeIfAbsent(database, k -> new AtomicInteger());
        AtomicInteger us = perUser.computeIfAbsent(user, k -> new AtomicInteger());
        if (maxDb > 0 && db.incrementAndGet() > maxDb) {
            db.decrementAndGet();
            return false;
        } else if (maxDb <= 0) {
            db.incrementAndGet();
        }
        if (maxUser > 0 && us.incrementAndGet() > maxUser) {
            us.decrementAndGet();
            db.decrementAndGet();
            return false;
        } else if (maxUser <= 0) {
            us.incrementAndGet();
        }
        return true;
    }

    void releaseSlot(String database, String user) {
        perDatabase.computeIfAbsent(database, k -> new AtomicInteger()).decrementAndGet();
        perUser.computeIfAbsent(user, k -> new AtomicInteger()).decrementAndGet();
        // A slot freed in one pool may let another pool of the same database or user grow.
        for (Pool p : pools.values()) {
            if (p.database.equals(database) || p.user.equals(user)) {
                vertx.runOnContext(v -> p.grow());
            }
        }
    }

    /**
     * A pool of {@code requester}'s database or user is at max_db_connections or
     * max_user_connections while a client waits: closes one idle connection of another pool
     * sharing the limit, whose freed slot lets the requester open one.
     */
    void evictIdleFor(Pool requester) {
        int maxDb = settings.maxDbConnectionsFor(requester.database);
        int maxUser = settings.maxUserConnectionsFor(requester.user);
        boolean dbFull = maxDb > 0 && count(perDatabase, requester.database) >= maxDb;
        boolean userFull = maxUser > 0 && count(perUser, requester.user) >= maxUser;
        for (Pool p : pools.values()) {
            boolean shares = (dbFull && p.database.equals(requester.database)) || (userFull && p.user.equals(requester.user));
            if (p != requester && shares && p.evictOneIdle()) {
                return;
            }
        }
    }

    /**
     * A connection of {@code pool} went idle: a pool of the same database or user whose clients
     * wait at max_db_connections / max_user_connections may now take its place (at once, rather
     * than at the next maintenance tick).
     */
    void idleAvailable(Pool pool) {
        boolean dbLimited = settings.maxDbConnectionsFor(pool.database) > 0;
        boolean userLimited = settings.maxUserConnectionsFor(pool.user) > 0;
        if (!dbLimited && !userLimited) {
            return;
        }
        for (Pool p : pools.values()) {
            boolean shares = (dbLimited && p.database.equals(pool.database)) || (userLimited && p.user.equals(pool.user));
            if (p != pool && shares && p.hasWaiters()) {
                vertx.runOnContext(v -> p.grow());
            }
        }
    }

    private static int count(ConcurrentHashMap<String, AtomicInteger> counts, String key) {
        AtomicInteger n = counts.get(key);
        return n == null ? 0 : n.get();
    }

    boolean paused() {
        return paused;
    }

    /** PAUSE lends nothing more; RESUME hands the connections to the clients that queued. */
    void pause(boolean on) {
        paused = on;
        if (!on) {
            pools.values().forEach(Pool::resumeWaiters);
        }
        serverReturned();
    }

    private final Object drainSignal = new Object();

    /** A server connection came back to a pool or closed: wakes a PAUSE that waits. */
    void serverReturned() {
        if (paused) {
            synchronized (drainSignal) {
                drainSignal.notifyAll();
            }
        }
    }

    /**
     * PAUSE's wait, as PgBouncer's: returns once every server connection of every pool is back
     * (clients finished their transactions, or in session mode their sessions); false when
     * RESUME came first. Blocks the calling (worker) thread.
     */
    boolean awaitDrained() throws InterruptedException {
        synchronized (drainSignal) {
            while (paused) {
                if (pools.values().stream().allMatch(Pool::drained)) {
                    return true;
                }
                // Woken by serverReturned(); the bound only covers a missed wake-up.
                drainSignal.wait(250);
            }
        }
        return false;
    }

    /** When the current stats_period began (the pooler's start, then the last roll). */
    private volatile long statsPeriodStart = System.nanoTime();

    long statsPeriodStart() {
        return statsPeriodStart;
    }

    /** Ends a stats_period in every pool (SHOW STATS avg_* columns). */
    void rollStats() {
        long now = System.nanoTime();
        statsPeriodStart = now;
        pools.values().forEach(p -> p.rollStats(now));
    }

    void maintain() {
        pools.values().forEach(Pool::maintain);
    }

    void close() {
        pools.values().forEach(Pool::shutdown);
        netClient.close();
    }
}
