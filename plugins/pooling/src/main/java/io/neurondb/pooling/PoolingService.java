package io.neurondb.pooling;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.neurondb.plugin.api.BackendConnectionProvider;
import io.neurondb.plugin.api.BackendUnavailableException;
import io.neurondb.plugin.api.PluginContext;
import io.neurondb.plugin.api.PluginService;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.pf4j.Extension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The pooling plugin: a {@link BackendConnectionProvider} that authenticates clients itself and
 * lends them server connections from pools keyed by (database, user). Inactive unless
 * {@code plugins: pooling: enabled: true} or {@code NEURONDB_POOL_MODE} is set.
 */
@Extension
public final class PoolingService implements PluginService, BackendConnectionProvider {

    private static final Logger log = LoggerFactory.getLogger(PoolingService.class);
    /** Databases clients name to reach the admin console. */
    static final Set<String> CONSOLE_DATABASES = Set.of("neurondb", "pgbouncer");

    /** The running instance, for the admin console's commands (separate extensions). */
    private static volatile PoolingService running;

    private volatile PoolingSettings settings;
    private volatile AuthFile authFile = AuthFile.empty();
    private PluginContext context;
    private Pooler pooler;
    private long maintenanceTimer = -1;
    private volatile boolean shuttingDown;
    final long startedMillis = System.currentTimeMillis();

    /** A client as SHOW CLIENTS lists it. */
    record ClientInfo(String user, String database, String state, String address, String connectTime, String applicationName) {
    }

    private final java.util.Set<Client> clients = java.util.concurrent.ConcurrentHashMap.newKeySet();

    java.util.List<ClientInfo> clients() {
        // One look at each pool's queue for all its clients: asking per client held the pool's
        // lock for a walk of the whole queue once per client.
        Map<Pool, Set<Object>> waitingByPool = new java.util.IdentityHashMap<>();
        return clients.stream().map(c -> {
            Pool p = c.pool;
            Set<Object> waiting = p == null ? Set.of() : waitingByPool.computeIfAbsent(p, Pool::waitingClients);
            return c.info(waiting.contains(c));
        }).toList();
    }

    static PoolingService running() {
        return running;
    }

    @Override
    public void start(PluginContext context) {
        this.context = context;
        PoolingSettings s = PoolingSettings.from(context.settings(), context.environment());
        this.settings = s;
        if (!s.enabled()) {
            log.info("event=pooling_inactive reason=\"plugins.pooling.enabled is not true and NEURONDB_POOL_MODE is not set\"");
            return;
        }
        authFile = s.authFile() == null ? AuthFile.empty() : AuthFile.read(s.authFile());
        Vertx vertx = context.vertx();
        pooler = new Pooler(vertx, context.upstream(), s, this::registerMeters);
        maintenanceTimer = vertx.setPeriodic(1000, id -> pooler.maintain());
        scheduleStats(s);
        Gauge.builder("neurondb.pools.clients", pooler.clients, java.util.concurrent.atomic.AtomicInteger::get)
                .description("Client connections the pooler holds (all pools)").register(context.meterRegistry());
        running = this;
        log.info("event=pooling_active pool_mode={} default_pool_size={} max_client_conn={} auth_type={}",
                s.poolMode().name().toLowerCase(), s.defaultPoolSize(), s.maxClientConn(), s.authType());
    }

    private volatile long statsTimer = -1;

    /** Every stats_period, each pool's figures of the period just ended become its avg_* basis. */
    private void scheduleStats(PoolingSettings s) {
        statsTimer = context.vertx().setPeriodic(Math.max(1, s.statsPeriod().toMillis()), id -> pooler.rollStats());
    }

    @Override
    public void stop() {
        if (pooler != null) {
            context.vertx().cancelTimer(maintenanceTimer);
            context.vertx().cancelTimer(statsTimer);
            pooler.close();
        }
        if (running == this) {
            running = null;
        }
    }

    @Override
    public String name() {
        return "pooling";
    }

    @Override
    public boolean active() {
        return pooler != null && settings.enabled();
    }

    @Override
    public io.vertx.core.Future<Void> closeIdleConnections(String database) {
        Pooler p = pooler;
        return p == null ? io.vertx.core.Future.succeededFuture() : p.closeIdle(database);
    }

    PluginContext context() {
        return context;
    }

    PoolingSettings settings() {
        return settings;
    }

    Pooler pooler() {
        return pooler;
    }

    /**
     * SIGHUP or the console's RELOAD, after the host re-read the configuration file: applies
     * the new settings and reads the auth file again; clients and connections stay.
     */
    @Override
    public void reload() {
        PoolingSettings next = PoolingSettings.from(context.settings(), context.environment());
        if (pooler == null) {
            // Pooling was off at start: sessions were set up 1:1, which a reload cannot change.
            if (next.enabled()) {
                log.warn("event=pooling_reload_ignored reason=\"pooling was off at start; turning it on needs a restart\"");
            }
            settings = next;
            return;
        }
        AuthFile nextAuth = next.authFile() == null ? AuthFile.empty() : AuthFile.read(next.authFile());
        boolean newPeriod = !next.statsPeriod().equals(settings.statsPeriod());
        settings = next;
        authFile = nextAuth;
        pooler.reload(next);
        if (newPeriod) {
            context.vertx().cancelTimer(statsTimer);
            scheduleStats(next);
        }
        log.info("event=pooling_reloaded");
    }

    void shutdown() {
        shuttingDown = true;
        pooler.close();
    }

    @Override
    public PooledClient admit(Map<String, String> startup, String clientAddress) {
        if (shuttingDown) {
            throw new BackendUnavailableException("57P01", "pooler is shutting down");
        }
        PoolingSettings s = settings;
        String user = startup.getOrDefault("user", "");
        String database = startup.getOrDefault("database", user);
        if (database.isEmpty()) {
            database = user;
        }
        if (pooler.clients.incrementAndGet() > s.maxClientConn()) {
            pooler.clients.decrementAndGet();
            log.info("event=client_refused reason=max_client_conn limit={} client={}", s.maxClientConn(), clientAddress);
            throw new BackendUnavailableException("53300", "no more connections allowed (max_client_conn " + s.maxClientConn() + ")");
        }
        boolean console = CONSOLE_DATABASES.contains(database);
        if (console && !s.adminUsers().contains(user) && !s.statsUsers().contains(user)) {
            pooler.clients.decrementAndGet();
            throw new BackendUnavailableException("28000", "not allowed: user \"" + user + "\" is not in admin_users or stats_users of the pooler console");
        }
        Client c = new Client(database, user, console, clientAddress, startup.getOrDefault("application_name", ""));
        clients.add(c);
        return c;
    }

    private Future<Optional<Secret>> secretOf(String user, String database) {
        Optional<Secret> fromFile = authFile.secret(user);
        PoolingSettings s = settings;
        if (fromFile.isPresent() || s.authUser() == null) {
            return Future.succeededFuture(fromFile);
        }
        return authQuery(user, database);
    }

    /** auth_query through auth_user: the user's secret as the server stores it (pg_authid). */
    private Future<Optional<Secret>> authQuery(String user, String database) {
        PoolingSettings s = settings;
        Optional<Secret> authUserSecret = authFile.secret(s.authUser());
        PgConnectOptions options = new PgConnectOptions().setHost(context.upstream().host()).setPort(context.upstream().port())
                .setDatabase(pooler.serverDatabase(database)).setUser(s.authUser());
        if (authUserSecret.orElse(null) instanceof Secret.Plain p) {
            options.setPassword(p.password());
        } else if (s.authUser().equals(context.upstream().user()) && context.upstream().password() != null) {
            options.setPassword(context.upstream().password());
        }
        var client = PgBuilder.client().connectingTo(options).using(context.vertx()).build();
        return client.preparedQuery(s.authQuery()).execute(Tuple.of(user)).map(rows -> {
            for (Row r : rows) {
                String secret = r.getString(1);
                return secret == null ? Optional.<Secret>empty() : Optional.of(Secret.parse(secret));
            }
            return Optional.<Secret>empty();
        }).eventually(() -> client.close()).recover(e -> {
            log.warn("event=auth_query_failed auth_user={} error=\"{}\"", s.authUser(), e.getMessage());
            return Future.failedFuture(new BackendUnavailableException("08006", "auth_query failed: " + e.getMessage()));
        });
    }

    private void registerMeters(Pool pool) {
        MeterRegistry r = context.meterRegistry();
        Tags tags = Tags.of("database", pool.database, "user", pool.user);
        Gauge.builder("neurondb.pools.client.active.connections", pool, p -> p.snapshot().clActive()).tags(tags)
                .description("Client connections linked to a server connection or idle, like cl_active").register(r);
        Gauge.builder("neurondb.pools.client.waiting.connections", pool, p -> p.snapshot().clWaiting()).tags(tags)
                .description("Client connections waiting for a server connection, like cl_waiting").register(r);
        Gauge.builder("neurondb.pools.server.active.connections", pool, p -> p.snapshot().svActive()).tags(tags)
                .description("Server connections lent to a client").register(r);
        Gauge.builder("neurondb.pools.server.idle.connections", pool, p -> p.snapshot().svIdle()).tags(tags)
                .description("Server connections idle in the pool").register(r);
        Gauge.builder("neurondb.pools.server.login.connections", pool, p -> p.snapshot().svLogin()).tags(tags)
                .description("Server connections logging in").register(r);
        io.micrometer.core.instrument.FunctionCounter.builder("neurondb.pools.server.login.failures", pool, p -> p.loginFailures.get())
                .tags(tags).description("Server logins that failed (each followed by server_login_retry of no attempts)").register(r);
        Gauge.builder("neurondb.pools.client.maxwait.seconds", pool, p -> p.snapshot().maxWaitMicros() / 1e6).tags(tags)
                .description("How long the oldest waiting client has waited").register(r);
        io.micrometer.core.instrument.FunctionCounter.builder("neurondb.stats.acquired", pool, p -> p.acquired.get()).tags(tags)
                .description("Server connections lent out (transactions in transaction mode)").register(r);
        io.micrometer.core.instrument.FunctionCounter.builder("neurondb.stats.client.wait.seconds", pool, p -> p.waitNanosTotal.get() / 1e9).tags(tags)
                .description("Time clients spent waiting for a server connection").register(r);
        io.micrometer.core.instrument.FunctionCounter.builder("neurondb.stats.client.waits", pool, p -> p.waits.get()).tags(tags)
                .description("Clients that waited for a server connection and got one (wait seconds / waits = mean wait)").register(r);
        io.micrometer.core.instrument.FunctionCounter.builder("neurondb.stats.server.pipelined", pool, p -> p.lentBehind.get()).tags(tags)
                .description("Clients whose work went to a busy server connection behind another client's last statement (server_pipelining)").register(r);
    }

    /** The pooler's side of one client. */
    private final class Client implements PooledClient {
        private final String database;
        private final String user;
        private final boolean console;
        private final String address;
        private final ClientAuthentication auth;
        private final AtomicBoolean closed = new AtomicBoolean();
        private final String applicationName;
        private final long connectedMillis = System.currentTimeMillis();
        private volatile Pool pool;
        /** The session's event loop (clients are admitted on it). */
        private final io.vertx.core.Context loop = io.vertx.core.Vertx.currentContext();

        Client(String database, String user, boolean console, String address, String applicationName) {
            this.database = database;
            this.user = user;
            this.console = console;
            this.address = address;
            this.applicationName = applicationName;
            this.auth = new ClientAuthentication(user, settings.authType(), u -> secretOf(u, console ? "postgres" : database),
                    settings.databases().get(database));
        }

        /**
         * The user whose pool this client joins: a database's forced user (databases.<name>.user)
         * makes one pool for all its clients, whoever they logged in as, as in PgBouncer; else
         * the client's own.
         */
        private String poolUser() {
            PoolingSettings.DatabaseSettings d = settings.databases().get(database);
            return d != null && d.user() != null && !console ? d.user() : user;
        }

        @Override
        public PoolMode poolMode() {
            return settings.modeFor(database, poolUser());
        }

        @Override
        public boolean console() {
            return console;
        }

        @Override
        public int maxPreparedStatements() {
            return settings.maxPreparedStatements();
        }

        @Override
        public java.time.Duration idleTransactionTimeout() {
            return settings.idleTransactionTimeout();
        }

        @Override
        public java.time.Duration clientIdleTimeout() {
            return settings.clientIdleTimeout();
        }

        @Override
        public Future<AuthStep> authenticate(Buffer response) {
            return auth.next(response).map(step -> {
                if (step instanceof AuthStep.Accepted && !console && !closed.get()) {
                    pool = pooler.pool(database, poolUser());
                    pool.credentials(auth.credentials());
                    pool.clientJoined(loop);
                }
                return step;
            });
        }

        @Override
        public Future<Map<String, String>> serverParameters() {
            if (console) {
                return Future.succeededFuture(Map.of("server_version", "15.0 (NeuronDB pooler)", "server_encoding", "UTF8",
                        "client_encoding", "UTF8", "DateStyle", "ISO, MDY", "integer_datetimes", "on",
                        "standard_conforming_strings", "on", "application_name", ""));
            }
            Map<String, String> known = pool.serverParameters.get();
            if (known != null) {
                return Future.succeededFuture(known);
            }
            // No connection has logged in yet: borrow one to learn them.
            return pool.acquire(address).map(lease -> {
                lease.release(true);
                return pool.serverParameters.get();
            });
        }

        @Override
        public Future<BackendLease> acquire() {
            if (pool == null) {
                return Future.failedFuture(new BackendUnavailableException("08P01", "no server connection for the admin console"));
            }
            return pool.acquire(address, this);
        }

        /** As SHOW CLIENTS lists it; {@code waiting}: queued in its pool for a server connection. */
        ClientInfo info(boolean waiting) {
            String connected = java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss z")
                    .format(java.time.Instant.ofEpochMilli(connectedMillis).atZone(java.time.ZoneOffset.UTC));
            return new ClientInfo(user, database, waiting ? "waiting" : "active", address, connected, applicationName);
        }

        @Override
        public void close() {
            clients.remove(this);
            if (closed.compareAndSet(false, true)) {
                pooler.clients.decrementAndGet();
                if (pool != null) {
                    pool.clientLeft(loop);
                }
            }
        }
    }
}
