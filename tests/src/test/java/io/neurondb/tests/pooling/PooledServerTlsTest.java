package io.neurondb.tests.pooling;

import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.tests.support.PluginJars;
import io.neurondb.tests.support.ProxyUnderTest;
import io.neurondb.tests.support.SelfSignedCertificate;
import io.neurondb.tests.support.TestPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The pool's server connections use the foundation's upstream_tls settings: against a server
 * whose pg_hba.conf refuses every unencrypted TCP connection, a transaction-mode pool logs in
 * and runs its clients' queries over TLS (verify-full and require), and with TLS off the pool's
 * login is refused, so the clients get an error instead of a silent plain connection.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class PooledServerTlsTest {

    private LocalPostgres pg;
    private Path dir;
    private SelfSignedCertificate cert;

    @BeforeAll
    void start() throws Exception {
        dir = Files.createTempDirectory("neurondb-test-pool-tls-");
        dir.toFile().setExecutable(true, false);
        cert = SelfSignedCertificate.create(dir.resolve("cert")).ownedByPostgres();
        dir.resolve("cert").toFile().setExecutable(true, false);
        pg = LocalPostgres.builder(dir.resolve("data"))
                .superuserPassword(TestPostgres.SUPERUSER_PASSWORD)
                // Checked before the default "host all all" rule: no unencrypted TCP login at all.
                .hba("hostnossl all all 127.0.0.1/32 reject")
                .setting("ssl=on")
                .setting("ssl_cert_file=" + cert.certFile())
                .setting("ssl_key_file=" + cert.keyFile())
                .build().start();
        try (Connection c = superuser(); Statement s = c.createStatement()) {
            s.execute("SET password_encryption = 'scram-sha-256'");
            s.execute("CREATE ROLE scram_user LOGIN PASSWORD 'scrampass'");
        }
    }

    @AfterAll
    void stop() {
        if (pg != null) {
            pg.destroy();
        }
        LocalPostgres.deleteTree(dir);
    }

    private Connection superuser() throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", TestPostgres.SUPERUSER);
        p.setProperty("password", TestPostgres.SUPERUSER_PASSWORD);
        p.setProperty("sslmode", "require");
        return DriverManager.getConnection(pg.jdbcUrl("postgres"), p);
    }

    private ProxyUnderTest pooled(String upstreamTls) {
        String yaml = upstreamTls + "plugins:\n  pooling:\n    enabled: true\n    auth_file: " + PooledProxy.authFile() + "\n    admin_users: [postgres]\n"
                + "    auth_type: scram-sha-256\n    pool_mode: transaction\n    default_pool_size: 2\n    server_connect_timeout: 10\n";
        return ProxyUnderTest.start(pg.port(), yaml, List.of(), PluginJars.directoryWith("pooling"));
    }

    @Test
    void aPlainConnectionIsRefusedByTheServer() {
        Properties p = new Properties();
        p.setProperty("user", "scram_user");
        p.setProperty("password", "scrampass");
        p.setProperty("sslmode", "disable");
        assertThatThrownBy(() -> DriverManager.getConnection(pg.jdbcUrl("postgres"), p).close())
                .isInstanceOf(SQLException.class).hasMessageContaining("no encryption");
    }

    @Test
    void verifyFullPoolRunsEveryTransactionOnAnEncryptedServerConnection() throws Exception {
        runsEncrypted("upstream_tls:\n  mode: verify-full\n  ca_file: " + cert.certFile() + "\n");
    }

    @Test
    void requirePoolRunsEveryTransactionOnAnEncryptedServerConnection() throws Exception {
        runsEncrypted("upstream_tls:\n  mode: require\n");
    }

    private void runsEncrypted(String upstreamTls) throws Exception {
        try (ProxyUnderTest proxy = pooled(upstreamTls);
             Connection a = PooledProxy.connect(proxy, "postgres", "scram_user", "scrampass", new Properties());
             Connection b = PooledProxy.connect(proxy, "postgres", "scram_user", "scrampass", new Properties())) {
            Set<Integer> pids = new HashSet<>();
            for (int i = 0; i < 5; i++) {
                for (Connection c : List.of(a, b)) {
                    try (Statement s = c.createStatement();
                         ResultSet r = s.executeQuery("SELECT ssl, version, pg_backend_pid() FROM pg_stat_ssl WHERE pid = pg_backend_pid()")) {
                        assertThat(r.next()).isTrue();
                        assertThat(r.getBoolean(1)).as("server connection encrypted").isTrue();
                        assertThat(r.getString(2)).startsWith("TLS");
                        pids.add(r.getInt(3));
                    }
                }
            }
            // An explicit transaction as well, on whichever server connection it gets.
            a.setAutoCommit(false);
            try (Statement s = a.createStatement(); ResultSet r = s.executeQuery("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")) {
                assertThat(r.next()).isTrue();
                assertThat(r.getBoolean(1)).isTrue();
            }
            a.commit();
            assertThat(pids).isNotEmpty();
            // Seen from the server: every backend of the pool's role is on TLS.
            try (Connection c = superuser(); Statement s = c.createStatement();
                 ResultSet r = s.executeQuery("SELECT count(*), count(*) FILTER (WHERE l.ssl) FROM pg_stat_activity a JOIN pg_stat_ssl l USING (pid) "
                         + "WHERE a.usename = 'scram_user' AND a.backend_type = 'client backend'")) {
                r.next();
                assertThat(r.getInt(1)).isPositive();
                assertThat(r.getInt(2)).isEqualTo(r.getInt(1));
            }
        }
    }

    @Test
    void withTlsOffThePoolCannotLogInAndTheClientIsToldWhy() {
        try (ProxyUnderTest proxy = pooled("upstream_tls:\n  mode: disable\n")) {
            assertThatThrownBy(() -> {
                try (Connection c = PooledProxy.connect(proxy, "postgres", "scram_user", "scrampass", new Properties());
                     Statement s = c.createStatement()) {
                    s.executeQuery("SELECT 1").close();
                }
            }).isInstanceOf(SQLException.class).hasMessageContaining("no encryption");
        }
    }
}
