package io.neurondb.proxy.vectors;

import io.neurondb.engine.compute.ComputeBackend;
import io.neurondb.proxy.config.UpstreamUrl;
import io.neurondb.proxy.replication.ReplicationNames;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The engine side of every database behind the proxy, one {@link VectorDatabase} each, opened
 * on first use with the proxy's own upstream login. One per proxy; thread-safe.
 */
public final class VectorDatabases implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(VectorDatabases.class);

    /** Connections per database: catalog reads and table loads only. */
    static final int POOL_SIZE = 2;
    /** Index builds that may run at once (each HNSW build uses {@code buildThreads} threads). */
    static final int CONCURRENT_BUILDS = 2;
    public static final Duration DEFAULT_DEBOUNCE = Duration.ofMillis(200);

    private final Vertx vertx;
    private final UpstreamUrl upstream;
    private final ComputeBackend compute;
    private final int buildThreads;
    private final long debounceMillis;
    private final WorkerExecutor builds;
    private final Map<String, Future<VectorDatabase>> databases = new ConcurrentHashMap<>();
    private volatile boolean closed;
    /** TLS towards the server for the proxy's own connections; null = as the relay's default (none). */
    private volatile io.neurondb.proxy.config.TlsSettings tls;
    private volatile io.neurondb.proxy.replication.ReplicationSettings replication = io.neurondb.proxy.replication.ReplicationSettings.DISABLED;
    private volatile java.nio.file.Path dataDir;
    private final ReplicationMetrics metrics = new ReplicationMetrics();

    /**
     * @param buildThreads threads one HNSW build uses; keep it below the core count so the
     *                     event loops keep a core while an index builds
     */
    public VectorDatabases(Vertx vertx, UpstreamUrl upstream, ComputeBackend compute, int buildThreads) {
        this(vertx, upstream, compute, buildThreads, DEFAULT_DEBOUNCE);
    }

    /** @param debounce how long writes must pause before a stale index is rebuilt */
    public VectorDatabases(Vertx vertx, UpstreamUrl upstream, ComputeBackend compute, int buildThreads, Duration debounce) {
        this.vertx = Objects.requireNonNull(vertx, "vertx");
        this.upstream = Objects.requireNonNull(upstream, "upstream");
        this.compute = Objects.requireNonNull(compute, "compute");
        this.buildThreads = Math.max(1, buildThreads);
        this.debounceMillis = Math.max(1, debounce.toMillis());
        this.builds = vertx.createSharedWorkerExecutor("neurondb-index-build", CONCURRENT_BUILDS, 24, TimeUnit.HOURS);
    }

    /** The upstream TLS settings the relay uses, applied to the catalog and index-build connections too. */
    public VectorDatabases upstreamTls(io.neurondb.proxy.config.TlsSettings settings) {
        this.tls = settings;
        return this;
    }

    /**
     * Follow every database through logical replication (publication, slot, checkpoints under
     * {@code dataDir}); without this call the indexes follow writes through the proxy by rebuilds.
     */
    public VectorDatabases replication(io.neurondb.proxy.replication.ReplicationSettings settings, java.nio.file.Path dataDir) {
        this.replication = Objects.requireNonNull(settings, "settings");
        this.dataDir = Objects.requireNonNull(dataDir, "dataDir");
        return this;
    }

    /** The host's meter registry: replication lag, positions, re-snapshots and copy progress go there. */
    public VectorDatabases meterRegistry(io.micrometer.core.instrument.MeterRegistry registry) {
        metrics.bind(registry);
        return this;
    }

    /**
     * The database's engine side. The first call connects, reads the catalog and starts
     * building every listed index in the background; it completes without waiting for the
     * builds. Later calls return the same instance. A failed open is not remembered.
     */
    public Future<VectorDatabase> open(String database) {
        Objects.requireNonNull(database, "database");
        if (closed) {
            return Future.failedFuture(new IllegalStateException("closed"));
        }
        return databases.computeIfAbsent(database, this::connect);
    }

    /**
     * Opens every database that has engine indexes, so they build (and follow their tables by
     * replication) from the start rather than when a client first connects, and readiness
     * covers all of them. Databases the proxy's login cannot connect to are skipped. Completes
     * when each found database is opened (not built); {@link #discovered()} says whether it has.
     */
    public Future<List<String>> openIndexedDatabases() {
        // A database whose indexes were all dropped may still have this instance's slot: it is
        // opened too, so the slot is followed (and lets WAL go) rather than left to pin it.
        Future<List<String>> found = PgConnection.connect(vertx, connectOptions(upstream.database()))
                .compose(c -> c.query("SELECT datname::text, (SELECT array_agg(slot_name::text) FROM pg_replication_slots) "
                                + "FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY 1")
                        .execute().eventually(c::close))
                .compose(rows -> {
                    List<Future<String>> checks = new ArrayList<>();
                    rows.forEach(r -> {
                        String name = r.getString(0);
                        String[] slots = r.getArrayOfStrings(1);
                        boolean ownSlot = replication.enabled() && slots != null
                                && java.util.Arrays.asList(slots).contains(ReplicationNames.slot(replication.instanceId(), name));
                        checks.add(ownSlot ? Future.succeededFuture(name) : hasIndexes(name));
                    });
                    return Future.join(checks).map(all -> {
                        List<String> names = new ArrayList<>();
                        for (Future<String> check : checks) {
                            if (check.succeeded() && check.result() != null) {
                                names.add(check.result());
                            }
                        }
                        return names;
                    });
                })
                .compose(names -> Future.join(names.stream().map(this::open).toList()).transform(ar -> {
                    log.info("event=vector_databases_discovered databases={}", names);
                    return Future.succeededFuture(names);
                }));
        found.onFailure(t -> log.warn("event=vector_database_discovery_failed error=\"{}\" effect=\"databases open when a client first connects\"",
                t.getMessage()));
        discovery = found;
        return found;
    }

    /** Whether start-up discovery has finished (or was never asked for): every database with indexes is open. */
    public boolean discovered() {
        Future<?> d = discovery;
        return d == null || d.isComplete();
    }

    private volatile Future<?> discovery;

    /** The database's name when it lists engine indexes, null when not (or when the proxy's login may not connect). */
    private Future<String> hasIndexes(String database) {
        return PgConnection.connect(vertx, connectOptions(database))
                .compose(c -> c.query("SELECT to_regclass('neurondb.indexes') IS NOT NULL").execute()
                        .compose(rows -> Boolean.TRUE.equals(rows.iterator().next().getBoolean(0))
                                ? c.query("SELECT EXISTS (SELECT 1 FROM neurondb.indexes)").execute()
                                        .map(r -> Boolean.TRUE.equals(r.iterator().next().getBoolean(0)) ? database : (String) null)
                                : Future.succeededFuture((String) null))
                        .eventually(c::close))
                .recover(t -> {
                    log.info("event=vector_database_skipped db={} reason=\"{}\"", database, t.getMessage());
                    return Future.succeededFuture(null);
                });
    }

    /** Logs in to the upstream server with the proxy's login and disconnects: is it there? */
    public Future<Void> ping() {
        return PgConnection.connect(vertx, connectOptions(upstream.database())).compose(PgConnection::close);
    }

    /** Every opened database's indexes, by database name. */
    public Map<String, List<IndexStatus>> stats() {
        Map<String, List<IndexStatus>> all = new java.util.TreeMap<>();
        databases.forEach((name, opened) -> {
            if (opened.succeeded()) {
                all.put(name, opened.result().stats());
            }
        });
        return all;
    }

    private Future<VectorDatabase> connect(String database) {
        VectorDatabase db = new VectorDatabase(database, vertx, () -> newPool(database), compute, builds, buildThreads, debounceMillis);
        IndexSync sync = replication.enabled() ? newSync(db) : null;
        // The sync starts (and makes its slot) with the database's first index, not at open: most
        // databases a pooling proxy opens have none. A slot this instance already has is followed
        // at once all the same, so that it keeps advancing instead of pinning WAL.
        Future<VectorDatabase> opened = CatalogReader.read(db.pool(), 1)
                .compose(catalog -> (sync == null || !catalog.indexes().isEmpty()
                        ? Future.succeededFuture(false) : slotExists(db.pool(), sync.slot())).map(leftoverSlot -> {
                    if (sync != null) {
                        db.followBy(sync);
                    }
                    db.start(catalog); // an index in the catalog starts the sync
                    if (leftoverSlot) {
                        sync.start();
                    }
                    log.info("event=vector_database_opened db={} vector_tables={} indexes={} replication={}", database,
                            catalog.tables().size(), catalog.indexes().size(),
                            sync == null ? "off" : sync.started() ? "following" : "waiting_for_first_index");
                    return db;
                }));
        Future<VectorDatabase> result = opened.recover(t -> {
            db.pool().close();
            log.warn("event=vector_database_open_failed db={} error=\"{}\"", database, t.getMessage());
            return Future.failedFuture(VectorSqlException.from(t));
        });
        result.onFailure(t -> databases.remove(database, result));
        return result;
    }

    private static Future<Boolean> slotExists(Pool pool, String slot) {
        return pool.preparedQuery("SELECT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)")
                .execute(io.vertx.sqlclient.Tuple.of(slot))
                .map(rows -> Boolean.TRUE.equals(rows.iterator().next().getBoolean(0)));
    }

    private Pool newPool(String database) {
        return PgBuilder.pool()
                .with(new PoolOptions().setMaxSize(POOL_SIZE).setName("neurondb-vectors-" + database).setShared(false))
                .connectingTo(connectOptions(database))
                .using(vertx)
                .build();
    }

    private IndexSync newSync(VectorDatabase db) {
        PgConnectOptions options = connectOptions(db.database());
        return new IndexSync(db, db.pool(), () -> PgConnection.connect(vertx, options).map(c -> (io.vertx.sqlclient.SqlConnection) c),
                upstream, tls, replication, dataDir, compute, buildThreads, metrics);
    }

    // ------------------------------------------------------------------ DROP DATABASE

    /**
     * What {@link #holdForDrop} leaves to be decided: tell it how the {@code DROP DATABASE} ended.
     */
    public interface DropHold {
        /** The database is gone: its engine side is closed and its checkpoints deleted (the server dropped the slot with it). */
        void dropped();

        /** The DROP failed: the database is followed again from where it stopped. */
        void kept();
    }

    /**
     * Gets the proxy's own connections out of {@code database} so a {@code DROP DATABASE} sent
     * next can succeed: PostgreSQL refuses to drop a database another session or an active
     * logical slot uses, and {@code WITH (FORCE)} does not end replication connections. The
     * replication stream stops after a last checkpoint (its slot stays, inactive, and the server
     * drops it with the database); the catalog and load connections close; the indexes are kept
     * but not served meanwhile (the stopped stream is not current). Completes when that is done. If the outcome is never reported (the client vanished before
     * the reply), the proxy asks the server after {@link #DROP_OUTCOME_TIMEOUT}.
     */
    public Future<DropHold> holdForDrop(String database) {
        Future<VectorDatabase> f = databases.get(database);
        VectorDatabase db = f != null && f.succeeded() ? f.result() : null;
        Future<Void> released = Future.succeededFuture();
        if (db != null) {
            log.info("event=vector_database_released db={} reason=\"DROP DATABASE\"", database);
            released = vertx.<Future<Void>>executeBlocking(db::suspend, false).compose(closed -> closed.recover(t -> Future.succeededFuture()));
        }
        return released.map(v -> new Hold(database, f, db));
    }

    /** How long a released database waits for its DROP's outcome before asking the server. */
    static final Duration DROP_OUTCOME_TIMEOUT = Duration.ofMinutes(2);

    private final class Hold implements DropHold {
        private final String database;
        private final Future<VectorDatabase> opened;
        private final VectorDatabase db;
        private final java.util.concurrent.atomic.AtomicBoolean decided = new java.util.concurrent.atomic.AtomicBoolean();
        private final long timer;

        Hold(String database, Future<VectorDatabase> opened, VectorDatabase db) {
            this.database = database;
            this.opened = opened;
            this.db = db;
            this.timer = db == null ? -1 : vertx.setTimer(DROP_OUTCOME_TIMEOUT.toMillis(), id -> askServer());
        }

        @Override
        public void dropped() {
            if (!decided.compareAndSet(false, true)) {
                return;
            }
            vertx.cancelTimer(timer);
            if (db != null) {
                databases.remove(database, opened);
                db.close();
                log.info("event=vector_database_dropped db={}", database);
            }
            // Safe at once: holdForDrop suspended the database, so its replication thread ended
            // (with its last checkpoint) before the DROP was sent. Done before the client hears
            // the DROP succeeded.
            deleteCheckpoints(database);
        }

        @Override
        public void kept() {
            if (!decided.compareAndSet(false, true)) {
                return;
            }
            vertx.cancelTimer(timer);
            if (db != null) {
                db.resume(VectorDatabases.this::newSync);
                log.info("event=vector_database_resumed db={}", database);
            }
        }

        private void askServer() {
            PgConnection.connect(vertx, connectOptions(upstream.database()))
                    .compose(c -> c.preparedQuery("SELECT 1 FROM pg_database WHERE datname = $1")
                            .execute(io.vertx.sqlclient.Tuple.of(database)).eventually(c::close))
                    .onSuccess(rows -> {
                        if (rows.size() == 0) {
                            dropped();
                        } else {
                            kept();
                        }
                    })
                    .onFailure(t -> vertx.setTimer(5_000, id -> askServer()));
        }
    }

    private void deleteCheckpoints(String database) {
        java.nio.file.Path dir = dataDir;
        if (!replication.enabled() || dir == null) {
            return;
        }
        try {
            String slot = io.neurondb.proxy.replication.ReplicationNames.slot(replication.instanceId(), database);
            new CheckpointStore(IndexSync.checkpointDir(dir, slot)).clear();
            io.neurondb.proxy.embedded.LocalPostgres.deleteTree(IndexSync.spoolDir(dir, slot));
        } catch (java.io.IOException e) {
            log.warn("event=checkpoints_not_deleted db={} error=\"{}\"", database, e.getMessage());
        }
    }

    private PgConnectOptions connectOptions(String database) {
        PgConnectOptions options = new PgConnectOptions()
                .setHost(upstream.host())
                .setPort(upstream.port())
                .setDatabase(database)
                .setUser(upstream.user())
                .setCachePreparedStatements(true)
                .setProperties(Map.of("application_name", "neurondb-proxy"));
        if (upstream.password() != null) {
            options.setPassword(upstream.password()); // none: the server trusts the proxy's login
        }
        io.neurondb.proxy.config.TlsSettings upstreamTls = tls;
        if (upstreamTls != null && upstreamTls.upstreamMode() != io.neurondb.proxy.config.TlsSettings.UpstreamTlsMode.DISABLE) {
            options.setSslMode(switch (upstreamTls.upstreamMode()) {
                case PREFER -> io.vertx.pgclient.SslMode.PREFER;
                case REQUIRE -> io.vertx.pgclient.SslMode.REQUIRE;
                case VERIFY_FULL -> io.vertx.pgclient.SslMode.VERIFY_FULL;
                case DISABLE -> io.vertx.pgclient.SslMode.DISABLE;
            });
            options.setSslOptions(io.neurondb.proxy.net.UpstreamConnector.sslOptions(upstreamTls));
        }
        return options;
    }

    /**
     * Closes every database's connections and drops its indexes, waiting (on the caller's
     * thread, never an event loop) up to {@code timeout} for the replication threads' last
     * checkpoints; false when that did not finish in time.
     */
    public boolean close(java.time.Duration timeout) {
        try {
            closeAsync().toCompletionStage().toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Closes every database's connections and drops its indexes (not waiting for the last checkpoints). */
    @Override
    public void close() {
        closeAsync();
    }

    public Future<Void> closeAsync() {
        closed = true;
        List<Future<?>> all = new ArrayList<>();
        for (Future<VectorDatabase> f : databases.values()) {
            all.add(f.compose(VectorDatabase::close).recover(t -> Future.succeededFuture()));
        }
        databases.clear();
        return Future.join(all).eventually(() -> builds.close()).mapEmpty();
    }
}
