package io.neurondb.tests.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.tests.support.ProxyUnderTest;
import io.neurondb.tests.support.TestPostgres;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code SET neurondb.log_level} changes the proxy-side log detail of that session only, with
 * the proxy's session logger at INFO: a {@code warning} session's INFO line (its server
 * connection terminated) is left out while a default session's same line is written; a
 * {@code debug} session's DEBUG line (its client ending the session) is written while a default
 * session's is not; an explicit {@code info} quiets a session under a proxy at DEBUG.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SessionLogLevelTest {

    @Test
    void eachSessionGetsTheDetailItSetAndNoOtherSessionIsAffected() throws Exception {
        LocalPostgres pg = TestPostgres.shared();
        // The tests' logback configuration keeps the proxy at WARN.
        withSessionLog(Level.INFO, (proxy, lines, meters) -> {
            Connection quiet = login(proxy, lines);
            long quietConn = lastSessionReady(lines);
            Connection plain = login(proxy, lines);
            long plainConn = lastSessionReady(lines);
            Connection traced = login(proxy, lines);
            long tracedConn = lastSessionReady(lines);
            Connection plainClosing = login(proxy, lines);
            long plainClosingConn = lastSessionReady(lines);
            assertThat(List.of(quietConn, plainConn, tracedConn, plainClosingConn)).doesNotHaveDuplicates();

            exec(quiet, "SET neurondb.log_level = 'warning'");
            exec(traced, "SET neurondb.log_level = debug");
            int quietPid = backendPid(quiet);
            int plainPid = backendPid(plain);

            // The server ends two sessions: the proxy logs event=server_closed at INFO for each.
            try (Connection admin = TestPostgres.superuser(pg); Statement s = admin.createStatement()) {
                s.execute("SELECT pg_terminate_backend(" + quietPid + "), pg_terminate_backend(" + plainPid + ")");
            }
            // Both sessions end on the server's side before their clients do anything.
            await("the two terminated sessions closed", () -> active(meters) == 2);
            // Two clients end their sessions (Terminate): the proxy logs event=closing at DEBUG for each.
            traced.close();
            plainClosing.close();
            await("every session closed", () -> active(meters) == 0);
            quiet.close();
            plain.close();

            assertThat(events(lines, plainConn)).as("default session").contains("server_closed");
            assertThat(events(lines, quietConn)).as("warning session: no INFO after its SET").doesNotContain("server_closed");
            assertThat(events(lines, tracedConn)).as("debug session").contains("closing");
            assertThat(events(lines, plainClosingConn)).as("default session closing").contains("session_ready")
                    .doesNotContain("closing");
        });
    }

    /**
     * With the proxy's session logger at DEBUG, an explicit {@code info} leaves out that
     * session's DEBUG line (its client ending the session), while a session that RESET it back
     * and a session that never set it keep theirs.
     */
    @Test
    void anExplicitInfoQuietsASessionUnderAProxyAtDebugAndResetGoesBackToTheProxysLevel() throws Exception {
        withSessionLog(Level.DEBUG, (proxy, lines, meters) -> {
            Connection quieted = login(proxy, lines);
            long quietedConn = lastSessionReady(lines);
            Connection reset = login(proxy, lines);
            long resetConn = lastSessionReady(lines);
            Connection plain = login(proxy, lines);
            long plainConn = lastSessionReady(lines);

            exec(quieted, "SET neurondb.log_level = info");
            exec(reset, "SET neurondb.log_level = info");
            exec(reset, "RESET neurondb.log_level");
            quieted.close();
            reset.close();
            plain.close();
            await("every session closed", () -> active(meters) == 0);

            assertThat(events(lines, quietedConn)).as("info session: no DEBUG after its SET").contains("session_ready")
                    .doesNotContain("closing");
            assertThat(events(lines, resetConn)).as("session back on the proxy's level").contains("closing");
            assertThat(events(lines, plainConn)).as("default session").contains("closing");
        });
    }

    /** What a test does with a proxy whose session lines are captured, and the host's meters. */
    private interface SessionLogTest {
        void run(ProxyUnderTest proxy, ListAppender<ILoggingEvent> lines, SimpleMeterRegistry meters) throws Exception;
    }

    /** Runs {@code test} against a proxy with ClientSession's logger at {@code level}, its lines captured; the logger is restored after. */
    private static void withSessionLog(Level level, SessionLogTest test) throws Exception {
        Logger sessionLog = (Logger) LoggerFactory.getLogger("io.neurondb.proxy.session.ClientSession");
        Level before = sessionLog.getLevel();
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        lines.start();
        sessionLog.addAppender(lines);
        sessionLog.setLevel(level);
        try (ProxyUnderTest proxy = ProxyUnderTest.start(TestPostgres.shared())) {
            SimpleMeterRegistry meters = new SimpleMeterRegistry(); // the host registry has no store of its own
            ((CompositeMeterRegistry) proxy.proxy().meters()).add(meters);
            test.run(proxy, lines, meters);
        } finally {
            sessionLog.detachAppender(lines);
            sessionLog.setLevel(before);
        }
    }

    @Test
    void bindValuesAndPasswordsNeverReachTheLogsEvenAtDebug() throws Exception {
        LocalPostgres pg = TestPostgres.shared();
        Logger proxyLog = (Logger) LoggerFactory.getLogger("io.neurondb");
        Level before = proxyLog.getLevel();
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        lines.start();
        proxyLog.addAppender(lines);
        proxyLog.setLevel(Level.DEBUG); // the whole proxy at debug, and the session too
        String secret = "bind-secret-4711";
        try (ProxyUnderTest proxy = ProxyUnderTest.start(pg)) {
            java.util.Properties p = new java.util.Properties();
            p.setProperty("user", "scram_user");
            p.setProperty("password", "scrampass");
            try (Connection c = java.sql.DriverManager.getConnection(proxy.jdbcUrl("postgres"), p)) {
                exec(c, "SET neurondb.log_level = debug");
                try (java.sql.PreparedStatement ps = c.prepareStatement("SELECT ?::text")) {
                    ps.setString(1, secret);
                    try (ResultSet rs = ps.executeQuery()) {
                        assertThat(rs.next()).isTrue();
                        assertThat(rs.getString(1)).isEqualTo(secret);
                    }
                }
                // An error whose server message holds the bound value.
                try (java.sql.PreparedStatement ps = c.prepareStatement("SELECT ?::int")) {
                    ps.setString(1, secret);
                    org.assertj.core.api.Assertions.assertThatThrownBy(ps::executeQuery).isInstanceOf(SQLException.class);
                }
            }
        } finally {
            proxyLog.detachAppender(lines);
            proxyLog.setLevel(before);
        }
        List<String> all = snapshot(lines).stream().map(e -> e.getFormattedMessage()
                + (e.getThrowableProxy() == null ? "" : " " + e.getThrowableProxy().getMessage())).toList();
        assertThat(all).as("debug lines were written").anyMatch(l -> l.contains("event=session_ready"));
        assertThat(all).noneMatch(l -> l.contains(secret)).noneMatch(l -> l.contains("scrampass"));
    }

    private static double active(SimpleMeterRegistry meters) {
        return meters.find("neurondb.client.connections").tag("state", "active").gauge().value();
    }

    private static Connection login(ProxyUnderTest proxy, ListAppender<ILoggingEvent> lines) throws Exception {
        long readyBefore = readyLines(lines);
        Connection c = proxy.connectTo("postgres");
        await("the login's session_ready line", () -> readyLines(lines) == readyBefore + 1);
        return c;
    }

    private static long readyLines(ListAppender<ILoggingEvent> lines) {
        return snapshot(lines).stream().filter(e -> e.getFormattedMessage().contains("event=session_ready")).count();
    }

    private static long lastSessionReady(ListAppender<ILoggingEvent> lines) {
        ILoggingEvent last = snapshot(lines).stream().filter(e -> e.getFormattedMessage().contains("event=session_ready"))
                .reduce((a, b) -> b).orElseThrow();
        return (Long) last.getArgumentArray()[0];
    }

    /** The event names logged for one connection id. */
    private static List<String> events(ListAppender<ILoggingEvent> lines, long conn) {
        return snapshot(lines).stream().filter(e -> e.getArgumentArray() != null && e.getArgumentArray().length > 0
                        && Long.valueOf(conn).equals(e.getArgumentArray()[0]))
                .map(e -> e.getMessage().startsWith("conn={} event=")
                        ? e.getMessage().substring("conn={} event=".length()).split(" ")[0] : e.getMessage())
                .toList();
    }

    private static List<ILoggingEvent> snapshot(ListAppender<ILoggingEvent> lines) {
        synchronized (lines) { // the appender appends under its own lock
            return List.copyOf(lines.list);
        }
    }

    private static void exec(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private static int backendPid(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static void await(String what, BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }
}
