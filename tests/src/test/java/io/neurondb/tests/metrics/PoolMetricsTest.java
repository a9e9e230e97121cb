package io.neurondb.tests.metrics;

import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.tests.support.PluginJars;
import io.neurondb.tests.support.ProxyUnderTest;
import io.neurondb.tests.support.TestPostgres;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Pool waits as Prometheus scrapes them, with the pooling and metrics plugins loaded: in
 * transaction mode with one server connection, a client whose statement waits behind another
 * client's open transaction shows as one waiting client with a growing max wait; once the
 * transaction ends it gets the connection (one more lease), exactly one wait is counted and
 * its time added to the wait time counter, and nobody waits any more; a later statement that
 * finds the connection idle is one more lease and no wait. These are the pool names the dashboard queries.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PoolMetricsTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String[] POOL = {"database", "postgres", "user", "postgres"};

    @Test
    void aClientWaitingForTheOneServerConnectionIsCounted() throws Exception {
        LocalPostgres pg = TestPostgres.shared();
        Path auth = Files.createTempFile("neurondb-metrics-pool-auth-", ".txt");
        Files.writeString(auth, "\"postgres\" \"postgres\"\n");
        int metricsPort = LocalPostgres.freePort();
        String yaml = "metrics_port: " + metricsPort + "\n"
                + "plugins:\n  pooling:\n    enabled: true\n    auth_file: " + auth + "\n"
                + "    pool_mode: transaction\n    default_pool_size: 1\n";
        try (ProxyUnderTest proxy = ProxyUnderTest.start(pg.port(), yaml, List.of(), PluginJars.directoryWith("metrics", "pooling"))) {
            assertThat(proxy.proxy().plugins().startedPluginIds()).contains("metrics", "pooling");
            MetricsHttp http = new MetricsHttp(metricsPort);
            try (Connection holder = connect(proxy); Connection waiter = connect(proxy)) {
                holder.setAutoCommit(false);
                query(holder, "SELECT 1"); // holds the pool's one server connection until it commits
                PromText before = http.awaitScrape(WAIT, "the pool's meters", m -> !m.find("neurondb_pools_client_waiting_connections", POOL).isEmpty());
                assertThat(before.value("neurondb_pools_client_waiting_connections", POOL)).isZero();
                assertThat(before.labelSets("neurondb_pools_client_active_connections")).contains(Map.of("database", "postgres", "user", "postgres"));
                double acquired = before.value("neurondb_stats_acquired_total", POOL);
                double waited = before.value("neurondb_stats_client_wait_seconds_total", POOL);
                double waits = before.value("neurondb_stats_client_waits_total", POOL);

                CompletableFuture<Void> waiting = CompletableFuture.runAsync(() -> {
                    try {
                        query(waiter, "SELECT 2");
                    } catch (SQLException e) {
                        throw new IllegalStateException(e);
                    }
                });
                PromText during = http.awaitScrape(WAIT, "one client waiting for at least 0.3 s",
                        m -> m.value("neurondb_pools_client_waiting_connections", POOL) == 1
                                && m.value("neurondb_pools_client_maxwait_seconds", POOL) >= 0.3);
                assertThat(during.value("neurondb_pools_server_active_connections", POOL)).isEqualTo(1);
                assertThat(waiting).isNotDone();

                holder.commit();
                waiting.get(30, TimeUnit.SECONDS);
                PromText after = http.awaitScrape(WAIT, "nobody waiting", m -> m.value("neurondb_pools_client_waiting_connections", POOL) == 0
                        && m.value("neurondb_stats_acquired_total", POOL) > acquired);
                assertThat(after.value("neurondb_stats_acquired_total", POOL) - acquired).as("leases after the wait").isEqualTo(1);
                assertThat(after.value("neurondb_stats_client_wait_seconds_total", POOL) - waited).isGreaterThanOrEqualTo(0.3);
                assertThat(after.value("neurondb_pools_client_maxwait_seconds", POOL)).isZero();
                assertThat(after.value("neurondb_stats_client_waits_total", POOL) - waits).as("waits").isEqualTo(1);

                // A statement that finds the connection idle is a lease without a wait.
                query(waiter, "SELECT 3");
                PromText idle = http.awaitScrape(WAIT, "one more lease", m -> m.value("neurondb_stats_acquired_total", POOL) - acquired >= 2);
                assertThat(idle.value("neurondb_stats_acquired_total", POOL) - acquired).as("leases").isEqualTo(2);
                assertThat(idle.value("neurondb_stats_client_waits_total", POOL) - waits).as("waits").isEqualTo(1);
            }
        } finally {
            Files.deleteIfExists(auth);
        }
    }

    @Test
    void adminConsoleCommandsCountOnTheAdminRoute() throws Exception {
        LocalPostgres pg = TestPostgres.shared();
        Path auth = Files.createTempFile("neurondb-metrics-console-auth-", ".txt");
        Files.writeString(auth, "\"postgres\" \"postgres\"\n");
        int metricsPort = LocalPostgres.freePort();
        String yaml = "metrics_port: " + metricsPort + "\n"
                + "plugins:\n  pooling:\n    enabled: true\n    auth_file: " + auth + "\n    admin_users: [postgres]\n";
        String count = "neurondb_statement_duration_seconds_count";
        try (ProxyUnderTest proxy = ProxyUnderTest.start(pg.port(), yaml, List.of(), PluginJars.directoryWith("metrics", "pooling"))) {
            MetricsHttp http = new MetricsHttp(metricsPort);
            PromText before = http.scrape();
            Properties p = new Properties();
            p.setProperty("user", TestPostgres.SUPERUSER);
            p.setProperty("password", TestPostgres.SUPERUSER_PASSWORD);
            p.setProperty("preferQueryMode", "simple");
            p.setProperty("assumeMinServerVersion", "15"); // no SET of pgjdbc's own after login
            try (Connection console = DriverManager.getConnection(proxy.jdbcUrl("pgbouncer"), p); Statement s = console.createStatement()) {
                for (int i = 0; i < 2; i++) {
                    try (ResultSet rs = s.executeQuery("SHOW POOLS")) {
                        while (rs.next()) {
                            // read it all
                        }
                    }
                }
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> s.execute("SHOW NO_SUCH_THING"))
                        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42601"));
            }
            PromText after = http.awaitScrape(WAIT, "three console commands",
                    m -> m.value(count, "route", "admin", "outcome", "success") - before.value(count, "route", "admin", "outcome", "success")
                            + m.value(count, "route", "admin", "outcome", "error") - before.value(count, "route", "admin", "outcome", "error") >= 3);
            assertThat(after.value(count, "route", "admin", "outcome", "success") - before.value(count, "route", "admin", "outcome", "success")).isEqualTo(2);
            assertThat(after.value(count, "route", "admin", "outcome", "error") - before.value(count, "route", "admin", "outcome", "error")).isEqualTo(1);
            String errors = "neurondb_statement_errors_total";
            assertThat(after.value(errors, "route", "admin", "sqlstate_class", "42") - before.value(errors, "route", "admin", "sqlstate_class", "42")).isEqualTo(1);
            for (String route : List.of("passthrough", "vector", "rewritten")) {
                for (String outcome : List.of("success", "error")) {
                    assertThat(after.value(count, "route", route, "outcome", outcome) - before.value(count, "route", route, "outcome", outcome))
                            .as("%s/%s", route, outcome).isZero();
                }
            }
        } finally {
            Files.deleteIfExists(auth);
        }
    }

    private static Connection connect(ProxyUnderTest proxy) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", TestPostgres.SUPERUSER);
        p.setProperty("password", TestPostgres.SUPERUSER_PASSWORD);
        p.setProperty("socketTimeout", "30");
        return DriverManager.getConnection(proxy.jdbcUrl("postgres"), p);
    }

    private static void query(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            assertThat(rs.next()).isTrue();
        }
    }
}
