package io.neurondb.tests.pooling;

import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.tests.support.ProxyUnderTest;
import io.neurondb.tests.support.TestPostgres;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static io.neurondb.tests.pooling.PooledProxy.await;
import static io.neurondb.tests.pooling.PooledProxy.backendAlive;
import static io.neurondb.tests.pooling.PooledProxy.backendPid;
import static io.neurondb.tests.pooling.PooledProxy.serverPids;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * When server connections are closed, checked or replaced, and what clients that idle or vanish
 * leave behind: server_lifetime, server_idle_timeout, server_check_query/server_check_delay,
 * server_reset_query between session clients, client_idle_timeout, a client gone mid-result.
 * Backends are identified by pid on the real server.
 */
class ServerConnectionLifecycleTest {

    private static LocalPostgres pg;

    @BeforeAll
    static void start() {
        pg = TestPostgres.shared();
    }

    private static ProxyUnderTest proxy(String mode, String settings) {
        return proxy("scram-sha-256", mode, settings);
    }

    private static ProxyUnderTest proxy(String authType, String mode, String settings) {
        return PooledProxy.start(pg, "    auth_type: " + authType + "\n    pool_mode: " + mode + "\n    query_wait_timeout: 60\n" + settings);
    }

    private static Connection scram(ProxyUnderTest proxy) throws SQLException {
        return PooledProxy.connect(proxy, "postgres", "scram_user", "scrampass", new Properties());
    }

    private static void awaitNoServerConnections() throws Exception {
        await("no scram_user server connections left from earlier tests", () -> serverPids(pg, "scram_user").isEmpty());
    }

    @Test
    void serverLifetimeReplacesConnectionsButNotInTheMiddleOfATransaction() throws Exception {
        awaitNoServerConnections();
        try (ProxyUnderTest proxy = proxy("transaction", "    default_pool_size: 1\n    server_lifetime: 1\n    server_check_query: ''\n");
             Connection c = scram(proxy)) {
            c.setAutoCommit(false);
            int first = backendPid(c);
            Thread.sleep(2000); // past server_lifetime, inside one transaction
            assertThat(backendPid(c)).as("a lent connection is not closed mid-transaction").isEqualTo(first);
            c.commit();
            c.setAutoCommit(true);
            await("the old connection closed", () -> !backendAlive(pg, first));
            int second = backendPid(c);
            assertThat(second).isNotEqualTo(first);
            assertThat(serverPids(pg, "scram_user")).containsExactly(second);
        }
    }

    @Test
    void serverIdleTimeoutClosesIdleConnectionsWhileClientsStay() throws Exception {
        awaitNoServerConnections();
        try (ProxyUnderTest proxy = proxy("transaction", "    default_pool_size: 2\n    server_idle_timeout: 1\n"); Connection c = scram(proxy)) {
            int first = backendPid(c);
            await("the idle server connection closed", () -> serverPids(pg, "scram_user").isEmpty());
            assertThat(backendAlive(pg, first)).isFalse();
            int next = backendPid(c);
            assertThat(next).as("the client, still connected, gets a new server connection").isNotEqualTo(first);
        }
    }

    /** server_check_query runs on connections idle longer than server_check_delay; one that fails it is closed and the client gets another. */
    @Test
    void serverCheckQueryRunsAfterTheDelayAndABadConnectionIsReplaced() throws Exception {
        awaitNoServerConnections();
        try (Connection su = TestPostgres.superuser(pg); Statement s = su.createStatement()) {
            s.execute("DROP TABLE IF EXISTS pool_check_log, pool_bad_backends");
            s.execute("CREATE TABLE pool_check_log (pid int, at timestamptz DEFAULT clock_timestamp())");
            s.execute("CREATE TABLE pool_bad_backends (pid int)");
            s.execute("GRANT ALL ON pool_check_log, pool_bad_backends TO scram_user");
            s.execute("""
                    CREATE OR REPLACE FUNCTION pool_check() RETURNS int LANGUAGE plpgsql AS $$
                    BEGIN
                      INSERT INTO pool_check_log (pid) VALUES (pg_backend_pid());
                      IF EXISTS (SELECT 1 FROM pool_bad_backends WHERE pid = pg_backend_pid()) THEN
                        RAISE EXCEPTION 'backend % is marked bad', pg_backend_pid();
                      END IF;
                      RETURN 1;
                    END $$""");
        }
        try (ProxyUnderTest proxy = proxy("transaction", "    default_pool_size: 2\n    server_check_query: SELECT pool_check()\n    server_check_delay: 3\n");
             Connection c = scram(proxy); Connection su = TestPostgres.superuser(pg); Statement s = su.createStatement()) {
            int first = backendPid(c);
            assertThat(backendPid(c)).isEqualTo(first);
            assertThat(checks(s, first)).as("reused within server_check_delay: no check").isZero();
            Thread.sleep(3500); // idle longer than server_check_delay
            assertThat(backendPid(c)).isEqualTo(first);
            assertThat(checks(s, first)).as("idle past server_check_delay: checked once before it was lent").isEqualTo(1);
            s.execute("INSERT INTO pool_bad_backends VALUES (" + first + ")");
            Thread.sleep(3500); // idle longer than server_check_delay again
            int replacement = backendPid(c);
            assertThat(replacement).as("the connection failing its check is not lent").isNotEqualTo(first);
            // (The failed check's own log row is rolled back with it.)
            assertThat(checks(s, first)).isEqualTo(1);
            await("the connection that failed its check closed", () -> !backendAlive(pg, first));
        } finally {
            try (Connection su = TestPostgres.superuser(pg); Statement s = su.createStatement()) {
                s.execute("DROP TABLE IF EXISTS pool_check_log, pool_bad_backends");
                s.execute("DROP FUNCTION IF EXISTS pool_check()");
            }
        }
    }

    /** An empty server_check_query turns checks off even with server_check_delay 0. */
    @Test
    void emptyServerCheckQueryDisablesChecks() throws Exception {
        awaitNoServerConnections();
        try (Connection su = TestPostgres.superuser(pg); Statement s = su.createStatement()) {
            s.execute("DROP TABLE IF EXISTS pool_check_log");
            s.execute("CREATE TABLE pool_check_log (pid int)");
            s.execute("GRANT ALL ON pool_check_log TO scram_user");
        }
        try (ProxyUnderTest checking = proxy("transaction", "    server_check_query: INSERT INTO pool_check_log VALUES (pg_backend_pid())\n    server_check_delay: 0\n");
             Connection c = scram(checking)) {
            backendPid(c);
            backendPid(c);
            assertThat(checkLogRows()).as("delay 0: checked before each lending after the first").isGreaterThanOrEqualTo(1);
        }
        awaitNoServerConnections();
        try (Connection su = TestPostgres.superuser(pg); Statement s = su.createStatement()) {
            s.execute("TRUNCATE pool_check_log");
        }
        try (ProxyUnderTest off = proxy("transaction", "    server_check_query: ''\n    server_check_delay: 0\n"); Connection c = scram(off)) {
            backendPid(c);
            backendPid(c);
            backendPid(c);
            assertThat(checkLogRows()).isZero();
        } finally {
            try (Connection su = TestPostgres.superuser(pg); Statement s = su.createStatement()) {
                s.execute("DROP TABLE IF EXISTS pool_check_log");
            }
        }
    }

    private static int checkLogRows() throws SQLException {
        try (Connection su = TestPostgres.superuser(pg); Statement s = su.createStatement();
             ResultSet r = s.executeQuery("SELECT count(*) FROM pool_check_log")) {
            r.next();
            return r.getInt(1);
        }
    }

    private static int checks(Statement s, int pid) throws SQLException {
        try (ResultSet r = s.executeQuery("SELECT count(*) FROM pool_check_log WHERE pid = " + pid)) {
            r.next();
            return r.getInt(1);
        }
    }

    /** Session mode: server_reset_query runs when a client leaves, and the next client gets the same, clean connection. */
    @Test
    void sessionModeResetsTheConnectionBetweenClients() throws Exception {
        awaitNoServerConnections();
        try (ProxyUnderTest proxy = proxy("session", "    default_pool_size: 1\n")) {
            int pid;
            try (Connection first = scram(proxy); Statement s = first.createStatement()) {
                pid = backendPid(first);
                s.execute("SET search_path TO pg_catalog");
                s.execute("CREATE TEMP TABLE left_behind (v int)");
            }
            for (int i = 0; i < 3; i++) {
                try (Connection next = scram(proxy); Statement s = next.createStatement()) {
                    assertThat(backendPid(next)).as("the one server connection is reused").isEqualTo(pid);
                    try (ResultSet r = s.executeQuery("SHOW search_path")) {
                        r.next();
                        assertThat(r.getString(1)).isEqualTo("\"$user\", public");
                    }
                    try (ResultSet r = s.executeQuery("SELECT count(*) FROM pg_class WHERE relname = 'left_behind'")) {
                        r.next();
                        assertThat(r.getInt(1)).as("DISCARD ALL dropped the temp table").isZero();
                    }
                }
            }
        }
    }

    @Test
    void clientIdleTimeoutClosesIdleClientsOnly() throws Exception {
        try (ProxyUnderTest proxy = proxy("transaction", "    client_idle_timeout: 1\n"); Connection idle = scram(proxy);
             Connection busy = scram(proxy)) {
            long end = System.nanoTime() + 3_000_000_000L;
            while (System.nanoTime() < end) {
                assertThat(backendPid(busy)).isPositive(); // never idle for a second
                Thread.sleep(200);
            }
            assertThatThrownBy(() -> backendPid(idle)).isInstanceOf(SQLException.class);
            assertThat(backendPid(busy)).isPositive();
        }
    }

    /**
     * A client that sends a query with a large result and disappears after a few bytes: the
     * server connection, mid-result, is closed rather than lent to the next client, which gets
     * exactly its own answer.
     */
    @Test
    void clientVanishingMidResultDoesNotPassLeftoversToTheNextClient() throws Exception {
        awaitNoServerConnections();
        try (ProxyUnderTest proxy = proxy("md5", "transaction", "    default_pool_size: 1\n    server_check_query: ''\n");
             Connection other = scram(proxy)) {
            int before = backendPid(other);
            try (Socket raw = new Socket("127.0.0.1", proxy.port())) {
                raw.setSoTimeout(30_000);
                OutputStream out = raw.getOutputStream();
                InputStream in = raw.getInputStream();
                md5Login(out, in, "scram_user", "scrampass");
                out.write(query("SELECT repeat('x', 1000) FROM generate_series(1, 200000)"));
                out.flush();
                in.readNBytes(10_000); // part of the result, then the client is gone
                raw.setSoLinger(true, 0); // a reset, as a crashed client leaves it
            }
            await("the server connection left mid-result closed", () -> !backendAlive(pg, before));
            for (int i = 0; i < 5; i++) {
                try (Statement s = other.createStatement(); ResultSet r = s.executeQuery("SELECT 'mine', " + i)) {
                    assertThat(r.next()).isTrue();
                    assertThat(r.getString(1)).isEqualTo("mine");
                    assertThat(r.getInt(2)).isEqualTo(i);
                    assertThat(r.next()).isFalse();
                }
            }
            List<Integer> pids = serverPids(pg, "scram_user");
            assertThat(pids).hasSize(1).doesNotContain(before);
        }
    }

    private static byte[] query(String sql) {
        byte[] body = (sql + "\0").getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(5 + body.length).put((byte) 'Q').putInt(4 + body.length).put(body).array();
    }

    /** Logs in answering the md5 challenge the pooler sends with auth_type md5 and a plain secret in the auth file. */
    private static void md5Login(OutputStream out, InputStream in, String user, String password) throws Exception {
        out.write(io.neurondb.tests.support.RawPg.startupPacket(Map.of("user", user, "database", "postgres")));
        out.flush();
        DataInputStream d = new DataInputStream(in);
        while (true) {
            char type = (char) d.readUnsignedByte();
            int len = d.readInt();
            byte[] body = d.readNBytes(len - 4);
            if (type == 'R') {
                int code = ByteBuffer.wrap(body).getInt();
                if (code == 5) {
                    byte[] salt = java.util.Arrays.copyOfRange(body, 4, 8);
                    String inner = hex(md5((password + user).getBytes(StandardCharsets.UTF_8)));
                    byte[] saltedInput = concat(inner.getBytes(StandardCharsets.US_ASCII), salt);
                    String answer = "md5" + hex(md5(saltedInput));
                    byte[] pw = (answer + "\0").getBytes(StandardCharsets.US_ASCII);
                    out.write(ByteBuffer.allocate(5 + pw.length).put((byte) 'p').putInt(4 + pw.length).put(pw).array());
                    out.flush();
                } else if (code != 0) {
                    throw new AssertionError("unexpected authentication request " + code);
                }
            } else if (type == 'E') {
                throw new AssertionError("login failed: " + new String(body, StandardCharsets.UTF_8));
            } else if (type == 'Z') {
                return;
            }
        }
    }

    private static byte[] md5(byte[] b) throws Exception {
        return MessageDigest.getInstance("MD5").digest(b);
    }

    private static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
