package io.neurondb.tests.pooling;

import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.tests.support.ProxyUnderTest;
import io.neurondb.tests.support.TestPostgres;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Server connections changing hands between sessions on two event loops, as fast as clients
 * can send: few more clients than connections, so a returned connection often goes to the
 * idle list and is taken from it at once by a session on the other loop. A reply that reaches
 * the wrong handler shows up as a client waiting for good; each client has a socket timeout,
 * so that fails the test instead of hanging it.
 *
 * <p>A race test: passing proves little. It did not catch the hand-over bug it was written
 * after (the pool set its idle handlers after the connection was already in the idle list;
 * pgbench at 64 clients through a proxy under a JFR recording hung in about one run in three),
 * since that needs the returning thread to be preempted within a few instructions. It does
 * check that every reply arrives and every connection comes back while leases cross event loops.
 */
class LeaseHandOverStressTest {

    private static final int CLIENTS = 8;
    private static final long RUN_MILLIS = 5_000;

    @Test
    void everyClientGetsEveryReplyWhileConnectionsChangeHandsAcrossEventLoops() throws Exception {
        LocalPostgres pg = TestPostgres.shared();
        try (ProxyUnderTest proxy = PooledProxy.start(pg,
                "    auth_type: scram-sha-256\n    pool_mode: transaction\n    default_pool_size: 3\n    query_wait_timeout: 20\n");
             Connection console = PooledProxy.console(proxy)) {
            ExecutorService threads = Executors.newFixedThreadPool(CLIENTS);
            try {
                List<Future<Long>> clients = new ArrayList<>();
                long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RUN_MILLIS);
                for (int i = 0; i < CLIENTS; i++) {
                    clients.add(threads.submit(() -> runQueries(proxy, until)));
                }
                long total = 0;
                for (Future<Long> c : clients) {
                    total += c.get(RUN_MILLIS + 30_000, TimeUnit.MILLISECONDS);
                }
                assertThat(total).as("statements answered").isGreaterThan(CLIENTS * 50L);
            } finally {
                threads.shutdownNow();
            }
            PooledProxy.await("every server connection back in the pool", () -> {
                Map<String, String> row = PooledProxy.poolRow(console, "postgres", "postgres");
                return "0".equals(row.get("sv_active")) && "0".equals(row.get("cl_waiting"));
            });
        }
    }

    /** Autocommit statements in a loop until {@code untilNanos}; each checks its own answer. */
    private static long runQueries(ProxyUnderTest proxy, long untilNanos) throws Exception {
        Properties p = new Properties();
        p.setProperty("preferQueryMode", "simple");
        p.setProperty("socketTimeout", "15"); // seconds: a lost reply fails here instead of hanging
        long n = 0;
        try (Connection c = PooledProxy.connect(proxy, "postgres", "postgres", "postgres", p); Statement s = c.createStatement()) {
            while (System.nanoTime() - untilNanos < 0) {
                long value = n * 7 + 3;
                try (ResultSet r = s.executeQuery("SELECT " + value)) {
                    assertThat(r.next()).isTrue();
                    assertThat(r.getLong(1)).isEqualTo(value);
                }
                n++;
            }
        }
        return n;
    }
}
