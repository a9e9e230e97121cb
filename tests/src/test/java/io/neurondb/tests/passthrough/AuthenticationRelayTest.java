package io.neurondb.tests.passthrough;

import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.tests.support.ProxyUnderTest;
import io.neurondb.tests.support.TestPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.postgresql.util.PSQLException;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** In 1:1 mode the server's authentication exchange is relayed untouched, for every method. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AuthenticationRelayTest {

    private ProxyUnderTest proxy;

    @BeforeAll
    void start() {
        LocalPostgres pg = TestPostgres.shared();
        proxy = ProxyUnderTest.start(pg);
    }

    @AfterAll
    void stop() {
        proxy.close();
    }

    @Test
    void trustLogin() throws Exception {
        assertLoggedInAs(proxy.connect("trust_user", null), "trust_user");
    }

    @Test
    void md5Login() throws Exception {
        assertLoggedInAs(proxy.connect("md5_user", "md5pass"), "md5_user");
    }

    @Test
    void scramLogin() throws Exception {
        assertLoggedInAs(proxy.connect("scram_user", "scrampass"), "scram_user");
    }

    @Test
    void wrongPasswordIsTheServersRefusal() {
        assertThatThrownBy(() -> proxy.connect("scram_user", "wrong"))
                .isInstanceOf(PSQLException.class)
                .satisfies(e -> assertThat(((PSQLException) e).getSQLState()).isEqualTo("28P01"));
        assertThatThrownBy(() -> proxy.connect("md5_user", "wrong"))
                .satisfies(e -> assertThat(((PSQLException) e).getSQLState()).isEqualTo("28P01"));
    }

    @Test
    void unknownDatabaseIsTheServersRefusal() {
        assertThatThrownBy(() -> java.sql.DriverManager.getConnection(proxy.jdbcUrl("no_such_db"), "postgres", "postgres"))
                .isInstanceOf(PSQLException.class)
                .satisfies(e -> assertThat(((PSQLException) e).getSQLState()).isEqualTo("3D000"));
    }

    private static void assertLoggedInAs(Connection c, String user) throws Exception {
        try (c; Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT current_user")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo(user);
        }
    }
}
