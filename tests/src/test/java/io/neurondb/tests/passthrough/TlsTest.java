package io.neurondb.tests.passthrough;

import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.tests.support.ProxyUnderTest;
import io.neurondb.tests.support.SelfSignedCertificate;
import io.neurondb.tests.support.TestPostgres;
import io.neurondb.tests.support.Tool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.postgresql.util.PSQLException;

import java.io.DataInputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** TLS between client and proxy, and between proxy and server, separately configured. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TlsTest {

    private LocalPostgres pg;
    private ProxyUnderTest proxy;
    private java.nio.file.Path certDir;

    @BeforeAll
    void start() throws Exception {
        pg = TestPostgres.shared();
        certDir = Files.createTempDirectory("neurondb-test-proxy-tls-");
        SelfSignedCertificate cert = SelfSignedCertificate.create(certDir);
        proxy = ProxyUnderTest.start(pg.port(), "tls:\n  cert_file: " + cert.certFile() + "\n  key_file: " + cert.keyFile()
                + "\nupstream_tls:\n  mode: require\n", List.of());
    }

    @AfterAll
    void stop() {
        proxy.close();
        LocalPostgres.deleteTree(certDir);
    }

    @Test
    void clientTlsAndServerTls() throws Exception {
        Properties p = new Properties();
        p.setProperty("sslmode", "require");
        for (String[] login : new String[][]{{"md5_user", "md5pass"}, {"trust_user", null}}) {
            try (Connection c = proxy.connect(login[0], login[1], p); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getBoolean(1)).as("proxy to server is encrypted").isTrue();
            }
        }
        // SCRAM works over TLS on both legs once the client does not try channel binding.
        p.setProperty("channelBinding", "disable");
        try (Connection c = proxy.connect("scram_user", "scrampass", p)) {
            assertThat(c.isValid(5)).isTrue();
        }
    }

    @Test
    void scramChannelBindingAcrossTheProxyFailsWithAHint() {
        Properties p = new Properties();
        p.setProperty("sslmode", "require");
        p.setProperty("channelBinding", "prefer");
        assertThatThrownBy(() -> proxy.connect("scram_user", "scrampass", p))
                .isInstanceOf(PSQLException.class)
                .satisfies(e -> assertThat(((PSQLException) e).getServerErrorMessage().getHint())
                        .contains("channel_binding=disable"));
    }

    @Test
    void verifyFullAcceptsTheRightCaAndRefusesAnother() throws Exception {
        String verify = "upstream_tls:\n  mode: verify-full\n  ca_file: ";
        try (ProxyUnderTest verified = ProxyUnderTest.start(pg.port(), verify + TestPostgres.sharedServerCertificate() + "\n", List.of());
             Connection c = verified.connect("md5_user", "md5pass");
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getBoolean(1)).isTrue();
        }
        java.nio.file.Path otherDir = Files.createTempDirectory("neurondb-test-other-ca-");
        try {
            SelfSignedCertificate other = SelfSignedCertificate.create(otherDir);
            try (ProxyUnderTest wrongCa = ProxyUnderTest.start(pg.port(), verify + other.certFile() + "\n", List.of())) {
                assertThatThrownBy(() -> wrongCa.connect("md5_user", "md5pass"))
                        .isInstanceOf(PSQLException.class)
                        .satisfies(e -> {
                            assertThat(((PSQLException) e).getSQLState()).isEqualTo("08001");
                            assertThat(e.getMessage()).contains("TLS handshake with server failed");
                        });
            }
        } finally {
            LocalPostgres.deleteTree(otherDir);
        }
    }

    @Test
    void psqlSeesAnEncryptedConnection() throws Exception {
        Map<String, String> env = Map.of("PGPASSWORD", "md5pass", "PGSSLMODE", "require", "PGCONNECT_TIMEOUT", "10");
        Tool.Result r = Tool.run(pg.binDir(), "psql", env, null, List.of("-X", "-h", "127.0.0.1", "-p",
                String.valueOf(proxy.port()), "-U", "md5_user", "-d", "postgres", "-c", "\\conninfo", "-c", "SELECT 40 + 2"));
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).contains("SSL connection (protocol: TLS").contains("42");
    }

    @Test
    void plaintextClientsStillWork() throws Exception {
        Properties p = new Properties();
        p.setProperty("sslmode", "disable");
        try (Connection c = proxy.connect("md5_user", "md5pass", p); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT 1")) {
            assertThat(rs.next()).isTrue();
        }
    }

    @Test
    void bytesSentBeforeTheHandshakeAreRefused() throws Exception {
        try (Socket s = new Socket("127.0.0.1", proxy.port())) {
            s.setSoTimeout(5000);
            // SSLRequest and, in the same packet, a plaintext startup message (CVE-2021-23214).
            ByteBuffer b = ByteBuffer.allocate(8 + 9).putInt(8).putInt(80877103).putInt(9).putInt(3 << 16).put((byte) 0);
            s.getOutputStream().write(b.array());
            DataInputStream in = new DataInputStream(s.getInputStream());
            assertThat((char) in.readUnsignedByte()).isEqualTo('E');
            byte[] body = in.readNBytes(in.readInt() - 4);
            assertThat(new String(body)).contains("08P01").contains("unencrypted data after SSL request");
        }
    }

    /** The proxy's own connections (catalog, index builds) follow upstream_tls like the relayed ones. */
    @Test
    void theProxysOwnConnectionsUseTlsToo() throws Exception {
        try (Connection admin = TestPostgres.superuser(pg); Statement a = admin.createStatement()) {
            a.execute("DROP DATABASE IF EXISTS tls_vectors");
            a.execute("CREATE DATABASE tls_vectors");
        }
        Properties p = new Properties();
        p.setProperty("user", TestPostgres.SUPERUSER);
        p.setProperty("password", TestPostgres.SUPERUSER_PASSWORD);
        p.setProperty("sslmode", "require");
        p.setProperty("channelBinding", "disable"); // SCRAM binding cannot cross a proxy (see clientTlsAndServerTls)
        try (Connection c = java.sql.DriverManager.getConnection(proxy.jdbcUrl("tls_vectors"), p); Statement s = c.createStatement()) {
            s.execute("CREATE EXTENSION vector");
            s.execute("CREATE TABLE t (id int PRIMARY KEY, e vector(2))");
            s.execute("INSERT INTO t VALUES (1, '[0,1]'), (2, '[1,0]')");
            s.execute("CREATE INDEX ON t USING hnsw (e vector_l2_ops)");
            try (ResultSet rs = s.executeQuery("SELECT state FROM neurondb.index_stats()")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("ready");
            }
        }
        try (Connection admin = TestPostgres.superuser(pg); Statement a = admin.createStatement();
             ResultSet rs = a.executeQuery("SELECT count(*) FILTER (WHERE s.ssl), count(*) FROM pg_stat_activity act "
                     + "JOIN pg_stat_ssl s ON s.pid = act.pid WHERE act.application_name = 'neurondb-proxy' AND act.datname = 'tls_vectors'")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(2)).as("the proxy's own connections to the database").isPositive();
            assertThat(rs.getInt(1)).as("of them over TLS").isEqualTo(rs.getInt(2));
        }
    }
}
