package io.neurondb.tests.pooling;

import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.tests.support.ProxyUnderTest;
import io.neurondb.tests.support.TestPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.neurondb.tests.pooling.PooledProxy.await;
import static io.neurondb.tests.pooling.PooledProxy.backendPid;
import static io.neurondb.tests.pooling.PooledProxy.poolRow;
import static io.neurondb.tests.pooling.PooledProxy.serverPids;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * How many server connections the pooler opens: max_db_connections and max_user_connections
 * across pools, reserve_pool_size after reserve_pool_timeout, min_pool_size without clients.
 * Server connections are counted on the real server (pg_stat_activity); clients beyond a limit
 * are seen waiting in SHOW POOLS and then served.
 */
class PoolSizingTest {

    private static LocalPostgres pg;
    /** Own threads: the common pool may have one thread here, and these tasks block. */
    private static final ExecutorService THREADS = Executors.newCachedThreadPool();

    @BeforeAll
    static void start() throws SQLException {
        pg = TestPostgres.shared();
        try (Connection c = TestPostgres.superuser(pg); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS pool_db2 WITH (FORCE)");
            s.execute("CREATE DATABASE pool_db2");
        }
    }

    @AfterAll
    static void stop() throws SQLException {
        THREADS.shutdownNow();
        try (Connection c = TestPostgres.superuser(pg); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS pool_db2 WITH (FORCE)");
        }
    }

    private static ProxyUnderTest proxy(String settings) {
        return PooledProxy.start(pg, "    auth_type: scram-sha-256\n    pool_mode: transaction\n    query_wait_timeout: 60\n" + settings);
    }

    private static Connection scram(ProxyUnderTest proxy, String database) throws SQLException {
        return PooledProxy.connect(proxy, database, "scram_user", "scrampass", new Properties());
    }

    private static Connection md5(ProxyUnderTest proxy, String database) throws SQLException {
        return PooledProxy.connect(proxy, database, "md5_user", "md5pass", new Properties());
    }

    /** Opens a transaction: in transaction mode the client now holds a server connection until commit. */
    private static int hold(Connection c) throws SQLException {
        c.setAutoCommit(false);
        return backendPid(c);
    }

    /** A query on another thread; completes with the backend pid that ran it. */
    private static CompletableFuture<Integer> queryAsync(Connection c) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return backendPid(c);
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        }, THREADS);
    }

    private static int count(String... users) throws SQLException {
        int n = 0;
        for (String u : users) {
            n += serverPids(pg, u).size();
        }
        return n;
    }

    /** Earlier tests' proxies close their server connections asynchronously. */
    private static void awaitNoServerConnections(String... users) throws Exception {
        await("no server connections of " + String.join(",", users), () -> count(users) == 0);
    }

    private static int waiting(Connection console, String database, String user) throws SQLException {
        String v = poolRow(console, database, user).get("cl_waiting");
        return v == null ? 0 : Integer.parseInt(v);
    }

    @Test
    void maxDbConnectionsCapsServerConnectionsAcrossUsersAndWaitersAreServed() throws Exception {
        awaitNoServerConnections("scram_user", "md5_user");
        try (ProxyUnderTest proxy = proxy("    default_pool_size: 5\n    max_db_connections: 2\n");
             Connection a = scram(proxy, "postgres"); Connection b = md5(proxy, "postgres"); Connection c = scram(proxy, "postgres");
             Connection console = PooledProxy.console(proxy)) {
            hold(a);
            hold(b);
            CompletableFuture<Integer> third = queryAsync(c);
            await("the third client waiting", () -> waiting(console, "postgres", "scram_user") == 1);
            assertThat(count("scram_user", "md5_user")).as("server connections of database postgres").isEqualTo(2);
            assertThat(third).isNotDone();
            // b's transaction ends: its idle connection (md5_user's pool) gives way to the waiting
            // scram_user client, since both count against the database's limit.
            b.commit();
            AtomicInteger most = new AtomicInteger();
            CompletableFuture<Void> sampler = CompletableFuture.runAsync(() -> {
                while (!third.isDone()) {
                    try {
                        most.accumulateAndGet(count("scram_user", "md5_user"), Math::max);
                    } catch (SQLException e) {
                        throw new IllegalStateException(e);
                    }
                }
            }, THREADS);
            assertThat(third.get(30, TimeUnit.SECONDS)).isPositive();
            sampler.get(30, TimeUnit.SECONDS);
            assertThat(most.get()).as("most server connections seen while the third client waited").isLessThanOrEqualTo(2);
            assertThat(count("scram_user", "md5_user")).isLessThanOrEqualTo(2);
            a.commit();
            assertThat(backendPid(b)).isPositive();
        }
    }

    @Test
    void maxUserConnectionsCapsServerConnectionsAcrossDatabasesAndWaitersAreServed() throws Exception {
        awaitNoServerConnections("scram_user");
        try (ProxyUnderTest proxy = proxy("    default_pool_size: 5\n    max_user_connections: 2\n");
             Connection a = scram(proxy, "postgres"); Connection b = scram(proxy, "pool_db2"); Connection c = scram(proxy, "pool_db2");
             Connection console = PooledProxy.console(proxy)) {
            hold(a);
            hold(b);
            CompletableFuture<Integer> third = queryAsync(c);
            await("the third client waiting", () -> waiting(console, "pool_db2", "scram_user") == 1);
            assertThat(count("scram_user")).as("scram_user's server connections").isEqualTo(2);
            assertThat(third).isNotDone();
            // a's transaction ends: its idle connection to postgres gives way to the client waiting for pool_db2.
            a.commit();
            int pid = third.get(30, TimeUnit.SECONDS);
            assertThat(pid).isPositive();
            assertThat(count("scram_user")).isLessThanOrEqualTo(2);
            b.commit();
            assertThat(backendPid(a)).isPositive();
            assertThat(count("scram_user")).isLessThanOrEqualTo(2);
        }
    }

    @Test
    void reservePoolOpensAfterTheTimeoutAndNoFurther() throws Exception {
        awaitNoServerConnections("scram_user");
        try (ProxyUnderTest proxy = proxy("    default_pool_size: 1\n    reserve_pool_size: 1\n    reserve_pool_timeout: 1\n");
             Connection a = scram(proxy, "postgres"); Connection b = scram(proxy, "postgres"); Connection c = scram(proxy, "postgres");
             Connection console = PooledProxy.console(proxy)) {
            int pidA = hold(a);
            long start = System.nanoTime();
            b.setAutoCommit(false);
            int pidB = backendPid(b);
            long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(waitedMs).as("b waited reserve_pool_timeout before the reserve connection opened").isGreaterThanOrEqualTo(900);
            assertThat(pidB).isNotEqualTo(pidA);
            assertThat(count("scram_user")).isEqualTo(2);
            // The reserve is one connection: c waits although it waited longer than reserve_pool_timeout.
            CompletableFuture<Integer> third = queryAsync(c);
            await("c waiting", () -> waiting(console, "postgres", "scram_user") == 1);
            Thread.sleep(2500); // longer than reserve_pool_timeout: no third connection may open meanwhile
            assertThat(third).isNotDone();
            assertThat(count("scram_user")).isEqualTo(2);
            a.commit();
            assertThat(third.get(30, TimeUnit.SECONDS)).isIn(pidA, pidB);
            b.commit();
        }
    }

    @Test
    void minPoolSizeOpensConnectionsWithoutQueriesAndKeepsThem() throws Exception {
        awaitNoServerConnections("scram_user");
        try (ProxyUnderTest proxy = proxy("    default_pool_size: 5\n    min_pool_size: 3\n    server_idle_timeout: 1\n");
             Connection idleClient = scram(proxy, "postgres")) {
            // The client ran no query; the pool exists from its login on and fills to min_pool_size.
            await("three server connections", () -> count("scram_user") == 3);
            Thread.sleep(2500); // longer than server_idle_timeout: the minimum stays open
            List<Integer> pids = serverPids(pg, "scram_user");
            assertThat(pids).hasSize(3);
            try (Connection su = TestPostgres.superuser(pg); Statement s = su.createStatement()) {
                s.execute("SELECT pg_terminate_backend(" + pids.get(0) + ")");
            }
            await("the pool back at three after one was killed",
                    () -> serverPids(pg, "scram_user").size() == 3 && !serverPids(pg, "scram_user").contains(pids.get(0)));
            assertThat(backendPid(idleClient)).isNotEqualTo(pids.get(0));
        }
    }

    /** Statement mode is refused at load: the pooling plugin does not start, rather than run it as transaction mode. */
    @Test
    void statementPoolModeIsRefusedAtLoad() throws Exception {
        try (ProxyUnderTest proxy = PooledProxy.start(pg, "    auth_type: scram-sha-256\n    pool_mode: statement\n")) {
            assertThat(proxy.proxy().plugins().notStartedPluginIds()).contains("pooling");
            assertThat(proxy.proxy().plugins().startedPluginIds()).doesNotContain("pooling");
            // No pooler: the console database does not exist, the proxy relays 1:1 to the server.
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> PooledProxy.console(proxy).close())
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("3D000"));
        }
    }
}
