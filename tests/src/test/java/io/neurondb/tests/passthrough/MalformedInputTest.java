package io.neurondb.tests.passthrough;

import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.tests.support.ProxyUnderTest;
import io.neurondb.tests.support.RawPg;
import io.neurondb.tests.support.TestPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.postgresql.util.PSQLException;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Garbage, truncated and oversized messages over a raw socket: the offender gets an
 * ErrorResponse with a SQLSTATE where the protocol allows one and is disconnected; the server
 * connection is not leaked, and a client already connected keeps working throughout.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class MalformedInputTest {

    private LocalPostgres pg;
    private ProxyUnderTest proxy;
    private Connection bystander;

    @BeforeAll
    void start() throws Exception {
        pg = TestPostgres.shared();
        proxy = ProxyUnderTest.start(pg.port(), "limits:\n  max_message_bytes: 65536\n", List.of());
        bystander = proxy.connect();
    }

    @AfterAll
    void stop() throws Exception {
        bystander.close();
        proxy.close();
    }

    @Test
    void garbageInsteadOfAStartupPacket() throws Exception {
        Map<Character, String> err = exchange(new byte[]{0x7f, 0x00, 0x00, 0x00, 'h', 'e', 'l', 'l', 'o'});
        assertThat(err.get('C')).isEqualTo("08P01");
        assertThat(err.get('M')).contains("invalid length of startup packet");
        assertBystanderWorks();
    }

    @Test
    void unsupportedProtocolVersion() throws Exception {
        Map<Character, String> err = exchange(RawPg.startupPacket(4 << 16, Map.of("user", "x")));
        assertThat(err.get('C')).isEqualTo("0A000");
        assertThat(err.get('M')).contains("unsupported frontend protocol 4.0");
    }

    @Test
    void startupWithoutUser() throws Exception {
        Map<Character, String> err = exchange(RawPg.startupPacket(Map.of("database", "postgres")));
        assertThat(err.get('C')).isEqualTo("28000");
        assertThat(err.get('M')).isEqualTo("no PostgreSQL user name specified in startup packet");
    }

    @Test
    void unknownMessageTypeAfterLogin() throws Exception {
        int before = serverConnections();
        try (Socket s = loggedIn()) {
            s.getOutputStream().write(new byte[]{'!', 0, 0, 0, 4});
            Map<Character, String> err = RawPg.readUntilError(s.getInputStream());
            assertThat(err.get('C')).isEqualTo("08P01");
            assertThat(err.get('M')).contains("invalid frontend message type '!'");
            assertClosed(s);
        }
        awaitServerConnections(before);
        assertBystanderWorks();
    }

    @Test
    void lengthBelowFour() throws Exception {
        try (Socket s = loggedIn()) {
            s.getOutputStream().write(new byte[]{'Q', 0, 0, 0, 2});
            Map<Character, String> err = RawPg.readUntilError(s.getInputStream());
            assertThat(err.get('C')).isEqualTo("08P01");
            assertThat(err.get('M')).contains("invalid message length 2");
            assertClosed(s);
        }
    }

    @Test
    void oversizedMessageIsRefusedBeforeItsBodyArrives() throws Exception {
        int before = serverConnections();
        try (Socket s = loggedIn()) {
            // Announce a 100 MB query but send only the header: the proxy must not wait for it.
            s.getOutputStream().write(ByteBuffer.allocate(5).put((byte) 'Q').putInt(100 << 20).array());
            Map<Character, String> err = RawPg.readUntilError(s.getInputStream());
            assertThat(err.get('C')).isEqualTo("54000");
            assertThat(err.get('M')).contains("over the limit of 65536");
            assertClosed(s);
        }
        awaitServerConnections(before);
    }

    @Test
    void truncatedMessageThenHangUpLeaksNothing() throws Exception {
        int before = serverConnections();
        try (Socket s = loggedIn()) {
            s.getOutputStream().write(new byte[]{'Q', 0, 0, 0, 50, 'S', 'E', 'L'});
            s.getOutputStream().flush();
        }
        awaitServerConnections(before);
        assertBystanderWorks();
    }

    @Test
    void randomGarbageNeverHurtsOtherClients() throws Exception {
        Random random = new Random(42);
        int before = serverConnections();
        for (int i = 0; i < 30; i++) {
            byte[] junk = new byte[1 + random.nextInt(300)];
            random.nextBytes(junk);
            boolean afterLogin = i % 2 == 0;
            try (Socket s = afterLogin ? loggedIn() : raw()) {
                s.setSoTimeout(5000);
                s.getOutputStream().write(junk);
                s.getOutputStream().flush();
                s.shutdownOutput();
                drain(s.getInputStream());
            } catch (SocketException e) {
                // a reset is an acceptable way to be thrown out
            }
        }
        awaitServerConnections(before);
        assertBystanderWorks();
    }

    @Test
    void clientThatNeverLogsInIsDisconnected() throws Exception {
        try (ProxyUnderTest strict = ProxyUnderTest.start(pg.port(), "client_login_timeout: 1\n", List.of());
             Socket s = new Socket("127.0.0.1", strict.port())) {
            s.setSoTimeout(10_000);
            long t0 = System.nanoTime();
            // Half a startup packet, then silence.
            s.getOutputStream().write(new byte[]{0, 0, 0, 40, 0, 3});
            Map<Character, String> err = RawPg.readUntilError(s.getInputStream());
            assertThat(err.get('M')).contains("client_login_timeout");
            assertClosed(s);
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isBetween(900L, 5000L);
        }
    }

    @Test
    void unreachableUpstreamFailsFastWith08001() throws Exception {
        int closedPort = LocalPostgres.freePort();
        try (ProxyUnderTest dead = ProxyUnderTest.start(closedPort, "", List.of())) {
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> java.sql.DriverManager.getConnection(dead.jdbcUrl("postgres"), "postgres", "postgres"))
                    .isInstanceOf(PSQLException.class)
                    .satisfies(e -> {
                        assertThat(((PSQLException) e).getSQLState()).isEqualTo("08001");
                        assertThat(e.getMessage()).contains("could not connect to upstream server");
                    });
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isLessThan(5000);
        }
    }

    @Test
    void sslAndGssRequestsAreDeclinedWhenTlsIsOff() throws Exception {
        for (int code : new int[]{80877103, 80877104}) {
            try (Socket s = raw()) {
                s.getOutputStream().write(ByteBuffer.allocate(8).putInt(8).putInt(code).array());
                assertThat(s.getInputStream().read()).isEqualTo('N');
                // The connection goes on unencrypted: a normal startup still works.
                s.getOutputStream().write(RawPg.startupPacket(Map.of("user", "trust_user", "database", "postgres")));
                assertThat(RawPg.readTypesUntilReady(s.getInputStream())).contains('R', 'K', 'Z');
            }
        }
    }

    // ---- helpers ----

    private Socket raw() throws IOException {
        Socket s = new Socket("127.0.0.1", proxy.port());
        s.setSoTimeout(10_000);
        return s;
    }

    /** A raw connection logged in as trust_user (no password exchange needed). */
    private Socket loggedIn() throws IOException {
        Socket s = raw();
        s.getOutputStream().write(RawPg.startupPacket(Map.of("user", "trust_user", "database", "postgres")));
        assertThat(RawPg.readTypesUntilReady(s.getInputStream())).contains('Z');
        return s;
    }

    private Map<Character, String> exchange(byte[] bytes) throws IOException {
        try (Socket s = raw()) {
            s.getOutputStream().write(bytes);
            Map<Character, String> err = RawPg.readUntilError(s.getInputStream());
            assertClosed(s);
            return err;
        }
    }

    private static void assertClosed(Socket s) throws IOException {
        try {
            assertThat(s.getInputStream().read()).isEqualTo(-1);
        } catch (SocketException e) {
            // reset: closed too
        }
    }

    private static void drain(InputStream in) throws IOException {
        try {
            in.readAllBytes();
        } catch (EOFException | SocketException e) {
            // closed
        }
    }

    private void assertBystanderWorks() throws Exception {
        try (Statement st = bystander.createStatement(); ResultSet rs = st.executeQuery("SELECT 'still here'")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualTo("still here");
        }
    }

    /** Backends of our test roles, seen from a direct connection. */
    private int serverConnections() throws Exception {
        try (Connection c = TestPostgres.superuser(pg); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE usename = 'trust_user'")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private void awaitServerConnections(int expected) throws Exception {
        int now = -1;
        for (int i = 0; i < 100; i++) {
            now = serverConnections();
            if (now == expected) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("server connections of trust_user: expected " + expected + ", still " + now);
    }
}
