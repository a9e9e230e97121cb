package io.neurondb.tests.passthrough;

import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.tests.support.ProxyUnderTest;
import io.neurondb.tests.support.TestPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.postgresql.copy.CopyManager;
import org.postgresql.util.PSQLException;

import java.io.ByteArrayOutputStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** pgjdbc through the proxy: both query protocols and the protocol's side channels. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class JdbcRelayTest {

    private LocalPostgres pg;
    private ProxyUnderTest proxy;

    @BeforeAll
    void start() {
        pg = TestPostgres.shared();
        proxy = ProxyUnderTest.start(pg);
    }

    @AfterAll
    void stop() {
        proxy.close();
    }

    @Test
    void simpleAndExtendedProtocolReturnTheServersAnswers() throws Exception {
        Properties simple = new Properties();
        simple.setProperty("preferQueryMode", "simple");
        try (Connection c = proxy.connect("postgres", "postgres", simple); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT current_user, 6 * 7, 'naïve ☃'")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("postgres");
            assertThat(rs.getInt(2)).isEqualTo(42);
            assertThat(rs.getString(3)).isEqualTo("naïve ☃");
        }
        Properties prepared = new Properties();
        prepared.setProperty("prepareThreshold", "1"); // named server-side statements from the first run
        try (Connection c = proxy.connect("postgres", "postgres", prepared);
             PreparedStatement ps = c.prepareStatement("SELECT ?::int + 1, ?::text")) {
            for (int i = 0; i < 5; i++) {
                ps.setInt(1, i);
                ps.setString(2, "v" + i);
                try (ResultSet rs = ps.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getInt(1)).isEqualTo(i + 1);
                    assertThat(rs.getString(2)).isEqualTo("v" + i);
                }
            }
        }
    }

    @Test
    void pipelinedBatchAndTransactionsWork() throws Exception {
        try (Connection c = proxy.connect()) {
            try (Statement s = c.createStatement()) {
                s.execute("DROP TABLE IF EXISTS relay_batch; CREATE TABLE relay_batch(id int primary key, v text)");
            }
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO relay_batch VALUES (?, ?)")) {
                for (int i = 0; i < 500; i++) {
                    ps.setInt(1, i);
                    ps.setString(2, "row " + i);
                    ps.addBatch();
                }
                assertThat(ps.executeBatch()).hasSize(500).containsOnly(1);
            }
            c.rollback();
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM relay_batch")) {
                rs.next();
                assertThat(rs.getInt(1)).isZero();
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO relay_batch VALUES (?, ?)")) {
                ps.setInt(1, 1);
                ps.setString(2, "kept");
                ps.executeUpdate();
            }
            c.commit();
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT v FROM relay_batch")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("kept");
            }
        }
    }

    @Test
    void errorsReachTheClientAndTheSessionRecovers() throws Exception {
        try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.executeQuery("SELECT 1/0"))
                    .isInstanceOf(PSQLException.class)
                    .satisfies(e -> assertThat(((PSQLException) e).getSQLState()).isEqualTo("22012"));
            assertThatThrownBy(() -> s.executeQuery("SELECT * FROM no_such_table"))
                    .satisfies(e -> assertThat(((PSQLException) e).getSQLState()).isEqualTo("42P01"));
            c.setAutoCommit(false);
            assertThatThrownBy(() -> s.execute("SELECT 1/0")).isInstanceOf(PSQLException.class);
            assertThatThrownBy(() -> s.execute("SELECT 1"))
                    .satisfies(e -> assertThat(((PSQLException) e).getSQLState()).isEqualTo("25P02"));
            c.rollback();
            try (ResultSet rs = s.executeQuery("SELECT 'fine'")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("fine");
            }
        }
    }

    @Test
    void largeResultArrivesComplete() throws Exception {
        try (Connection c = proxy.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT g, repeat('x', 200) FROM generate_series(1, 200000) g")) {
            long sum = 0;
            int rows = 0;
            while (rs.next()) {
                sum += rs.getInt(1);
                rows++;
                assertThat(rs.getString(2)).hasSize(200);
            }
            assertThat(rows).isEqualTo(200_000);
            assertThat(sum).isEqualTo(200_000L * 200_001 / 2);
        }
    }

    @Test
    void slowReaderGetsEveryRowInOrderThroughBackpressureCycles() throws Exception {
        Properties p = new Properties();
        p.setProperty("defaultRowFetchSize", "0"); // one result stream, read at the client's pace
        try (Connection c = proxy.connect("postgres", "postgres", p); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT g, md5(g::text) FROM generate_series(1, 300000) g ORDER BY g")) {
            int expected = 1;
            while (rs.next()) {
                assertThat(rs.getInt(1)).isEqualTo(expected);
                if (expected % 50_000 == 0) {
                    assertThat(rs.getString(2)).isEqualTo(md5Hex(Integer.toString(expected)));
                    Thread.sleep(300); // let the proxy's buffers fill and the server stall
                }
                expected++;
            }
            assertThat(expected - 1).isEqualTo(300_000);
        }
    }

    private static String md5Hex(String s) throws Exception {
        byte[] d = java.security.MessageDigest.getInstance("MD5").digest(s.getBytes(StandardCharsets.UTF_8));
        return java.util.HexFormat.of().formatHex(d);
    }

    @Test
    void copyInAndOut() throws Exception {
        try (Connection c = proxy.connect()) {
            try (Statement s = c.createStatement()) {
                s.execute("DROP TABLE IF EXISTS relay_copy; CREATE TABLE relay_copy(id int, name text)");
            }
            CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
            StringBuilder text = new StringBuilder();
            for (int i = 0; i < 10_000; i++) {
                text.append(i).append('\t').append("name ").append(i).append('\n');
            }
            long in = copy.copyIn("COPY relay_copy FROM STDIN", new StringReader(text.toString()));
            assertThat(in).isEqualTo(10_000);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            long outRows = copy.copyOut("COPY (SELECT * FROM relay_copy ORDER BY id) TO STDOUT", out);
            assertThat(outRows).isEqualTo(10_000);
            assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo(text.toString());
            // A COPY the server rejects mid-stream leaves the session usable.
            assertThatThrownBy(() -> copy.copyIn("COPY relay_copy FROM STDIN", new StringReader("not-a-number\tx\n")))
                    .isInstanceOf(PSQLException.class);
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM relay_copy")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(10_000);
            }
        }
    }

    @Test
    void listenNotifyNoticesAndParameterStatus() throws Exception {
        try (Connection listener = proxy.connect(); Connection notifier = proxy.connect()) {
            try (Statement s = listener.createStatement()) {
                s.execute("LISTEN relay_channel");
            }
            try (Statement s = notifier.createStatement()) {
                s.execute("NOTIFY relay_channel, 'hello through the proxy'");
            }
            PGNotification[] got = listener.unwrap(PGConnection.class).getNotifications(5000);
            assertThat(got).isNotNull().hasSize(1);
            assertThat(got[0].getName()).isEqualTo("relay_channel");
            assertThat(got[0].getParameter()).isEqualTo("hello through the proxy");

            try (Statement s = listener.createStatement()) {
                s.execute("DO $$ BEGIN RAISE NOTICE 'a notice for you'; END $$");
                SQLWarning w = s.getWarnings();
                assertThat((Throwable) w).isNotNull();
                assertThat(w.getMessage()).contains("a notice for you");

                s.execute("SET application_name = 'relay-test-app'");
            }
            assertThat(listener.unwrap(PGConnection.class).getParameterStatus("application_name")).isEqualTo("relay-test-app");
        }
    }

    @Test
    void cancelStopsTheRunningQueryOfThatClientOnly() throws Exception {
        try (Connection victim = proxy.connect(); Connection bystander = proxy.connect()) {
            Statement slow = victim.createStatement();
            Statement other = bystander.createStatement();
            CompletableFuture<Throwable> slowResult = CompletableFuture.supplyAsync(() -> {
                try {
                    slow.execute("SELECT pg_sleep(30)");
                    return null;
                } catch (Exception e) {
                    return e;
                }
            });
            CompletableFuture<Boolean> otherResult = CompletableFuture.supplyAsync(() -> {
                try {
                    return other.execute("SELECT pg_sleep(2)");
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            waitUntilActive("SELECT pg_sleep(30)");
            long t0 = System.nanoTime();
            slow.cancel();
            Throwable err = slowResult.get(10, TimeUnit.SECONDS);
            assertThat(err).isInstanceOf(PSQLException.class);
            assertThat(((PSQLException) err).getSQLState()).isEqualTo("57014");
            assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0)).isLessThan(10);
            assertThat(otherResult.get(10, TimeUnit.SECONDS)).isTrue(); // not cancelled
        }
    }

    @Test
    void serverEndingTheSessionReachesTheClient() throws Exception {
        try (Connection c = proxy.connect()) {
            int backendPid;
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
                rs.next();
                backendPid = rs.getInt(1);
            }
            try (Connection direct = TestPostgres.superuser(pg); Statement s = direct.createStatement()) {
                s.execute("SELECT pg_terminate_backend(" + backendPid + ")");
            }
            assertThatThrownBy(() -> {
                try (Statement s = c.createStatement()) {
                    s.execute("SELECT 1");
                }
            }).isInstanceOf(PSQLException.class)
                    .satisfies(e -> assertThat(((PSQLException) e).getSQLState()).isIn("57P01", "08006"));
        }
        try (Connection again = proxy.connect(); Statement s = again.createStatement(); ResultSet rs = s.executeQuery("SELECT 2")) {
            rs.next();
            assertThat(rs.getInt(1)).isEqualTo(2);
        }
    }

    private void waitUntilActive(String query) throws Exception {
        try (Connection direct = TestPostgres.superuser(pg)) {
            for (int i = 0; i < 100; i++) {
                try (PreparedStatement ps = direct.prepareStatement("SELECT count(*) FROM pg_stat_activity WHERE query = ? AND state = 'active'")) {
                    ps.setString(1, query);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        if (rs.getInt(1) > 0) {
                            return;
                        }
                    }
                }
                Thread.sleep(50);
            }
        }
        throw new AssertionError("query never became active: " + query);
    }
}
