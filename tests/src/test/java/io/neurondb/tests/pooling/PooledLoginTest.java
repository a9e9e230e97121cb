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

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The proxy checks passwords itself (SCRAM, md5) and logs in to the server with the configured secrets. */
class PooledLoginTest {

    private static LocalPostgres pg;
    private static ProxyUnderTest scramProxy;
    private static ProxyUnderTest md5Proxy;

    @BeforeAll
    static void start() {
        pg = TestPostgres.shared();
        scramProxy = PooledProxy.start(pg, "    auth_type: scram-sha-256\n    pool_mode: session\n");
        md5Proxy = PooledProxy.start(pg, "    auth_type: md5\n    pool_mode: transaction\n");
    }

    @AfterAll
    static void stop() {
        if (scramProxy != null) {
            scramProxy.close();
        }
        if (md5Proxy != null) {
            md5Proxy.close();
        }
    }

    @Test
    void scramLoginReachesTheServerAsThatUser() throws SQLException {
        try (Connection c = PooledProxy.connect(scramProxy, "postgres", "scram_user", "scrampass", new Properties());
             Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT current_user, 6 * 7")) {
            r.next();
            assertThat(r.getString(1)).isEqualTo("scram_user");
            assertThat(r.getInt(2)).isEqualTo(42);
        }
    }

    @Test
    void md5LoginReachesTheServerAsThatUser() throws SQLException {
        try (Connection c = PooledProxy.connect(md5Proxy, "postgres", "md5_user", "md5pass", new Properties());
             Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT current_user")) {
            r.next();
            assertThat(r.getString(1)).isEqualTo("md5_user");
        }
    }

    @Test
    void md5ClientCanUseAScramServerRole() throws SQLException {
        // auth_type md5 towards the client; the server connection still logs in with SCRAM.
        try (Connection c = PooledProxy.connect(md5Proxy, "postgres", "scram_user", "scrampass", new Properties());
             Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT current_user")) {
            r.next();
            assertThat(r.getString(1)).isEqualTo("scram_user");
        }
    }

    @Test
    void wrongPasswordIs28P01AndUsesNoServerConnection() throws SQLException {
        int before = PooledProxy.serverConnections(pg, "md5_user");
        for (ProxyUnderTest proxy : new ProxyUnderTest[]{scramProxy, md5Proxy}) {
            assertThatThrownBy(() -> PooledProxy.connect(proxy, "postgres", "md5_user", "wrong", new Properties()).close())
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28P01"));
            assertThatThrownBy(() -> PooledProxy.connect(proxy, "postgres", "nobody", "x", new Properties()).close())
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28P01"));
        }
        assertThat(PooledProxy.serverConnections(pg, "md5_user")).isEqualTo(before);
        assertThat(PooledProxy.serverConnections(pg, "nobody")).isZero();
    }
}
