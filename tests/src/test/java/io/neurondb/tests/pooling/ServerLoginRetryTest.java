package io.neurondb.tests.pooling;

import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.tests.support.PluginJars;
import io.neurondb.tests.support.ProxyUnderTest;
import io.neurondb.tests.support.TestPostgres;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A server login the server refuses (here: the auth file's secret for a role is not its
 * password) is tried again only after server_login_retry, as PgBouncer does: min_pool_size and
 * waiting clients must not turn a refused login into a loop of logins.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ServerLoginRetryTest {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private static double failures(int port) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                .timeout(Duration.ofSeconds(20)).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        Matcher m = Pattern.compile("^neurondb_pools_server_login_failures_total\\{([^}]*)\\}\\s+(\\S+)", Pattern.MULTILINE).matcher(r.body());
        while (m.find()) {
            if (m.group(1).contains("user=\"scram_user\"")) {
                return Double.parseDouble(m.group(2));
            }
        }
        return 0;
    }

    @Test
    void aRefusedServerLoginWaitsServerLoginRetryBeforeTheNext() throws Exception {
        LocalPostgres pg = TestPostgres.shared();
        int metricsPort = LocalPostgres.freePort();
        String yaml = "metrics_port: " + metricsPort + "\n"
                + "plugins:\n  pooling:\n    enabled: true\n"
                + "    auth_file: " + PooledProxy.authFile("\"scram_user\" \"not-the-password\"\n") + "\n"
                + "    auth_type: scram-sha-256\n    pool_mode: transaction\n"
                + "    min_pool_size: 2\n    server_login_retry: 2\n    query_wait_timeout: 5\n";
        try (ProxyUnderTest proxy = ProxyUnderTest.start(pg.port(), yaml, List.of(), PluginJars.directoryWith("pooling", "metrics"))) {
            Properties p = new Properties();
            p.setProperty("user", "scram_user");
            p.setProperty("password", "not-the-password");
            // The client passes the proxy's check against the auth file; the server refuses the pool's login.
            assertThatThrownBy(() -> {
                try (Connection c = java.sql.DriverManager.getConnection(proxy.jdbcUrl("postgres"), p); Statement s = c.createStatement()) {
                    s.execute("SELECT 1");
                }
            }).isInstanceOf(SQLException.class);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (failures(metricsPort) < 1 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            double first = failures(metricsPort);
            assertThat(first).as("refused logins counted").isGreaterThanOrEqualTo(1);
            // A rate over time is the point here: watch 3 s, one server_login_retry and a half.
            Thread.sleep(3_000);
            double later = failures(metricsPort);
            // min_pool_size 2 every 2 s allows a few more; a loop without the pause makes thousands.
            assertThat(later - first).as("refused logins in 3 s").isLessThanOrEqualTo(6);
            assertThat(later - first).as("the pool keeps trying after server_login_retry").isGreaterThanOrEqualTo(1);
        }
    }
}
