package io.neurondb.tests.pooling;

import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.tests.support.ProxyUnderTest;
import io.neurondb.tests.support.TestPostgres;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.neurondb.tests.pooling.PooledProxy.await;
import static io.neurondb.tests.pooling.PooledProxy.backendPid;
import static org.assertj.core.api.Assertions.assertThat;

/** The pool gauges and counters on the metrics plugin's /metrics match a state the test sets up. */
class PoolMetricsTest {

    private static LocalPostgres pg;
    private static final ExecutorService THREADS = Executors.newCachedThreadPool();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void start() {
        pg = TestPostgres.shared();
    }

    /** The value of {@code name} for the (postgres, scram_user) pool in a scrape; NaN when absent. */
    private static double value(String scrape, String name) {
        Pattern line = Pattern.compile("^" + Pattern.quote(name) + "\\{([^}]*)\\}\\s+(\\S+)", Pattern.MULTILINE);
        Matcher m = line.matcher(scrape);
        while (m.find()) {
            String labels = m.group(1);
            if (labels.contains("database=\"postgres\"") && labels.contains("user=\"scram_user\"")) {
                return Double.parseDouble(m.group(2));
            }
        }
        return Double.NaN;
    }

    private static String scrape(int port) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                .timeout(Duration.ofSeconds(20)).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body();
    }

    /** Scrapes until the pool's gauges are as expected, or fails showing the last values. */
    private static String awaitGauges(int port, double clActive, double clWaiting, double svActive, double svIdle) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        String last;
        do {
            last = scrape(port);
            if (value(last, "neurondb_pools_client_active_connections") == clActive
                    && value(last, "neurondb_pools_client_waiting_connections") == clWaiting
                    && value(last, "neurondb_pools_server_active_connections") == svActive
                    && value(last, "neurondb_pools_server_idle_connections") == svIdle) {
                return last;
            }
            Thread.sleep(50);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("pool gauges never became cl_active=" + clActive + " cl_waiting=" + clWaiting + " sv_active=" + svActive
                + " sv_idle=" + svIdle + "; last: cl_active=" + value(last, "neurondb_pools_client_active_connections")
                + " cl_waiting=" + value(last, "neurondb_pools_client_waiting_connections")
                + " sv_active=" + value(last, "neurondb_pools_server_active_connections")
                + " sv_idle=" + value(last, "neurondb_pools_server_idle_connections"));
    }

    private static Connection scram(ProxyUnderTest proxy) throws SQLException {
        return PooledProxy.connect(proxy, "postgres", "scram_user", "scrampass", new Properties());
    }

    @Test
    void poolGaugesAndCountersFollowTheClients() throws Exception {
        int metricsPort = LocalPostgres.freePort();
        try (ProxyUnderTest proxy = PooledProxy.start(pg, "    auth_type: scram-sha-256\n    pool_mode: transaction\n    default_pool_size: 1\n"
                + "    query_wait_timeout: 60\n    server_check_query: ''\n", "metrics_port: " + metricsPort + "\n", "metrics");
             Connection holder = scram(proxy); Connection waiter = scram(proxy); Connection idle = scram(proxy)) {
            awaitGauges(metricsPort, 3, 0, 0, 1);
            holder.setAutoCommit(false);
            backendPid(holder);
            CompletableFuture<Integer> waited = CompletableFuture.supplyAsync(() -> {
                try {
                    return backendPid(waiter);
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            }, THREADS);
            // One client in a transaction on the only connection, one queued, one idle.
            String busy = awaitGauges(metricsPort, 2, 1, 1, 0);
            assertThat(value(busy, "neurondb_pools_client_maxwait_seconds")).isGreaterThanOrEqualTo(0);
            holder.commit();
            assertThat(waited.get(30, TimeUnit.SECONDS)).isPositive();
            String after = awaitGauges(metricsPort, 3, 0, 0, 1);
            // The counter agrees with SHOW STATS, and counts at least: the first login's borrow,
            // the holder's transaction, the waiter's query.
            double acquired = value(after, "neurondb_stats_acquired_total");
            assertThat(acquired).isGreaterThanOrEqualTo(3);
            assertThat(value(after, "neurondb_stats_client_wait_seconds_total")).as("the waiter's wait is counted").isGreaterThan(0);
            try (Connection console = PooledProxy.console(proxy); Statement s = console.createStatement();
                 ResultSet r = s.executeQuery("SHOW STATS")) {
                boolean found = false;
                while (r.next()) {
                    if (r.getString("database").equals("postgres")) {
                        found = true;
                        // Transactions, not acquisitions: pgjdbc's "SET extra_float_digits = 3" at each of
                        // the 3 logins, the holder's transaction and the waiter's query.
                        assertThat(r.getDouble("total_xact_count")).isEqualTo(5);
                        assertThat(r.getDouble("total_xact_count")).isLessThanOrEqualTo(acquired);
                    }
                }
                assertThat(found).isTrue();
            }
            await("total clients gauge", () -> {
                Matcher m = Pattern.compile("^neurondb_pools_clients(\\{[^}]*\\})?\\s+(\\S+)", Pattern.MULTILINE).matcher(scrape(metricsPort));
                return m.find() && Double.parseDouble(m.group(2)) == 3;
            });
        }
    }
}
