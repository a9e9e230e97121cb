package io.neurondb.tests.slowquery;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.neurondb.plugin.api.PluginService;
import io.neurondb.plugin.api.StatementEvent;
import io.neurondb.plugin.api.StatementObserver;
import io.neurondb.plugin.api.UpstreamServer;
import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.proxy.plugin.HostPluginContext;
import io.neurondb.proxy.sql.SqlNormalizer;
import io.neurondb.tests.support.PluginJars;
import io.neurondb.tests.support.TestPostgres;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The slow-query writer never waits forever on PostgreSQL (plugin loaded from its built jar,
 * fed statement events as the proxy feeds them):
 * <ul>
 *   <li>with {@code neurondb.slow_queries} locked by {@code LOCK TABLE ... IN ACCESS EXCLUSIVE
 *       MODE} in an open transaction, each batch INSERT is cancelled by the writer's
 *       {@code statement_timeout} ({@code write_timeout_ms}) and counted as a timeout;
 *       capture goes on, the bounded buffer keeps the newest records and counts the drops,
 *       and the kept records are written once the lock is released;</li>
 *   <li>with the writer's own server process stopped ({@code SIGSTOP}: a server that does not
 *       answer at all, so its timeout cannot fire), the writer abandons the batch, closes the
 *       connection and writes through a new one.</li>
 * </ul>
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class SlowQueryWriteTimeoutTest {

    private static final int BUFFER = 5;
    private static final int WRITE_TIMEOUT_MS = 300;

    @Test
    void aLockedTableCancelsTheBatchAndCaptureGoesOn() throws Exception {
        LocalPostgres pg = TestPostgres.shared();
        String db = freshDatabase(pg, "sq_lock");
        Vertx vertx = Vertx.vertx();
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        try (URLClassLoader loader = pluginLoader()) {
            Object plugin = loader.loadClass("io.neurondb.plugins.slowquery.SlowQueryCapture").getConstructor().newInstance();
            PluginService service = (PluginService) plugin;
            StatementObserver observer = (StatementObserver) plugin;
            service.start(context(pg, vertx, meters, db));
            try {
                observer.onStatement(event(0));
                await("the first record written (the table exists)", () -> count(pg, db) == 1);
                List<String> writerBefore = writerPids(pg, db);
                assertThat(writerBefore).hasSize(1);

                try (Connection locker = connect(pg, db); Statement s = locker.createStatement()) {
                    locker.setAutoCommit(false);
                    s.execute("LOCK TABLE neurondb.slow_queries IN ACCESS EXCLUSIVE MODE");
                    long lockedAt = System.nanoTime();
                    for (int i = 1; i <= 12; i++) {
                        observer.onStatement(event(i));
                    }
                    await("a batch cancelled by statement_timeout", () -> counter(meters, "timeout") >= 1);
                    long firstTimeoutMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lockedAt);
                    // 12 captured while locked, room for 5: the 7 oldest dropped and counted.
                    await("7 dropped, 5 buffered", () -> dropped(meters) == 7 && buffered(meters) == BUFFER);
                    await("another cancelled retry", () -> counter(meters, "timeout") >= 2);
                    // The server answered every time (57014): no failure of any other kind, and capture went on.
                    assertThat(counter(meters, "error")).isZero();
                    assertThat(recorded(meters)).isEqualTo(13);
                    assertThat(written(meters)).isEqualTo(1);
                    assertThat(firstTimeoutMs).as("first cancelled write after the lock, ms").isLessThan(30_000);
                    // Cancelled by the server, not abandoned: still the one connection it started with.
                    assertThat(writerPids(pg, db)).isEqualTo(writerBefore);
                    locker.rollback();
                }
                await("the 5 kept records written after the lock is gone", () -> count(pg, db) == 6);
                assertThat(apps(pg, db)).containsExactly("app-0", "app-8", "app-9", "app-10", "app-11", "app-12");
                assertThat(written(meters)).isEqualTo(6);
                assertThat(dropped(meters)).isEqualTo(7);
                assertThat(buffered(meters)).isZero();
            } finally {
                service.stop();
            }
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void aServerThatDoesNotAnswerIsLeftForANewConnection() throws Exception {
        // A private server: a stopped process of the shared one could hold up other tests' DROP DATABASE.
        LocalPostgres pg = TestPostgres.startPrivate("slowquery-silent");
        String db = "postgres";
        Vertx vertx = Vertx.vertx();
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        String stopped = null;
        try (URLClassLoader loader = pluginLoader()) {
            Object plugin = loader.loadClass("io.neurondb.plugins.slowquery.SlowQueryCapture").getConstructor().newInstance();
            PluginService service = (PluginService) plugin;
            StatementObserver observer = (StatementObserver) plugin;
            service.start(context(pg, vertx, meters, db));
            try {
                observer.onStatement(event(0));
                await("the first record written", () -> count(pg, db) == 1);
                List<String> writers = writerPids(pg, db);
                assertThat(writers).hasSize(1);
                stopped = writers.get(0);
                signal("STOP", stopped);

                observer.onStatement(event(1));
                observer.onStatement(event(2));
                // The stopped process cannot cancel anything; the writer gives up on it after
                // write_timeout_ms + 2 s, closes that connection and writes through a new one.
                await("the batch written through a new connection", () -> count(pg, db) == 3);
                assertThat(counter(meters, "timeout")).isEqualTo(1);
                assertThat(counter(meters, "error")).isZero();
                assertThat(written(meters)).isEqualTo(3);
                assertThat(writerPids(pg, db)).contains(stopped).hasSize(2);
            } finally {
                if (stopped != null) {
                    signal("CONT", stopped);
                }
                service.stop();
            }
            // Resumed, the old process may still run the batch it was sent before its connection
            // closed (at least once, as documented), then finds the connection gone and exits.
            String old = stopped;
            await("the abandoned server process exits", () -> !writerPids(pg, db).contains(old));
            assertThat(count(pg, db)).isBetween(3L, 5L);
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            pg.destroy();
            LocalPostgres.deleteTree(pg.dataDir().getParent());
        }
    }

    // ---- helpers ----

    private URLClassLoader pluginLoader() throws Exception {
        return new URLClassLoader(new URL[]{PluginJars.jarOf("slow-query").toUri().toURL()}, getClass().getClassLoader());
    }

    private static String freshDatabase(LocalPostgres pg, String name) throws SQLException {
        try (Connection c = TestPostgres.superuser(pg); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
            s.execute("CREATE DATABASE " + name);
        }
        return name;
    }

    private static HostPluginContext context(LocalPostgres pg, Vertx vertx, SimpleMeterRegistry meters, String db) {
        UpstreamServer upstream = new UpstreamServer("127.0.0.1", pg.port(), "postgres", TestPostgres.SUPERUSER,
                TestPostgres.SUPERUSER_PASSWORD, "disable", null);
        return new HostPluginContext("slow-query", Map.of("slow_query_threshold_ms", 10, "buffer_size", BUFFER,
                "flush_interval_ms", 50, "database", db, "write_timeout_ms", WRITE_TIMEOUT_MS, "retention_days", 0),
                Map.of(), vertx, upstream, Path.of("."), 0, meters, null);
    }

    private static StatementEvent event(int n) {
        String sql = "SELECT * FROM orders WHERE customer = 'customer-" + n + "'";
        return new StatementEvent(n, "postgres", "app_user", "app-" + n, "/127.0.0.1:5000", StatementEvent.Protocol.SIMPLE,
                StatementEvent.Route.PASSTHROUGH, sql, Instant.now(), TimeUnit.MILLISECONDS.toNanos(20), 1, null,
                SqlNormalizer.lazy(sql), null);
    }

    private static Connection connect(LocalPostgres pg, String db) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", TestPostgres.SUPERUSER);
        p.setProperty("password", TestPostgres.SUPERUSER_PASSWORD);
        return DriverManager.getConnection(pg.jdbcUrl(db), p);
    }

    /** Rows in the table; -1 when it cannot be read (not there yet). Never called while the table is locked. */
    private static long count(LocalPostgres pg, String db) {
        try (Connection c = connect(pg, db); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM neurondb.slow_queries")) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            return -1;
        }
    }

    private static List<String> apps(LocalPostgres pg, String db) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = connect(pg, db); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT application_name FROM neurondb.slow_queries ORDER BY id")) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    /** The writer's server processes for {@code db}. */
    private static List<String> writerPids(LocalPostgres pg, String db) {
        List<String> out = new ArrayList<>();
        try (Connection c = TestPostgres.superuser(pg); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT pid FROM pg_stat_activity WHERE application_name = 'neurondb-slow-query'"
                     + " AND datname = '" + db + "' ORDER BY backend_start")) {
            while (rs.next()) {
                out.add(Integer.toString(rs.getInt(1)));
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return out;
    }

    private static void signal(String signal, String pid) throws Exception {
        Process p = new ProcessBuilder("kill", "-" + signal, pid).redirectErrorStream(true).start();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("kill -" + signal + " " + pid).isZero();
    }

    private static double counter(SimpleMeterRegistry meters, String reason) {
        var c = meters.find("neurondb.slow_queries.write.failures").tag("reason", reason).counter();
        return c == null ? -1 : c.count();
    }

    private static double dropped(SimpleMeterRegistry meters) {
        var c = meters.find("neurondb.slow_queries.dropped").counter();
        return c == null ? -1 : c.count();
    }

    private static double recorded(SimpleMeterRegistry meters) {
        var c = meters.find("neurondb.slow_queries.recorded").counter();
        return c == null ? -1 : c.count();
    }

    private static double written(SimpleMeterRegistry meters) {
        var c = meters.find("neurondb.slow_queries.written").counter();
        return c == null ? -1 : c.count();
    }

    private static double buffered(SimpleMeterRegistry meters) {
        var g = meters.find("neurondb.slow_queries.buffered").gauge();
        return g == null ? -1 : g.value();
    }

    private static void await(String what, BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }
}
