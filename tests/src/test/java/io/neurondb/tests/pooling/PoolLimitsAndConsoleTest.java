package io.neurondb.tests.pooling;

import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.tests.support.ProxyUnderTest;
import io.neurondb.tests.support.TestPostgres;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Cancel, limits, timeouts, a server dying under load, and the admin console. */
class PoolLimitsAndConsoleTest {

    private static LocalPostgres pg;
    /** Own threads: the common pool may have one thread on a small machine, and these tasks block. */
    private static final java.util.concurrent.ExecutorService THREADS = java.util.concurrent.Executors.newCachedThreadPool();

    @BeforeAll
    static void start() {
        pg = TestPostgres.shared();
    }

    private static ProxyUnderTest proxy(String settings) {
        return PooledProxy.start(pg, "    auth_type: scram-sha-256\n    pool_mode: transaction\n" + settings);
    }

    private static Connection client(ProxyUnderTest proxy) throws SQLException {
        return PooledProxy.connect(proxy, "postgres", "postgres", "postgres", new Properties());
    }

    private static void await(String what, java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(50);
        }
    }

    @Test
    void cancelReachesTheRightQueryInTransactionMode() throws Exception {
        try (ProxyUnderTest proxy = proxy("    default_pool_size: 2\n"); Connection a = client(proxy); Connection b = client(proxy);
             Statement sa = a.createStatement(); Statement sb = b.createStatement()) {
            CompletableFuture<Object> slow = CompletableFuture.supplyAsync(() -> {
                try {
                    return sa.execute("SELECT pg_sleep(60)");
                } catch (SQLException e) {
                    return e;
                }
            }, THREADS);
            CompletableFuture<Object> other = CompletableFuture.supplyAsync(() -> {
                try (ResultSet r = sb.executeQuery("SELECT pg_sleep(2), 'b finished'")) {
                    r.next();
                    return r.getString(2);
                } catch (SQLException e) {
                    return e;
                }
            }, THREADS);
            await("a's query running", () -> running(pg, "SELECT pg_sleep(60)"));
            sa.cancel();
            Object outcome = slow.get(20, TimeUnit.SECONDS);
            assertThat(outcome).isInstanceOf(SQLException.class);
            assertThat(((SQLException) outcome).getSQLState()).isEqualTo("57014");
            assertThat(other.get(20, TimeUnit.SECONDS)).isEqualTo("b finished");
            try (ResultSet r = sa.executeQuery("SELECT 1")) {
                assertThat(r.next()).isTrue();
            }
        }
    }

    private static boolean running(LocalPostgres pg, String query) {
        try (Connection c = TestPostgres.superuser(pg); Statement s = c.createStatement();
             ResultSet r = s.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query = '" + query + "'")) {
            r.next();
            return r.getInt(1) > 0;
        } catch (SQLException e) {
            return false;
        }
    }

    @Test
    void fullPoolQueuesThenQueryWaitTimeoutSaysWhy() throws Exception {
        try (ProxyUnderTest proxy = proxy("    default_pool_size: 1\n    query_wait_timeout: 2\n"); Connection holder = client(proxy);
             Connection waiter = client(proxy)) {
            holder.setAutoCommit(false);
            try (Statement s = holder.createStatement()) {
                s.execute("SELECT 1");
            }
            long start = System.nanoTime();
            assertThatThrownBy(() -> waiter.createStatement().execute("SELECT 2"))
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> {
                        assertThat(((SQLException) e).getSQLState()).isEqualTo("08P01");
                        assertThat(e.getMessage()).contains("query_wait_timeout");
                    });
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isGreaterThanOrEqualTo(1900);
            holder.commit();
            // A waiter gets the connection as soon as it is free.
            try (Connection next = client(proxy); Statement s = next.createStatement(); ResultSet r = s.executeQuery("SELECT 3")) {
                assertThat(r.next()).isTrue();
            }
        }
    }

    /** States of SHOW CLIENTS rows, by the client's application_name. */
    private static java.util.Map<String, String> clientStates(Statement console) throws SQLException {
        java.util.Map<String, String> states = new java.util.HashMap<>();
        try (ResultSet r = console.executeQuery("SHOW CLIENTS")) {
            while (r.next()) {
                states.put(r.getString("application_name"), r.getString("state"));
            }
        }
        return states;
    }

    @Test
    void showClientsTellsAQueuedClientFromAnActiveOne() throws Exception {
        try (ProxyUnderTest proxy = proxy("    default_pool_size: 1\n    query_wait_timeout: 60\n")) {
            Properties simple = new Properties();
            simple.setProperty("preferQueryMode", "simple");
            try (Connection holder = PooledProxy.connect(proxy, "postgres", "postgres", "postgres", withName("holder"));
                 Connection waiter = PooledProxy.connect(proxy, "postgres", "postgres", "postgres", withName("queued"));
                 Connection console = PooledProxy.connect(proxy, "pgbouncer", "postgres", "postgres", simple);
                 Statement c = console.createStatement()) {
                holder.setAutoCommit(false);
                try (Statement s = holder.createStatement()) {
                    s.execute("SELECT 1"); // the pool's one connection stays with the open transaction
                }
                CompletableFuture<Integer> queued = CompletableFuture.supplyAsync(() -> {
                    try (Statement s = waiter.createStatement(); ResultSet r = s.executeQuery("SELECT 42")) {
                        r.next();
                        return r.getInt(1);
                    } catch (SQLException e) {
                        throw new IllegalStateException(e);
                    }
                }, THREADS);
                await("the second client to queue (SHOW CLIENTS: " + clientStates(c) + ")", () -> {
                    try {
                        return "waiting".equals(clientStates(c).get("queued"));
                    } catch (SQLException e) {
                        throw new IllegalStateException(e);
                    }
                });
                assertThat(clientStates(c)).containsEntry("holder", "active");
                holder.commit();
                assertThat(queued.get(30, TimeUnit.SECONDS)).isEqualTo(42);
                assertThat(clientStates(c)).containsEntry("queued", "active").containsEntry("holder", "active");
            }
        }
    }

    private static Properties withName(String applicationName) {
        Properties p = new Properties();
        p.setProperty("ApplicationName", applicationName);
        p.setProperty("assumeMinServerVersion", "15"); // pgjdbc then sends the name in the startup packet, where SHOW CLIENTS takes it from
        return p;
    }

    @Test
    void maxClientConnRefusesWith53300() throws Exception {
        try (ProxyUnderTest proxy = proxy("    max_client_conn: 3\n")) {
            List<Connection> open = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    open.add(client(proxy));
                }
                assertThatThrownBy(() -> client(proxy).close())
                        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("53300"));
                open.remove(0).close();
                await("a slot to free up", () -> {
                    try {
                        open.add(client(proxy));
                        return true;
                    } catch (SQLException e) {
                        return false;
                    }
                });
            } finally {
                for (Connection c : open) {
                    c.close();
                }
            }
        }
    }

    @Test
    void idleTransactionTimeoutEndsTheClientAndFreesTheServer() throws Exception {
        try (ProxyUnderTest proxy = proxy("    default_pool_size: 1\n    idle_transaction_timeout: 1\n"); Connection idle = client(proxy)) {
            idle.setAutoCommit(false);
            try (Statement s = idle.createStatement()) {
                s.execute("CREATE TEMP TABLE would_be_lost (v int)");
            }
            // The one server connection comes back once the idle transaction is cut off.
            try (Connection other = client(proxy); Statement s = other.createStatement(); ResultSet r = s.executeQuery("SELECT 'free'")) {
                r.next();
                assertThat(r.getString(1)).isEqualTo("free");
            }
            assertThatThrownBy(() -> idle.createStatement().execute("SELECT 1")).isInstanceOf(SQLException.class);
        }
    }

    @Test
    void serverKilledUnderLoadGivesErrorsAndThePoolRecovers() throws Exception {
        try (ProxyUnderTest proxy = proxy("    default_pool_size: 3\n")) {
            List<CompletableFuture<Object>> load = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                load.add(CompletableFuture.supplyAsync(() -> {
                    try (Connection c = client(proxy); Statement s = c.createStatement()) {
                        s.execute("SELECT pg_sleep(20)");
                        return "finished";
                    } catch (SQLException e) {
                        return e;
                    }
                }, THREADS));
            }
            // Three run on the pool's connections, two wait in the queue.
            await("three queries running", () -> {
                int n = count(pg, "SELECT pg_sleep(20)");
                return n == 3;
            });
            try (Connection c = TestPostgres.superuser(pg); Statement s = c.createStatement()) {
                s.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'client backend' AND query = 'SELECT pg_sleep(20)' AND pid <> pg_backend_pid()");
            }
            int errors = 0;
            for (CompletableFuture<Object> f : load) {
                if (f.get(60, TimeUnit.SECONDS) instanceof SQLException) {
                    errors++;
                }
            }
            assertThat(errors).as("the clients whose server connection was killed get errors").isGreaterThanOrEqualTo(3);
            try (Connection c = client(proxy); Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT 'recovered'")) {
                r.next();
                assertThat(r.getString(1)).isEqualTo("recovered");
            }
        }
    }

    private static int count(LocalPostgres pg, String query) {
        try (Connection c = TestPostgres.superuser(pg); Statement s = c.createStatement();
             ResultSet r = s.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query = '" + query + "'")) {
            r.next();
            return r.getInt(1);
        } catch (SQLException e) {
            return -1;
        }
    }

    @Test
    void adminConsoleShowsPoolsAndRunsCommands() throws Exception {
        try (ProxyUnderTest proxy = proxy("    default_pool_size: 2\n"); Connection app = client(proxy)) {
            try (Statement s = app.createStatement()) {
                s.execute("SELECT 1");
            }
            Properties simple = new Properties();
            simple.setProperty("preferQueryMode", "simple");
            for (String db : List.of("pgbouncer", "neurondb")) {
                try (Connection console = PooledProxy.connect(proxy, db, "postgres", "postgres", simple); Statement s = console.createStatement()) {
                    try (ResultSet r = s.executeQuery("SHOW POOLS")) {
                        ResultSetMetaData md = r.getMetaData();
                        assertThat(md.getColumnName(1)).isEqualTo("database");
                        assertThat(md.getColumnName(3)).isEqualTo("cl_active");
                        assertThat(md.getColumnName(4)).isEqualTo("cl_waiting");
                        assertThat(md.getColumnName(md.getColumnCount())).isEqualTo("pool_mode");
                        boolean found = false;
                        while (r.next()) {
                            if (r.getString("database").equals("postgres") && r.getString("user").equals("postgres")) {
                                found = true;
                                assertThat(r.getInt("cl_active")).isGreaterThanOrEqualTo(1);
                                assertThat(r.getString("pool_mode")).isEqualTo("transaction");
                                // After the first round's RECONNECT the pool may be empty until the next client.
                                assertThat(r.getInt("sv_idle") + r.getInt("sv_active")).isBetween(db.equals("pgbouncer") ? 1 : 0, 2);
                            }
                        }
                        assertThat(found).isTrue();
                    }
                    // After the first round's RECONNECT there may be no server connection to list.
                    List<String> shows = db.equals("pgbouncer")
                            ? List.of("SHOW STATS", "SHOW CLIENTS", "SHOW SERVERS", "SHOW DATABASES", "SHOW CONFIG", "SHOW VERSION")
                            : List.of("SHOW STATS", "SHOW CLIENTS", "SHOW DATABASES", "SHOW CONFIG", "SHOW VERSION");
                    for (String show : shows) {
                        try (ResultSet r = s.executeQuery(show)) {
                            assertThat(r.next()).as(show).isTrue();
                        }
                    }
                    try (ResultSet r = s.executeQuery("SHOW CONFIG")) {
                        boolean sawPoolSize = false;
                        while (r.next()) {
                            if (r.getString("key").equals("default_pool_size")) {
                                sawPoolSize = true;
                                assertThat(r.getString("value")).isEqualTo("2");
                                assertThat(r.getString("default")).isEqualTo("20");
                            }
                        }
                        assertThat(sawPoolSize).isTrue();
                    }
                    s.execute("PAUSE");
                    s.execute("RESUME");
                    s.execute("RECONNECT");
                    s.execute("RELOAD");
                    assertThatThrownBy(() -> s.execute("SHOW NONSENSE"))
                            .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42601"));
                }
            }
            // RELOAD and RECONNECT kept the application client connected.
            try (Statement s = app.createStatement(); ResultSet r = s.executeQuery("SELECT 'still here'")) {
                r.next();
                assertThat(r.getString(1)).isEqualTo("still here");
            }
            // Only configured users reach the console.
            assertThatThrownBy(() -> PooledProxy.connect(proxy, "pgbouncer", "scram_user", "scrampass", simple).close())
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28000"));
        }
    }

    /** RELOAD re-reads the configuration file: a changed pool size shows, and clients stay connected. */
    @Test
    void reloadRereadsTheConfigurationFile() throws Exception {
        java.nio.file.Path home = java.nio.file.Files.createTempDirectory("neurondb-reload-");
        java.nio.file.Path file = home.resolve("neurondb.yaml");
        java.nio.file.Path plugins = io.neurondb.tests.support.PluginJars.directoryWith("pooling");
        java.nio.file.Path auth = PooledProxy.authFile();
        int port = LocalPostgres.freePort();
        java.util.function.IntFunction<String> yaml = poolSize -> "listen: 127.0.0.1:" + port + "\n"
                + "upstream: postgresql://postgres:postgres@127.0.0.1:" + pg.port() + "/postgres\n"
                + "metrics_port: 0\nevent_loops: 1\nplugins_dir: " + plugins + "\n"
                + "plugins:\n  pooling:\n    enabled: true\n    auth_type: scram-sha-256\n    pool_mode: transaction\n"
                + "    auth_file: " + auth + "\n    admin_users: [postgres]\n    default_pool_size: " + poolSize + "\n";
        java.nio.file.Files.writeString(file, yaml.apply(2));
        io.neurondb.proxy.config.ConfigLoader loader = new io.neurondb.proxy.config.ConfigLoader(java.util.Map.of(), home);
        io.neurondb.proxy.NeuronDbProxy proxy = io.neurondb.proxy.NeuronDbProxy.start(loader.load(file));
        try {
            io.neurondb.proxy.cli.ConfigReload reload = new io.neurondb.proxy.cli.ConfigReload(loader, file, proxy::reloadPlugins);
            proxy.onReloadRequest(reload::reload);
            Properties simple = new Properties();
            simple.setProperty("preferQueryMode", "simple");
            Properties login = new Properties();
            login.setProperty("user", "postgres");
            login.setProperty("password", "postgres");
            String url = "jdbc:postgresql://127.0.0.1:" + port + "/";
            try (Connection app = java.sql.DriverManager.getConnection(url + "postgres", login)) {
                login.putAll(simple);
                try (Connection console = java.sql.DriverManager.getConnection(url + "pgbouncer", login);
                     Statement s = console.createStatement()) {
                    assertThat(configValue(s, "default_pool_size")).isEqualTo("2");
                    java.nio.file.Files.writeString(file, yaml.apply(7));
                    s.execute("RELOAD");
                    assertThat(configValue(s, "default_pool_size")).isEqualTo("7");
                    // A file that no longer loads is refused and the running settings stay.
                    java.nio.file.Files.writeString(file, yaml.apply(7) + "no_such_setting: 1\n");
                    assertThatThrownBy(() -> s.execute("RELOAD"))
                            .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("F0000"));
                    assertThat(configValue(s, "default_pool_size")).isEqualTo("7");
                }
                try (Statement s = app.createStatement(); ResultSet r = s.executeQuery("SELECT 'still here'")) {
                    r.next();
                    assertThat(r.getString(1)).isEqualTo("still here");
                }
            }
        } finally {
            proxy.close();
            LocalPostgres.deleteTree(home);
        }
    }

    private static String configValue(Statement console, String key) throws SQLException {
        try (ResultSet r = console.executeQuery("SHOW CONFIG")) {
            while (r.next()) {
                if (r.getString("key").equals(key)) {
                    return r.getString("value");
                }
            }
        }
        return null;
    }
}
