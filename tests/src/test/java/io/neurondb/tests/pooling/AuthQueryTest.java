package io.neurondb.tests.pooling;

import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.tests.support.ProxyUnderTest;
import io.neurondb.tests.support.TestPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

import static io.neurondb.tests.pooling.PooledProxy.serverPids;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * auth_query through auth_user, as PgBouncer sets it up: the client's role is not in the auth
 * file; its SCRAM secret is read from pg_shadow by a SECURITY DEFINER function that only the
 * (unprivileged) auth_user may run, and the auth_user's own password comes from the auth file.
 */
class AuthQueryTest {

    private static LocalPostgres pg;

    /** Only the auth_user (and the console's admin) are in the file; aq_user is looked up. */
    private static final String AUTH_FILE = """
            "aq_auth" "authpass"
            "postgres" "postgres"
            """;

    private static final String SETTINGS = """
                auth_type: scram-sha-256
                pool_mode: transaction
                auth_user: aq_auth
                auth_query: "SELECT usename, passwd FROM pool_user_lookup($1)"
            """;

    @BeforeAll
    static void roles() throws SQLException {
        pg = TestPostgres.shared();
        try (Connection c = TestPostgres.superuser(pg); Statement s = c.createStatement()) {
            dropAll(s);
            s.execute("SET password_encryption = 'scram-sha-256'");
            s.execute("CREATE ROLE aq_user LOGIN PASSWORD 'aqpass'");
            s.execute("CREATE ROLE aq_auth LOGIN PASSWORD 'authpass'");
            s.execute("""
                    CREATE FUNCTION pool_user_lookup(p_user text, OUT usename name, OUT passwd text) RETURNS record
                    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS
                    $$ SELECT usename, passwd FROM pg_shadow WHERE usename = p_user $$""");
            s.execute("REVOKE ALL ON FUNCTION pool_user_lookup(text) FROM PUBLIC");
            s.execute("GRANT EXECUTE ON FUNCTION pool_user_lookup(text) TO aq_auth");
        }
    }

    @AfterAll
    static void dropRoles() throws SQLException {
        try (Connection c = TestPostgres.superuser(pg); Statement s = c.createStatement()) {
            // The proxies of this class are closed; their connections may take a moment to end.
            s.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename IN ('aq_user', 'aq_auth')");
            dropAll(s);
        }
    }

    private static void dropAll(Statement s) throws SQLException {
        s.execute("DROP FUNCTION IF EXISTS pool_user_lookup(text)");
        s.execute("DROP ROLE IF EXISTS aq_user");
        s.execute("DROP ROLE IF EXISTS aq_auth");
    }

    private static Connection connect(ProxyUnderTest proxy, String user, String password) throws SQLException {
        return PooledProxy.connect(proxy, "postgres", user, password, new Properties());
    }

    @Test
    void scramUserNotInTheAuthFileLogsInWithTheSecretFromPgShadow() throws Exception {
        try (ProxyUnderTest proxy = PooledProxy.startWithAuthFile(pg, AUTH_FILE, SETTINGS)) {
            try (Connection c = connect(proxy, "aq_user", "aqpass"); Statement s = c.createStatement();
                 ResultSet r = s.executeQuery("SELECT current_user, pg_backend_pid()")) {
                r.next();
                assertThat(r.getString(1)).isEqualTo("aq_user");
                // The server connection logged in as aq_user (with the SCRAM key the client proved).
                assertThat(serverPids(pg, "aq_user")).contains(r.getInt(2));
            }
            // A password changed on the server applies at the next login: the secret is read each time.
            try (Connection su = TestPostgres.superuser(pg); Statement s = su.createStatement()) {
                s.execute("SET password_encryption = 'scram-sha-256'");
                s.execute("ALTER ROLE aq_user PASSWORD 'changed'");
            }
            try (Connection c = connect(proxy, "aq_user", "changed"); Statement s = c.createStatement();
                 ResultSet r = s.executeQuery("SELECT session_user")) {
                r.next();
                assertThat(r.getString(1)).isEqualTo("aq_user");
            }
            assertThatThrownBy(() -> connect(proxy, "aq_user", "aqpass").close())
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28P01"));
        } finally {
            try (Connection su = TestPostgres.superuser(pg); Statement s = su.createStatement()) {
                s.execute("SET password_encryption = 'scram-sha-256'");
                s.execute("ALTER ROLE aq_user PASSWORD 'aqpass'");
            }
        }
    }

    @Test
    void wrongPasswordAndUnknownRoleAreRefusedWithoutAServerConnection() throws Exception {
        try (ProxyUnderTest proxy = PooledProxy.startWithAuthFile(pg, AUTH_FILE, SETTINGS)) {
            PooledProxy.await("no aq_user server connections from earlier tests", () -> serverPids(pg, "aq_user").isEmpty());
            assertThatThrownBy(() -> connect(proxy, "aq_user", "wrong").close())
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28P01"));
            assertThatThrownBy(() -> connect(proxy, "no_such_role", "whatever").close())
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28P01"));
            assertThat(serverPids(pg, "aq_user")).as("no server connection for a refused login").isEmpty();
        }
    }
}
