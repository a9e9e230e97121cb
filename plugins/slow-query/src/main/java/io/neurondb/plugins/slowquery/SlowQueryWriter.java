package io.neurondb.plugins.slowquery;

import io.neurondb.plugin.api.UpstreamServer;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.net.ClientSSLOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.SslMode;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Writes the buffer to {@code neurondb.slow_queries} in batches, one batch at a time, on a
 * context of its own, over one connection of the proxy's own login (straight to PostgreSQL,
 * so its INSERTs are not statements the proxy observes). A batch that fails goes back to the
 * buffer, whose bound then decides what is dropped. Also runs the retention delete.
 *
 * <p>No write waits forever: the connection runs with {@code statement_timeout =
 * write_timeout_ms}, so a batch blocked on a lock (an open transaction holding
 * {@code LOCK TABLE neurondb.slow_queries}) or on a slow server is cancelled by the server
 * (57014); and a batch the server does not answer at all within the timeout plus
 * {@link #UNANSWERED_GRACE_MS} (a hung host, a dead network path) is abandoned on this side by
 * closing the connection (getting a connection is bounded by the pool's connect and acquire
 * timeouts). Either way the failure is counted and the batch goes back to the
 * buffer. An abandoned batch the server did commit after all is written twice: at least once,
 * never a stalled writer.
 */
final class SlowQueryWriter {

    private static final Logger log = LoggerFactory.getLogger(SlowQueryWriter.class);
    /** A failing server is reported once per this many milliseconds, not once per flush. */
    private static final long FAILURE_LOG_INTERVAL_MS = 60_000;
    /** Beyond write_timeout_ms, how long the server gets to report its own cancel before the connection is closed. */
    static final long UNANSWERED_GRACE_MS = 2_000;
    /** PostgreSQL's query_canceled, what statement_timeout raises. */
    private static final String QUERY_CANCELED = "57014";

    /** Told about each write that failed: {@code timeout} (cancelled or unanswered) or {@code error}. */
    interface FailureListener {
        void failed(String reason);
    }

    private final SlowQuerySettings settings;
    private final RecordBuffer buffer;
    private final java.util.function.IntConsumer written;
    private final FailureListener failures;
    private final Context context;
    private final Vertx vertx;
    private final PgConnectOptions connectOptions;
    private Pool pool;
    private long flushTimer = -1;
    private long retentionTimer = -1;
    private boolean flushing;
    private boolean tableReady;
    private boolean closed;
    private long lastFailureLog;

    SlowQueryWriter(Vertx vertx, UpstreamServer upstream, SlowQuerySettings settings, RecordBuffer buffer,
                    java.util.function.IntConsumer written, FailureListener failures) {
        this.settings = settings;
        this.buffer = buffer;
        this.written = written;
        this.failures = failures;
        this.vertx = vertx;
        this.context = vertx.getOrCreateContext();
        this.connectOptions = connectOptions(upstream, settings.database(), settings.writeTimeoutMillis());
        this.pool = newPool();
    }

    private Pool newPool() {
        return PgBuilder.pool()
                .with(new PoolOptions().setMaxSize(1).setMaxWaitQueueSize(4).setConnectionTimeout(10)
                        .setConnectionTimeoutUnit(TimeUnit.SECONDS).setName("neurondb-slow-query"))
                .with(new io.vertx.core.net.NetClientOptions().setConnectTimeout(5000))
                .connectingTo(connectOptions)
                .using(vertx)
                .build();
    }

    /** Startup parameters set the server-side timeout for everything this connection runs. */
    static PgConnectOptions connectOptions(UpstreamServer upstream, String database, long statementTimeoutMillis) {
        PgConnectOptions options = new PgConnectOptions()
                .setHost(upstream.host())
                .setPort(upstream.port())
                .setDatabase(database)
                .setUser(upstream.user())
                .setProperties(Map.of("application_name", "neurondb-slow-query",
                        "statement_timeout", Long.toString(statementTimeoutMillis)));
        if (upstream.password() != null) {
            options.setPassword(upstream.password());
        }
        String mode = upstream.tlsMode() == null ? "disable" : upstream.tlsMode();
        if (!mode.equals("disable")) {
            options.setSslMode(switch (mode) {
                case "require" -> SslMode.REQUIRE;
                case "verify-full" -> SslMode.VERIFY_FULL;
                default -> SslMode.PREFER;
            });
            ClientSSLOptions ssl = new ClientSSLOptions();
            if (mode.equals("verify-full")) {
                ssl.setTrustOptions(new PemTrustOptions().addCertPath(upstream.caFile())).setHostnameVerificationAlgorithm("HTTPS");
            } else {
                ssl.setTrustAll(true).setHostnameVerificationAlgorithm("");
            }
            options.setSslOptions(ssl);
        }
        return options;
    }

    void start() {
        context.runOnContext(v -> {
            flushTimer = context.owner().setPeriodic(settings.flushIntervalMillis(), id -> flush());
            if (settings.retentionDays() > 0) {
                retentionTimer = context.owner().setPeriodic(1000, settings.retentionIntervalSeconds() * 1000, id -> deleteExpired());
            }
        });
    }

    /** Writes the next batch unless one is being written; a full batch is followed at once by the next. */
    void flush() {
        if (flushing || closed) {
            return;
        }
        List<SlowQueryRecord> batch = buffer.take(settings.batchSize());
        if (batch.isEmpty()) {
            return;
        }
        flushing = true;
        // Settled once: by the server's answer, or by the guard when there is none.
        java.util.concurrent.atomic.AtomicBoolean settled = new java.util.concurrent.atomic.AtomicBoolean();
        long[] guard = {-1};
        Pool used = pool;
        // Getting the connection is bounded by the pool's own timeouts (connect 5 s, acquire 10 s);
        // the guard covers what runs on it.
        used.getConnection().compose(conn -> {
            guard[0] = context.owner().setTimer(settings.writeTimeoutMillis() + UNANSWERED_GRACE_MS, id -> {
                if (settled.compareAndSet(false, true)) {
                    flushing = false;
                    buffer.putBack(batch);
                    failures.failed("timeout");
                    failed("write", new java.util.concurrent.TimeoutException("no answer within "
                            + (settings.writeTimeoutMillis() + UNANSWERED_GRACE_MS) + " ms; connection closed"));
                    // Closing the pool closes its one connection, the only way to stop waiting on a silent server.
                    pool = newPool();
                    used.close();
                }
            });
            return ensureTable(conn)
                    .compose(v -> conn.preparedQuery(SlowQueryTable.INSERT).executeBatch(batch.stream().map(SlowQueryTable::values).toList()))
                    .eventually(conn::close);
        }).onComplete(ar -> {
            if (!settled.compareAndSet(false, true)) {
                return; // abandoned by the guard
            }
            if (guard[0] >= 0) {
                context.owner().cancelTimer(guard[0]);
            }
            flushing = false;
            if (ar.succeeded()) {
                buffer.written(batch.size());
                written.accept(batch.size());
                if (buffer.waiting() >= settings.batchSize()) {
                    context.runOnContext(x -> flush());
                }
                return;
            }
            if (SlowQueryTable.missing(ar.cause())) {
                tableReady = false; // dropped meanwhile (DROP EXTENSION neurondb): made again next time
            }
            buffer.putBack(batch);
            failures.failed(timedOut(ar.cause()) ? "timeout" : "error");
            failed("write", ar.cause());
        });
    }

    private static boolean timedOut(Throwable t) {
        return t instanceof io.vertx.pgclient.PgException pg && QUERY_CANCELED.equals(pg.getSqlState());
    }

    private Future<Void> ensureTable(io.vertx.sqlclient.SqlClient on) {
        if (tableReady) {
            return Future.succeededFuture();
        }
        return on.query(SlowQueryTable.CREATE).execute().map(rs -> {
            tableReady = true;
            log.info("event=slow_query_table_ready database={}", settings.database());
            return null;
        });
    }

    /** The retention delete; a table not made yet has nothing to delete. */
    Future<Integer> deleteExpired() {
        Promise<Integer> done = Promise.promise();
        context.runOnContext(v -> pool.preparedQuery(SlowQueryTable.RETENTION).execute(Tuple.of(settings.retentionDays()))
                .onComplete(ar -> {
                    if (ar.succeeded()) {
                        int n = ar.result().rowCount();
                        if (n > 0) {
                            log.info("event=slow_query_retention deleted={} retention_days={}", n, settings.retentionDays());
                        }
                        done.complete(n);
                    } else if (SlowQueryTable.missing(ar.cause())) {
                        done.complete(0);
                    } else {
                        failed("retention", ar.cause());
                        done.fail(ar.cause());
                    }
                }));
        return done.future();
    }

    private void failed(String what, Throwable cause) {
        log.debug("event=slow_query_{}_failed database={} buffered={} error=\"{}\"", what, settings.database(), buffer.size(),
                String.valueOf(cause.getMessage()).replace('"', '\''));
        long now = System.currentTimeMillis();
        if (now - lastFailureLog >= FAILURE_LOG_INTERVAL_MS) {
            lastFailureLog = now;
            log.warn("event=slow_query_{}_failed database={} buffered={} error=\"{}\"", what, settings.database(), buffer.size(),
                    String.valueOf(cause.getMessage()).replace('"', '\''));
        }
    }

    /** Stops the timers, writes one last batch if the server takes it, and closes the connection. */
    Future<Void> close() {
        Promise<Void> done = Promise.promise();
        context.runOnContext(v -> {
            context.owner().cancelTimer(flushTimer);
            if (retentionTimer >= 0) {
                context.owner().cancelTimer(retentionTimer);
            }
            Future<?> last = Future.succeededFuture();
            if (!flushing && !closed) {
                List<SlowQueryRecord> batch = buffer.take(settings.batchSize());
                if (!batch.isEmpty()) {
                    last = ensureTable(pool).compose(x -> pool.preparedQuery(SlowQueryTable.INSERT)
                            .executeBatch(batch.stream().map(SlowQueryTable::values).toList()))
                            .onSuccess(rs -> {
                                buffer.written(batch.size());
                                written.accept(batch.size());
                            });
                }
            }
            closed = true;
            last.onComplete(ar -> pool.close().onComplete(x -> done.complete()));
        });
        return done.future();
    }
}
