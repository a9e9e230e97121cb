package io.neurondb.plugins.slowquery;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.neurondb.plugin.api.PluginContext;
import io.neurondb.plugin.api.PluginService;
import io.neurondb.plugin.api.SqlFunction;
import io.neurondb.plugin.api.SqlFunctionException;
import io.neurondb.plugin.api.StatementEvent;
import io.neurondb.plugin.api.StatementObserver;
import io.neurondb.plugin.api.TextResult;
import org.pf4j.Extension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The slow-query plugin: sees every statement ({@link StatementObserver}), keeps
 * pg_stat_statements-like figures for all of them in memory ({@code neurondb.slow_query_summary()}),
 * and writes those over {@code slow_query_threshold_ms} to {@code neurondb.slow_queries}.
 *
 * <p>The session's event loop only offers the event to a bounded queue; one thread of the
 * plugin's own, draining it every few milliseconds, normalises the text (cached by the proxy), updates the figures and hands slow
 * records to the {@link RecordBuffer}, which the {@link SlowQueryWriter} drains in batches.
 * Nothing here blocks a session: a full queue or buffer drops and counts.
 */
@Extension
public final class SlowQueryCapture implements PluginService, StatementObserver, SqlFunction {

    private static final Logger log = LoggerFactory.getLogger(SlowQueryCapture.class);
    private static final int QUEUE_CAPACITY = 65_536;
    private static final int DRAIN_BATCH = 4096;
    private static final long DRAIN_INTERVAL_MS = 10;
    private static final int DEFAULT_SUMMARY_ROWS = 50;
    static final List<String> SUMMARY_COLUMNS = List.of("fingerprint", "query", "route", "database", "user_name",
            "calls", "total_ms", "mean_ms", "p95_ms", "max_ms", "rows");

    private volatile SlowQuerySettings settings;
    private volatile BlockingQueue<StatementEvent> queue;
    private StatementStats stats;
    private RecordBuffer buffer;
    private SlowQueryWriter writer;
    private Thread aggregator;
    private Counter dropped;
    private Counter missed;
    private Counter recorded;
    private Counter written;
    private Counter writeTimeouts;
    private Counter writeErrors;

    @Override
    public void start(PluginContext context) {
        SlowQuerySettings s = SlowQuerySettings.from(context.settings(), context.environment(), context.upstream().database());
        MeterRegistry meters = context.meterRegistry();
        dropped = Counter.builder("neurondb.slow_queries.dropped")
                .description("Slow-query records dropped because the buffer was full (PostgreSQL slow or down)")
                .register(meters);
        missed = Counter.builder("neurondb.slow_queries.events.missed")
                .description("Statements not counted in slow_query_summary() because the plugin's queue was full")
                .register(meters);
        recorded = Counter.builder("neurondb.slow_queries.recorded")
                .description("Statements over slow_query_threshold_ms captured").register(meters);
        written = Counter.builder("neurondb.slow_queries.written")
                .description("Slow-query records written to neurondb.slow_queries").register(meters);
        writeTimeouts = writeFailures(meters, "timeout");
        writeErrors = writeFailures(meters, "error");
        stats = new StatementStats(s.summaryMaxStatements());
        buffer = new RecordBuffer(s.bufferSize(), dropped::increment);
        Gauge.builder("neurondb.slow_queries.buffered", buffer, RecordBuffer::size)
                .description("Slow-query records waiting to be written").register(meters);
        writer = new SlowQueryWriter(context.vertx(), context.upstream(), s, buffer, written::increment,
                reason -> ("timeout".equals(reason) ? writeTimeouts : writeErrors).increment());
        BlockingQueue<StatementEvent> q = new ArrayBlockingQueue<>(QUEUE_CAPACITY);
        aggregator = Thread.ofPlatform().daemon().name("neurondb-slow-query").unstarted(() -> aggregate(q));
        aggregator.start();
        writer.start();
        settings = s;
        queue = q;
        log.info("event=slow_query_started threshold_ms={} database={} buffer_size={} retention_days={} log_raw_text={} write_timeout_ms={}",
                s.thresholdMillis(), s.database(), s.bufferSize(), s.retentionDays(), s.logRawText(), s.writeTimeoutMillis());
    }

    /** {@code neurondb_slow_queries_write_failures_total{reason}}: batch writes (and retries) that failed. */
    private static Counter writeFailures(MeterRegistry meters, String reason) {
        return Counter.builder("neurondb.slow_queries.write.failures").tag("reason", reason)
                .description("Batch writes to neurondb.slow_queries that failed; reason timeout: "
                        + "cancelled by write_timeout_ms or unanswered, error: any other failure")
                .register(meters);
    }

    @Override
    public void stop() {
        queue = null;
        if (aggregator != null) {
            aggregator.interrupt();
        }
        if (writer != null) {
            try {
                writer.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                log.warn("event=slow_query_stop_incomplete error=\"{}\"", e.toString());
            }
        }
    }

    // ---- StatementObserver: on the session's event loop ----

    @Override
    public void onStatement(StatementEvent event) {
        BlockingQueue<StatementEvent> q = queue;
        if (q == null) {
            return;
        }
        if (!q.offer(event)) {
            missed.increment();
            if (event.durationNanos() >= settings.thresholdMillis() * 1_000_000) {
                dropped.increment();
            }
        }
    }

    // ---- the plugin's own thread ----

    /**
     * Takes what the sessions queued every {@link #DRAIN_INTERVAL_MS} rather than waking on each
     * event: a wake-up per statement (a futex call on the session's thread) cost more than the
     * rest of the capture together.
     */
    private void aggregate(BlockingQueue<StatementEvent> q) {
        List<StatementEvent> batch = new ArrayList<>(DRAIN_BATCH);
        while (!Thread.currentThread().isInterrupted()) {
            batch.clear();
            q.drainTo(batch, DRAIN_BATCH);
            for (StatementEvent e : batch) {
                try {
                    take(e);
                } catch (RuntimeException ex) {
                    log.warn("event=slow_query_event_failed error=\"{}\"", ex.toString());
                }
            }
            if (batch.size() < DRAIN_BATCH) {
                try {
                    Thread.sleep(DRAIN_INTERVAL_MS);
                } catch (InterruptedException stop) {
                    return;
                }
            }
        }
    }

    /** One statement: into the figures, and into the buffer when slow. Package-private for tests. */
    void take(StatementEvent e) {
        String query = e.normalizedSql() != null ? e.normalizedSql() : "";
        String fingerprint = e.fingerprint() != null ? e.fingerprint() : "";
        String route = e.route().name().toLowerCase(Locale.ROOT);
        double ms = e.durationMillis();
        stats.add(new StatementStats.Key(e.user(), e.database(), fingerprint, route), query, ms, e.rows());
        SlowQuerySettings s = settings;
        if (e.durationNanos() < s.thresholdMillis() * 1_000_000) {
            return;
        }
        recorded.increment();
        Instant completed = e.startedAt() == null ? Instant.now() : e.startedAt().plusNanos(e.durationNanos());
        buffer.add(new SlowQueryRecord(completed, query, s.logRawText() ? e.sql() : null, fingerprint, ms, e.rows(),
                e.database(), e.user(), e.applicationName(), e.clientAddress(), route,
                e.protocol().name().toLowerCase(Locale.ROOT), e.sqlState(), e.index(), e.k(), e.efSearch(), e.probes()));
    }

    // ---- SqlFunction: neurondb.slow_query_summary([limit]) ----

    @Override
    public String name() {
        return "slow_query_summary";
    }

    @Override
    public List<String> columns() {
        return SUMMARY_COLUMNS;
    }

    /**
     * The statements with the most total time since the proxy started, all routes. Like
     * pg_stat_statements, the text of another user's statements is shown only to superusers.
     */
    @Override
    public TextResult call(List<String> arguments, Caller caller) {
        if (stats == null) {
            throw new SqlFunctionException("55000", "the slow-query plugin is not running");
        }
        int limit = DEFAULT_SUMMARY_ROWS;
        if (arguments.size() > 1) {
            throw new SqlFunctionException("42883", "function neurondb.slow_query_summary takes at most one argument (the number of rows)");
        }
        if (arguments.size() == 1 && arguments.get(0) != null) {
            try {
                limit = Integer.parseInt(arguments.get(0).strip());
            } catch (NumberFormatException e) {
                throw new SqlFunctionException("22P02", "invalid input syntax for type integer: \"" + arguments.get(0) + "\"");
            }
            if (limit < 0) {
                throw new SqlFunctionException("22023", "the number of rows must not be negative");
            }
        }
        List<List<String>> rows = new ArrayList<>();
        for (StatementStats.Row r : stats.top(limit)) {
            boolean visible = caller.superuser() || caller.user().equals(r.key().user());
            rows.add(java.util.Arrays.asList(r.key().fingerprint(), visible ? r.query() : "<insufficient privilege>",
                    r.key().route(), r.key().database(), r.key().user(), Long.toString(r.calls()), ms(r.totalMs()),
                    ms(r.meanMs()), ms(r.p95Ms()), ms(r.maxMs()), Long.toString(r.rows())));
        }
        return TextResult.rows(SUMMARY_COLUMNS, rows);
    }

    private static String ms(double v) {
        return String.format(Locale.ROOT, "%.3f", v);
    }
}
