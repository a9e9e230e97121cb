package io.neurondb.tests.pooling;

import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.tests.support.ProxyUnderTest;
import io.neurondb.tests.support.TestPostgres;
import io.neurondb.tests.support.Tool;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The acceptance run: pgbench's TPC-B script with prepared statements, many clients over a
 * pool of 10 in transaction mode, no errors, and every transaction pgbench counted is in
 * pgbench_history. Client count: {@code -Dpooling.pgbench.clients} (500 by default).
 */
class PgbenchTransactionPoolingTest {

    private static final int CLIENTS = Integer.getInteger("pooling.pgbench.clients", 500);
    private static final int SECONDS = Integer.getInteger("pooling.pgbench.seconds", 30);

    @Test
    void tpcbPreparedThroughAPoolOfTen() throws Exception {
        LocalPostgres pg = TestPostgres.shared();
        PooledProxy.pgbenchDatabase(pg, "pool_pgbench");
        Path bin = PooledProxy.PG_BIN;
        Map<String, String> env = PooledProxy.PGBENCH_ENV;

        try (ProxyUnderTest proxy = PooledProxy.start(pg, "    auth_type: scram-sha-256\n    pool_mode: transaction\n"
                + "    default_pool_size: " + Integer.getInteger("pooling.pgbench.pool", 10) + "\n    max_client_conn: " + (CLIENTS + 50) + "\n    query_wait_timeout: " + Integer.getInteger("pooling.pgbench.wait", 60) + "\n")) {
            Tool.Result run = Tool.run(bin, "pgbench", env, null, List.of("-M", "prepared", "-c", Integer.toString(CLIENTS),
                    "-j", "4", "-T", Integer.toString(SECONDS), "-n", "-h", "127.0.0.1", "-p", Integer.toString(proxy.port()),
                    "-U", "postgres", "pool_pgbench"));
            assertThat(run.exitCode()).as(run.output()).isZero();
            assertThat(run.output()).as(run.output()).doesNotContain("error").doesNotContain("aborted");
            long processed = number(run.output(), "number of transactions actually processed: (\\d+)");
            assertThat(processed).as(run.output()).isPositive();
            assertThat(run.output()).contains("number of clients: " + CLIENTS);
            Matcher failed = Pattern.compile("number of failed transactions: (\\d+)").matcher(run.output());
            if (failed.find()) {
                assertThat(Long.parseLong(failed.group(1))).as(run.output()).isZero();
            }
            System.out.println("pgbench through the pool:\n" + run.output());
            try (Connection c = java.sql.DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + pg.port() + "/pool_pgbench",
                    "postgres", TestPostgres.SUPERUSER_PASSWORD); Statement s = c.createStatement()) {
                try (ResultSet r = s.executeQuery("SELECT count(*) FROM pgbench_history")) {
                    r.next();
                    assertThat(r.getLong(1)).as("one history row per transaction").isEqualTo(processed);
                }
                // TPC-B moves the same delta into an account, its teller and its branch.
                try (ResultSet r = s.executeQuery("SELECT (SELECT sum(abalance) FROM pgbench_accounts), (SELECT sum(tbalance) FROM pgbench_tellers),"
                        + " (SELECT sum(bbalance) FROM pgbench_branches), (SELECT coalesce(sum(delta), 0) FROM pgbench_history)")) {
                    r.next();
                    long history = r.getLong(4);
                    assertThat(r.getLong(1)).isEqualTo(history);
                    assertThat(r.getLong(2)).isEqualTo(history);
                    assertThat(r.getLong(3)).isEqualTo(history);
                }
                // Connections closed at the end (clients that left mid-transaction) take a moment to exit on the server.
                // (The pool's connections carry the clients' application_name after the settings replay.)
                int open = Integer.MAX_VALUE;
                long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(15);
                while (open > 10 && System.nanoTime() < deadline) {
                    try (ResultSet r = s.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE datname = 'pool_pgbench'"
                            + " AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
                            + " AND application_name <> 'neurondb-proxy'")) { // the proxy's own catalog reader is not a pool connection
                        r.next();
                        open = r.getInt(1);
                    }
                    if (open > 10) {
                        Thread.sleep(100);
                    }
                }
                assertThat(open).as("server connections stay within the pool").isLessThanOrEqualTo(10);
            }
        }
    }

    private static long number(String output, String regex) {
        Matcher m = Pattern.compile(regex).matcher(output);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }
}
