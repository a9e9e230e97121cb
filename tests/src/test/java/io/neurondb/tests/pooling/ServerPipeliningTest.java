package io.neurondb.tests.pooling;

import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.tests.support.ProxyUnderTest;
import io.neurondb.tests.support.TestPostgres;
import io.neurondb.tests.support.Tool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * server_pipelining: when clients queue for a busy pool, a waiting client's work is written to
 * a server connection behind another client's autocommit statement. Every client must still
 * get exactly its own replies, nobody's statement may run inside another's transaction, a
 * client that leaves mid-reply must not take the next one's work with it, and a cancel must
 * reach only its own statement. One event loop, so the waiting clients and the connection
 * share it (the pool lends behind only on the connection's own loop).
 */
class ServerPipeliningTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static LocalPostgres pg;
    private static ProxyUnderTest proxy;
    private static int metricsPort;
    private static final ExecutorService THREADS = Executors.newCachedThreadPool();

    @BeforeAll
    static void start() throws SQLException {
        pg = TestPostgres.shared();
        try (Connection c = TestPostgres.superuser(pg); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS pipelining_marker (v int)");
            s.execute("TRUNCATE pipelining_marker");
        }
        metricsPort = LocalPostgres.freePort();
        proxy = PooledProxy.start(pg, "    auth_type: trust\n    pool_mode: transaction\n    default_pool_size: 1\n    server_pipelining: on\n"
                + "    query_wait_timeout: 60\n    server_check_query: ''\n    max_client_conn: 200\n",
                "event_loops: 1\nmetrics_port: " + metricsPort + "\n", "metrics");
    }

    @AfterAll
    static void stop() {
        THREADS.shutdownNow();
        if (proxy != null) {
            proxy.close();
        }
    }

    private static Connection client(String queryMode) throws SQLException {
        Properties p = new Properties();
        p.setProperty("preferQueryMode", queryMode);
        p.setProperty("prepareThreshold", "1");
        return PooledProxy.connect(proxy, "postgres", "postgres", "", p);
    }

    private static double pipelined() throws Exception {
        return pipelined("postgres");
    }

    /** The pool's count of clients lent behind another's statement, from /metrics. */
    private static double pipelined(String database) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/metrics"))
                .timeout(Duration.ofSeconds(20)).GET().build(), HttpResponse.BodyHandlers.ofString());
        Matcher m = Pattern.compile("^neurondb_stats_server_pipelined_total\\{[^}]*database=\"" + database + "\"[^}]*\\}\\s+(\\S+)", Pattern.MULTILINE)
                .matcher(r.body());
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    private static int waiting() throws Exception {
        try (Connection console = PooledProxy.console(proxy)) {
            return Integer.parseInt(PooledProxy.poolRow(console, "postgres", "postgres").get("cl_waiting"));
        }
    }

    private static void awaitWaiting(int count) throws Exception {
        PooledProxy.await(count + " clients waiting", () -> waiting() == count);
    }

    /** What a test reads from the first row of a result. */
    private interface Row<T> {
        T read(ResultSet r) throws SQLException;
    }

    /** Runs {@code sql} on {@code s} on another thread (the client then waits in the pool): the first row, read by {@code row}. */
    private static <T> CompletableFuture<T> inBackground(Statement s, String sql, Row<T> row) {
        return CompletableFuture.supplyAsync(() -> {
            try (ResultSet r = s.executeQuery(sql)) {
                r.next();
                return row.read(r);
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        }, THREADS);
    }

    private static int pid(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT pg_backend_pid()")) {
            r.next();
            return r.getInt(1);
        }
    }

    @Test
    void queuedClientsEachGetTheirOwnAnswersAndNeverRunInsideAnotherTransaction() throws Exception {
        double before = pipelined();
        List<Future<Integer>> runs = new ArrayList<>();
        for (int t = 0; t < 12; t++) {
            String mode = t % 3 == 0 ? "simple" : t % 3 == 1 ? "extended" : "extendedForPrepared";
            int base = t * 1_000_000;
            runs.add(THREADS.submit(() -> {
                int checked = 0;
                try (Connection c = client(mode);
                     PreparedStatement ps = c.prepareStatement("SELECT ?::int * 2, pg_current_xact_id_if_assigned() IS NULL")) {
                    for (int i = 0; i < 300; i++) {
                        ps.setInt(1, base + i);
                        try (ResultSet r = ps.executeQuery()) {
                            assertThat(r.next()).isTrue();
                            assertThat(r.getInt(1)).as("%s: own answer", mode).isEqualTo((base + i) * 2);
                            // The transactions below write at once: inside one, an id would be assigned.
                            assertThat(r.getBoolean(2)).as("%s: not inside another client's transaction", mode).isTrue();
                            assertThat(r.next()).isFalse();
                            checked++;
                        }
                    }
                }
                return checked;
            }));
        }
        // Meanwhile one client runs transactions, which nothing may be lent behind.
        Future<Integer> transactions = THREADS.submit(() -> {
            try (Connection c = client("extended")) {
                c.setAutoCommit(false);
                for (int i = 0; i < 40; i++) {
                    try (Statement s = c.createStatement()) {
                        s.execute("INSERT INTO pipelining_marker VALUES (" + i + ")");
                        s.execute("SELECT pg_sleep(0.002)");
                    }
                    c.commit();
                }
            }
            return 40;
        });
        try {
            for (Future<Integer> run : runs) {
                assertThat(run.get(120, TimeUnit.SECONDS)).isEqualTo(300);
            }
            assertThat(transactions.get(120, TimeUnit.SECONDS)).isEqualTo(40);
        } finally {
            runs.forEach(r -> r.cancel(true)); // a failed run leaves no client queued for the other tests
            transactions.cancel(true);
        }
        try (Connection c = TestPostgres.superuser(pg); Statement s = c.createStatement();
             ResultSet r = s.executeQuery("SELECT count(*) FROM pipelining_marker")) {
            r.next();
            assertThat(r.getInt(1)).isEqualTo(40);
        }
        assertThat(pipelined() - before).as("statements were lent behind one another").isPositive();
    }

    @Test
    void aClientThatLeavesMidReplyDoesNotTakeTheNextClientsWorkWithIt() throws Exception {
        try (Connection holder = client("extended"); Connection next = client("extended")) {
            holder.setAutoCommit(false);
            int serverPid = pid(holder);
            try (Socket leaver = new Socket("127.0.0.1", proxy.port())) {
                leaver.setSoTimeout(20_000);
                startup(leaver);
                // About 2 MB of reply after half a second: the client is gone long before its end.
                query(leaver, "SELECT (SELECT pg_sleep(0.5))::text || repeat('x', 1000) FROM generate_series(1, 2000)");
                awaitWaiting(1);
                CompletableFuture<int[]> answer = inBackground(next.createStatement(), "SELECT 42, pg_backend_pid()",
                        r -> new int[]{r.getInt(1), r.getInt(2)});
                awaitWaiting(2);
                double before = pipelined();
                holder.commit(); // the leaver gets the connection, and the next client is lent behind it
                PooledProxy.await("the next client lent behind the leaver", () -> pipelined() > before);
                Thread.sleep(100);
                leaver.close();
                int[] got = answer.get(30, TimeUnit.SECONDS);
                assertThat(got[0]).isEqualTo(42);
                assertThat(got[1]).as("the same server connection, read past the leaver's reply rather than closed").isEqualTo(serverPid);
            }
            assertThat(pid(holder)).isEqualTo(serverPid);
            holder.rollback();
        }
    }

    @Test
    void aClientThatLeavesWhileItsWorkWaitsBehindAnotherDoesNotDisturbIt() throws Exception {
        try (Connection holder = client("extended"); Connection first = client("simple")) {
            holder.setAutoCommit(false);
            int serverPid = pid(holder);
            CompletableFuture<Integer> firstDone = inBackground(first.createStatement(), "SELECT 7 FROM pg_sleep(0.5)", r -> r.getInt(1));
            awaitWaiting(1);
            try (Socket leaver = new Socket("127.0.0.1", proxy.port())) {
                startup(leaver);
                query(leaver, "SELECT pg_sleep(5)");
                awaitWaiting(2);
                double before = pipelined();
                holder.commit();
                PooledProxy.await("the leaver lent behind the first client", () -> pipelined() > before);
            } // gone while the first client's statement runs, its own waiting behind it
            assertThat(firstDone.get(20, TimeUnit.SECONDS)).as("the current holder keeps its connection").isEqualTo(7);
            // The leaver's statement had no reader: its connection is closed at its turn, and the pool goes on.
            try (Statement s = holder.createStatement(); ResultSet r = s.executeQuery("SELECT pg_backend_pid()")) {
                r.next();
                assertThat(r.getInt(1)).isNotEqualTo(serverPid);
            }
            holder.rollback();
        }
    }

    @Test
    void aCancelWhileLentBehindWaitsForItsTurnAndCancelsOnlyItsOwnStatement() throws Exception {
        // The first client's query goes as one simple Query: pgjdbc's named Parse (prepareThreshold 1)
        // would change the connection's statements, which nothing is lent behind.
        try (Connection holder = client("extended"); Connection first = client("simple"); Connection behind = client("extended")) {
            holder.setAutoCommit(false);
            pid(holder);
            CompletableFuture<Boolean> firstDone = inBackground(first.createStatement(), "SELECT pg_sleep(1) IS NOT NULL", r -> r.getBoolean(1));
            awaitWaiting(1);
            Statement long_ = behind.createStatement();
            CompletableFuture<Boolean> behindDone = inBackground(long_, "SELECT pg_sleep(30) IS NOT NULL", r -> r.getBoolean(1));
            awaitWaiting(2);
            double before = pipelined();
            holder.commit();
            PooledProxy.await("the long statement lent behind the first", () -> pipelined() > before);
            // While the first client's pg_sleep(1) runs: sent now, this cancel would end it instead.
            long_.cancel();
            assertThat(firstDone.get(20, TimeUnit.SECONDS)).as("the first client's statement is not cancelled").isTrue();
            assertThatThrownBy(() -> behindDone.get(20, TimeUnit.SECONDS))
                    .hasRootCauseInstanceOf(SQLException.class)
                    .rootCause().satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("57014"));
            long_.close();
            holder.rollback();
        }
    }

    /** pgbench with autocommit statements only, every protocol: all counted work is in the tables. */
    @Test
    void pgbenchAutocommitWritesThroughOnePipelinedConnection() throws Exception {
        PooledProxy.pgbenchDatabase(pg, "pool_pipelining");
        Path bin = PooledProxy.PG_BIN;
        Map<String, String> env = PooledProxy.PGBENCH_ENV;
        Path script = Files.createTempFile("pipelining-", ".sql");
        Files.writeString(script, """
                \\set aid random(1, 100000)
                \\set delta random(-5000, 5000)
                UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid;
                INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (1, 1, :aid, :delta, CURRENT_TIMESTAMP);
                SELECT abalance FROM pgbench_accounts WHERE aid = :aid;
                """);
        double before = pipelined("pool_pipelining");
        long total = 0;
        for (String mode : List.of("simple", "extended", "prepared")) {
            Tool.Result run = Tool.run(bin, "pgbench", env, null, List.of("-M", mode, "-c", "48", "-j", "2", "-T", "5", "-n",
                    "-f", script.toString(), "-h", "127.0.0.1", "-p", Integer.toString(proxy.port()), "-U", "postgres", "pool_pipelining"));
            assertThat(run.exitCode()).as(run.output()).isZero();
            assertThat(run.output()).as(run.output()).doesNotContain("error").doesNotContain("aborted");
            Matcher processed = Pattern.compile("number of transactions actually processed: (\\d+)").matcher(run.output());
            assertThat(processed.find()).as(run.output()).isTrue();
            total += Long.parseLong(processed.group(1));
        }
        assertThat(pipelined("pool_pipelining") - before).isPositive();
        try (Connection c = java.sql.DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + pg.port() + "/pool_pipelining",
                "postgres", TestPostgres.SUPERUSER_PASSWORD); Statement s = c.createStatement();
             ResultSet r = s.executeQuery("SELECT count(*), coalesce(sum(delta), 0), (SELECT sum(abalance) FROM pgbench_accounts) FROM pgbench_history")) {
            r.next();
            assertThat(r.getLong(1)).as("one history row per counted script run").isEqualTo(total);
            assertThat(r.getLong(3)).as("every delta in its account").isEqualTo(r.getLong(2));
        }
    }

    // ---- a raw client that can vanish mid-reply ----

    private static void startup(Socket s) throws Exception {
        byte[] params = "user\0postgres\0database\0postgres\0\0".getBytes(StandardCharsets.UTF_8);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8 + params.length);
        b.putInt(8 + params.length).putInt(196608).put(params);
        OutputStream out = s.getOutputStream();
        out.write(b.array());
        out.flush();
        DataInputStream in = new DataInputStream(s.getInputStream());
        while (true) {
            byte type = in.readByte();
            byte[] body = new byte[in.readInt() - 4];
            in.readFully(body);
            if (type == 'E') {
                throw new AssertionError("login failed: " + new String(body, StandardCharsets.UTF_8));
            }
            if (type == 'Z') {
                return;
            }
        }
    }

    private static void query(Socket s, String sql) throws Exception {
        byte[] text = (sql + "\0").getBytes(StandardCharsets.UTF_8);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(5 + text.length);
        b.put((byte) 'Q').putInt(4 + text.length).put(text);
        s.getOutputStream().write(b.array());
        s.getOutputStream().flush();
    }
}
