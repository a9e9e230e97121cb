package io.neurondb.tests.pooling;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * PgBouncer's forced user: {@code databases.<name>.user/password}. Clients logging in as
 * different users all run on server connections logged in as the configured role (which has a
 * SCRAM password), from one pool keyed by that role, and neither that password nor a wrong one appears in any proxy log line
 * (the whole proxy at DEBUG), in SHOW CONFIG or in SHOW DATABASES.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ForcedUserTest {

    private static final String PASSWORD = "Forced-Secret-7731";
    private static final String WRONG_PASSWORD = "Wrong-Secret-5519";

    @Test
    void everyClientRunsAsTheConfiguredRoleAndThePasswordStaysSecret() throws Exception {
        LocalPostgres pg = TestPostgres.shared();
        try (Connection c = TestPostgres.superuser(pg); Statement s = c.createStatement()) {
            s.execute("DROP ROLE IF EXISTS forced_role");
            s.execute("SET password_encryption = 'scram-sha-256'");
            s.execute("CREATE ROLE forced_role LOGIN PASSWORD '" + PASSWORD + "'");
            try (ResultSet r = s.executeQuery("SELECT rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid WHERE rolname = 'forced_role'")) {
                r.next();
                assertThat(r.getBoolean(1)).as("the role has a SCRAM secret").isTrue();
            }
        }
        Logger proxyLog = (Logger) LoggerFactory.getLogger("io.neurondb");
        Level before = proxyLog.getLevel();
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        lines.start();
        proxyLog.addAppender(lines);
        proxyLog.setLevel(Level.DEBUG);
        try (ProxyUnderTest proxy = PooledProxy.start(pg, "    auth_type: scram-sha-256\n    pool_mode: transaction\n    default_pool_size: 2\n"
                + "    databases:\n"
                + "      forced_db:\n        dbname: postgres\n        user: forced_role\n        password: " + PASSWORD + "\n"
                + "      forced_bad:\n        dbname: postgres\n        user: forced_role\n        password: " + WRONG_PASSWORD + "\n")) {
            List<String[]> logins = List.of(new String[]{"scram_user", "scrampass"}, new String[]{"md5_user", "md5pass"},
                    new String[]{"postgres", "postgres"});
            List<Connection> open = new ArrayList<>();
            java.util.Set<Integer> pids = new java.util.TreeSet<>();
            try {
                for (String[] login : logins) {
                    Connection c = PooledProxy.connect(proxy, "forced_db", login[0], login[1], new Properties());
                    open.add(c);
                    for (int i = 0; i < 3; i++) {
                        try (Statement s = c.createStatement();
                             ResultSet r = s.executeQuery("SELECT current_user, session_user, current_database(), pg_backend_pid()")) {
                            r.next();
                            pids.add(r.getInt(4));
                            assertThat(r.getString(1)).as("current_user of client " + login[0]).isEqualTo("forced_role");
                            assertThat(r.getString(2)).as("session_user of client " + login[0]).isEqualTo("forced_role");
                            assertThat(r.getString(3)).isEqualTo("postgres");
                        }
                    }
                }
                // One pool for the database, under the forced user (as PgBouncer): the three
                // clients shared its 2 connections instead of opening one pool each.
                assertThat(pids).as("server connections the three clients ran on").hasSizeLessThanOrEqualTo(2);
                try (Connection c = PooledProxy.console(proxy)) {
                    assertThat(PooledProxy.poolRow(c, "forced_db", "forced_role")).containsEntry("cl_active", "3");
                    for (String[] login : logins) {
                        assertThat(PooledProxy.poolRow(c, "forced_db", login[0])).as("no pool of the client's own user").isEmpty();
                    }
                }
                // Seen from the server: every backend the clients ran on belongs to forced_role.
                try (Connection c = TestPostgres.superuser(pg); Statement s = c.createStatement();
                     ResultSet r = s.executeQuery("SELECT count(*), count(*) FILTER (WHERE usename = 'forced_role') FROM pg_stat_activity "
                             + "WHERE pid = ANY ('{" + String.join(",", pids.stream().map(String::valueOf).toList()) + "}'::int[])")) {
                    r.next();
                    assertThat(r.getInt(1)).as("the pool's backends are still open").isPositive();
                    assertThat(r.getInt(2)).isEqualTo(r.getInt(1));
                }
                // A wrong configured password: the client is refused with the server's reason.
                assertThatThrownBy(() -> {
                    try (Connection c = PooledProxy.connect(proxy, "forced_bad", "scram_user", "scrampass", new Properties());
                         Statement s = c.createStatement()) {
                        s.executeQuery("SELECT 1").close();
                    }
                }).isInstanceOf(SQLException.class).hasMessageContaining("password authentication failed");

                List<String> console = new ArrayList<>();
                try (Connection c = PooledProxy.console(proxy); Statement s = c.createStatement()) {
                    for (String command : List.of("SHOW CONFIG", "SHOW DATABASES", "SHOW POOLS", "SHOW SERVERS", "SHOW CLIENTS")) {
                        try (ResultSet r = s.executeQuery(command)) {
                            while (r.next()) {
                                for (int i = 1; i <= r.getMetaData().getColumnCount(); i++) {
                                    console.add(command + ": " + r.getString(i));
                                }
                            }
                        }
                    }
                }
                assertThat(console).as("SHOW DATABASES names the forced user").contains("SHOW DATABASES: forced_role");
                assertThat(console).noneMatch(v -> v.contains(PASSWORD) || v.contains(WRONG_PASSWORD));
            } finally {
                for (Connection c : open) {
                    c.close();
                }
            }
        } finally {
            proxyLog.detachAppender(lines);
            proxyLog.setLevel(before);
        }
        List<String> logged = new ArrayList<>();
        synchronized (lines) {
            for (ILoggingEvent e : new ArrayList<>(lines.list)) {
                StringBuilder b = new StringBuilder(e.getFormattedMessage());
                for (IThrowableProxy t = e.getThrowableProxy(); t != null; t = t.getCause()) {
                    b.append(' ').append(t.getMessage());
                }
                logged.add(b.toString());
            }
        }
        assertThat(logged).as("the proxy logged at DEBUG").hasSizeGreaterThan(10);
        assertThat(logged).as("the login failure was logged").anyMatch(l -> l.contains("server_login_failed"));
        assertThat(logged).noneMatch(l -> l.contains(PASSWORD) || l.contains(WRONG_PASSWORD));
    }
}
