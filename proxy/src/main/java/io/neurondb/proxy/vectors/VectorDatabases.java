package io.neurondb.proxy.vectors;

import io.neurondb.engine.compute.ComputeBackend;
import io.neurondb.proxy.config.UpstreamUrl;
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
        PgConnectOptions options = connectOptions(database);
        Pool pool = PgBuilder.pool()
                .with(new PoolOptions().setMaxSize(POOL_SIZE).setName("neurondb-vectors-" + database).setShared(false))
                .connectingTo(options)
                .using(vertx)
                .build();
        VectorDatabase db = new VectorDatabase(database, vertx, pool, compute, builds, buildThreads, debounceMillis);
        io.neurondb.proxy.replication.ReplicationSettings repl = replication;
        IndexSync sync = repl.enabled()
                ? new IndexSync(db, pool, () -> PgConnection.connect(vertx, options).map(c -> (io.vertx.sqlclient.SqlConnection) c),
                        upstream, tls, repl, dataDir, compute, buildThreads, metrics)
                : null;
        Future<VectorDatabase> opened = CatalogReader.read(pool, 1).map(catalog -> {
            if (sync != null) {
                db.followBy(sync);
            }
            db.start(catalog);
            if (sync != null) {
                sync.start();
            }
            log.info("event=vector_database_opened db={} vector_tables={} indexes={}", database,
                    catalog.tables().size(), catalog.indexes().size());
            return db;
        });
        Future<VectorDatabase> result = opened.recover(t -> {
            pool.close();
            log.warn("event=vector_database_open_failed db={} error=\"{}\"", database, t.getMessage());
            return Future.failedFuture(VectorSqlException.from(t));
        });
        result.onFailure(t -> databases.remove(database, result));
        return result;
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

    /** Closes every database's connections and drops its indexes. */
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
