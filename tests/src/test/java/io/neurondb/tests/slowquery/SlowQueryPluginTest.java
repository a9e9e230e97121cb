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
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The plugin class from its built jar, with a PluginContext made here, fed statement events as
 * the proxy feeds them: the buffer against a PostgreSQL of the test's own that it stops
 * (capture goes on, memory stays bounded, the oldest records are dropped and counted, what is
 * buffered is written once the server is back), raw text only when configured, and settings.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class SlowQueryPluginTest {

    private static final int BUFFER = 5;

    @Test
    void stoppedPostgresDropsTheOldestAndCountsThem() throws Exception {
        LocalPostgres pg = TestPostgres.startPrivate("slowquery-down");
        Vertx vertx = Vertx.vertx();
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        Path data = Files.createTempDirectory("neurondb-test-sq-");
        try (URLClassLoader loader = new URLClassLoader(new URL[]{PluginJars.jarOf("slow-query").toUri().toURL()}, getClass().getClassLoader())) {
            Object plugin = loader.loadClass("io.neurondb.plugins.slowquery.SlowQueryCapture").getConstructor().newInstance();
            PluginService service = (PluginService) plugin;
            StatementObserver observer = (StatementObserver) plugin;
            service.start(context(pg, vertx, meters, data, Map.of(
                    "slow_query_threshold_ms", 10, "buffer_size", BUFFER, "flush_interval_ms", 50, "database", "postgres")));
            try {
                for (int i = 0; i < 3; i++) {
                    observer.onStatement(event(i, 20));
                }
                observer.onStatement(event(99, 1)); // under the threshold
                await("3 rows written", () -> count(pg) == 3);

                pg.stop();
                for (int i = 3; i < 23; i++) {
                    observer.onStatement(event(i, 20));
                }
                // 20 captured while down, room for 5: 15 dropped, whatever a failed batch did meanwhile.
                await("15 dropped, 5 buffered", () -> counter(meters, "neurondb.slow_queries.dropped") == 15
                        && gauge(meters, "neurondb.slow_queries.buffered") == BUFFER);
                Thread.sleep(300); // more failed flushes change nothing
                assertThat(counter(meters, "neurondb.slow_queries.dropped")).isEqualTo(15);
                assertThat(gauge(meters, "neurondb.slow_queries.buffered")).isEqualTo(BUFFER);

                pg.start();
                await("the buffered 5 written", () -> count(pg) == 8);
                // The newest were kept.
                assertThat(apps(pg)).containsExactly("app-0", "app-1", "app-2", "app-18", "app-19", "app-20", "app-21", "app-22");
                assertThat(counter(meters, "neurondb.slow_queries.written")).isEqualTo(8);
                assertThat(counter(meters, "neurondb.slow_queries.recorded")).isEqualTo(23);
            } finally {
                service.stop();
            }
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            pg.destroy();
            LocalPostgres.deleteTree(pg.dataDir().getParent());
            LocalPostgres.deleteTree(data);
        }
    }

    @Test
    void rawTextIsStoredOnlyWhenConfigured() throws Exception {
        LocalPostgres pg = TestPostgres.shared();
        try (Connection c = TestPostgres.superuser(pg); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS sq_raw WITH (FORCE)");
            s.execute("CREATE DATABASE sq_raw");
        }
        Vertx vertx = Vertx.vertx();
        try (URLClassLoader loader = new URLClassLoader(new URL[]{PluginJars.jarOf("slow-query").toUri().toURL()}, getClass().getClassLoader())) {
            for (boolean raw : new boolean[]{false, true}) {
                Object plugin = loader.loadClass("io.neurondb.plugins.slowquery.SlowQueryCapture").getConstructor().newInstance();
                PluginService service = (PluginService) plugin;
                service.start(context(pg, vertx, new SimpleMeterRegistry(), Path.of("."), Map.of(
                        "slow_query_threshold_ms", 0, "flush_interval_ms", 20, "database", "sq_raw", "log_raw_text", raw)));
                try {
                    ((StatementObserver) plugin).onStatement(event(raw ? 2 : 1, 1));
                    int expected = raw ? 2 : 1;
                    await("row " + expected, () -> countIn(pg, "sq_raw") == expected);
                } finally {
                    service.stop();
                }
            }
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
        Properties p = new Properties();
        p.setProperty("user", TestPostgres.SUPERUSER);
        p.setProperty("password", TestPostgres.SUPERUSER_PASSWORD);
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl("sq_raw"), p); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT query, raw_query FROM neurondb.slow_queries ORDER BY id")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("SELECT * FROM orders WHERE customer = $1");
            assertThat(rs.getString(2)).isNull();
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("SELECT * FROM orders WHERE customer = $1");
            assertThat(rs.getString(2)).isEqualTo("SELECT * FROM orders WHERE customer = 'customer-2'");
        }
    }

    private static long countIn(LocalPostgres pg, String database) {
        Properties p = new Properties();
        p.setProperty("user", TestPostgres.SUPERUSER);
        p.setProperty("password", TestPostgres.SUPERUSER_PASSWORD);
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl(database), p); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM neurondb.slow_queries")) {
            rs.next();
            return rs.getLong(1);
        } catch (java.sql.SQLException e) {
            return -1;
        }
    }

    @Test
    void unknownSettingStopsTheStartNamingIt() throws Exception {
        try (URLClassLoader loader = new URLClassLoader(new URL[]{PluginJars.jarOf("slow-query").toUri().toURL()}, getClass().getClassLoader())) {
            PluginService service = (PluginService) loader.loadClass("io.neurondb.plugins.slowquery.SlowQueryCapture").getConstructor().newInstance();
            HostPluginContext ctx = new HostPluginContext("slow-query", Map.of("slow_query_treshold_ms", 5), Map.of(), null,
                    new UpstreamServer("127.0.0.1", 1, "postgres", "postgres", null, "disable", null), Path.of("."), 0,
                    new SimpleMeterRegistry(), null);
            assertThatThrownBy(() -> service.start(ctx)).hasMessageContaining("unknown setting 'slow_query_treshold_ms'");
        }
    }

    @Test
    void shippedConfigurationIsAccepted() throws Exception {
        Path conf = PluginJars.builtPluginsDir().getParent().resolve("conf/neurondb.yaml");
        Map<String, Object> shipped = new io.neurondb.proxy.config.ConfigLoader(Map.of(), conf.getParent().getParent())
                .load(conf).pluginSettings("slow-query");
        assertThat(shipped).containsEntry("slow_query_threshold_ms", 1000).containsKey("retention_days");
        Vertx vertx = Vertx.vertx();
        try (URLClassLoader loader = new URLClassLoader(new URL[]{PluginJars.jarOf("slow-query").toUri().toURL()}, getClass().getClassLoader())) {
            PluginService service = (PluginService) loader.loadClass("io.neurondb.plugins.slowquery.SlowQueryCapture").getConstructor().newInstance();
            HostPluginContext ctx = new HostPluginContext("slow-query", shipped, Map.of(), vertx,
                    new UpstreamServer("127.0.0.1", 1, "postgres", "postgres", null, "disable", null), Path.of("."), 0,
                    new SimpleMeterRegistry(), null);
            service.start(ctx);
            service.stop();
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    private static HostPluginContext context(LocalPostgres pg, Vertx vertx, SimpleMeterRegistry meters, Path data, Map<String, Object> settings) {
        UpstreamServer upstream = new UpstreamServer("127.0.0.1", pg.port(), "postgres", TestPostgres.SUPERUSER,
                TestPostgres.SUPERUSER_PASSWORD, "disable", null);
        return new HostPluginContext("slow-query", settings, Map.of(), vertx, upstream, data, 0, meters, null);
    }

    private static StatementEvent event(int n, long millis) {
        String sql = "SELECT * FROM orders WHERE customer = 'customer-" + n + "'";
        return new StatementEvent(n, "postgres", "app_user", "app-" + n, "/127.0.0.1:5000", StatementEvent.Protocol.SIMPLE,
                StatementEvent.Route.PASSTHROUGH, sql, Instant.now(), TimeUnit.MILLISECONDS.toNanos(millis), 1, null,
                SqlNormalizer.lazy(sql), null);
    }

    private static long count(LocalPostgres pg) {
        try (Connection c = TestPostgres.superuser(pg); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM neurondb.slow_queries")) {
            rs.next();
            return rs.getLong(1);
        } catch (java.sql.SQLException e) {
            return -1; // not there yet, or the server is down
        }
    }

    private static List<String> apps(LocalPostgres pg) throws Exception {
        List<String> out = new ArrayList<>();
        try (Connection c = TestPostgres.superuser(pg); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT application_name, query FROM neurondb.slow_queries ORDER BY id")) {
            while (rs.next()) {
                out.add(rs.getString(1));
                assertThat(rs.getString(2)).isEqualTo("SELECT * FROM orders WHERE customer = $1");
            }
        }
        return out;
    }

    private static double counter(SimpleMeterRegistry meters, String name) {
        var c = meters.find(name).counter();
        return c == null ? -1 : c.count();
    }

    private static double gauge(SimpleMeterRegistry meters, String name) {
        var g = meters.find(name).gauge();
        return g == null ? -1 : g.value();
    }

    private static void await(String what, BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(50);
        }
    }
}
