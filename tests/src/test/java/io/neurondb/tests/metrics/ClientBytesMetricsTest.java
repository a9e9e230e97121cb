package io.neurondb.tests.metrics;

import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.tests.support.PluginJars;
import io.neurondb.tests.support.ProxyUnderTest;
import io.neurondb.tests.support.TestPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code neurondb_client_received_bytes_total} and {@code neurondb_client_sent_bytes_total} are
 * exactly the bytes a client sent and received, counted by a TCP relay between pgjdbc and the
 * proxy: the SSLRequest and its one-byte refusal, the StartupMessage, the password exchange,
 * every query and reply, an error, the Terminate; and a failed login's bytes, ending in the
 * server's FATAL error.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClientBytesMetricsTest {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String RECEIVED = "neurondb_client_received_bytes_total";
    private static final String SENT = "neurondb_client_sent_bytes_total";

    private ProxyUnderTest proxy;
    private MetricsHttp http;

    @BeforeAll
    void start() {
        LocalPostgres pg = TestPostgres.shared();
        int metricsPort = LocalPostgres.freePort();
        // Only this test's clients use this proxy, so the counters move by their bytes alone.
        proxy = ProxyUnderTest.start(pg.port(), "metrics_port: " + metricsPort + "\n", List.of(), PluginJars.directoryWith("metrics"));
        http = new MetricsHttp(metricsPort);
    }

    @AfterAll
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
    }

    private static Properties props(String password, String mode) {
        Properties p = new Properties();
        p.setProperty("user", TestPostgres.SUPERUSER);
        p.setProperty("password", password);
        p.setProperty("preferQueryMode", mode);
        p.setProperty("sslmode", "prefer"); // an SSLRequest first, which this proxy (no TLS configured) refuses with 'N'
        p.setProperty("gssEncMode", "disable");
        p.setProperty("socketTimeout", "30");
        return p;
    }

    private PromText awaitNoClients() throws Exception {
        return http.awaitScrape(WAIT, "no clients", m -> m.value("neurondb_client_connections", "state", "active") == 0
                && m.value("neurondb_client_connections", "state", "login") == 0);
    }

    @Test
    void bytesInAndOutAreExactlyWhatTheClientSentAndReceived() throws Exception {
        PromText before = awaitNoClients();
        long sentBefore = (long) before.value(RECEIVED);
        long receivedBefore = (long) before.value(SENT);
        try (CountingRelay relay = new CountingRelay(proxy.port())) {
            try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + relay.port() + "/postgres",
                    props(TestPostgres.SUPERUSER_PASSWORD, "extended"))) {
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT g, repeat('x', g) FROM generate_series(1, 200) g")) {
                    int n = 0;
                    while (rs.next()) {
                        n++;
                    }
                    assertThat(n).isEqualTo(200);
                }
                try (PreparedStatement ps = c.prepareStatement("SELECT ?::text")) {
                    ps.setString(1, "x".repeat(5000));
                    try (ResultSet rs = ps.executeQuery()) {
                        assertThat(rs.next()).isTrue();
                    }
                }
                try (Statement s = c.createStatement()) {
                    assertThatThrownBy(() -> s.execute("SELECT 1/0")).isInstanceOf(SQLException.class);
                }
            }
            relay.awaitClosed(30);
            PromText after = awaitNoClients();
            assertThat(relay.clientSent()).isGreaterThan(5000);
            assertThat((long) after.value(RECEIVED) - sentBefore).as("bytes read from the client").isEqualTo(relay.clientSent());
            assertThat((long) after.value(SENT) - receivedBefore).as("bytes written to the client").isEqualTo(relay.clientReceived());
        }
    }

    @Test
    void aFailedLoginsBytesAreCountedToo() throws Exception {
        PromText before = awaitNoClients();
        long sentBefore = (long) before.value(RECEIVED);
        long receivedBefore = (long) before.value(SENT);
        try (CountingRelay relay = new CountingRelay(proxy.port())) {
            assertThatThrownBy(() -> DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + relay.port() + "/postgres",
                    props("not-the-password", "simple")))
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28P01"));
            relay.awaitClosed(30);
            PromText after = awaitNoClients();
            assertThat(relay.clientReceived()).isGreaterThan(1);
            assertThat((long) after.value(RECEIVED) - sentBefore).as("bytes read from the client").isEqualTo(relay.clientSent());
            assertThat((long) after.value(SENT) - receivedBefore).as("bytes written to the client").isEqualTo(relay.clientReceived());
        }
    }
}
