package io.neurondb.tests.pooling;

import io.neurondb.proxy.NeuronDbProxy;
import io.neurondb.proxy.cli.ConfigReload;
import io.neurondb.proxy.config.ConfigLoader;
import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.tests.support.ProxyJvm;
import io.neurondb.tests.support.PluginJars;
import io.neurondb.tests.support.ProxyUnderTest;
import io.neurondb.tests.support.TestPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

import static io.neurondb.tests.pooling.PooledProxy.await;
import static io.neurondb.tests.pooling.PooledProxy.backendPid;
import static io.neurondb.tests.pooling.PooledProxy.poolRow;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The console's commands that change what the pooler does: PAUSE (waits until every server
 * connection is back) and RESUME, RELOAD and SIGHUP applying a new default_pool_size to live
 * pools without dropping clients, SHUTDOWN stopping the proxy process. SIGHUP and SHUTDOWN run
 * against the proxy as its own process (io.neurondb.proxy.cli.Main, as bin/neurondb-proxy runs it).
 */
class ConsoleControlTest {

    private static LocalPostgres pg;
    private static final ExecutorService THREADS = Executors.newCachedThreadPool();

    @BeforeAll
    static void start() {
        pg = TestPostgres.shared();
    }

    @AfterAll
    static void stop() {
        THREADS.shutdownNow();
    }

    private static Connection scram(int port) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "scram_user");
        p.setProperty("password", "scrampass");
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres", p);
    }

    private static Connection console(int port) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        p.setProperty("password", "postgres");
        p.setProperty("preferQueryMode", "simple");
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/pgbouncer", p);
    }

    private static CompletableFuture<Integer> queryAsync(Connection c) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return backendPid(c);
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        }, THREADS);
    }

    private static CompletableFuture<Object> executeAsync(Connection c, String sql) {
        return CompletableFuture.supplyAsync(() -> {
            try (Statement s = c.createStatement()) {
                s.execute(sql);
                return "done";
            } catch (SQLException e) {
                return e;
            }
        }, THREADS);
    }

    private static int waiting(Connection console) throws SQLException {
        String v = poolRow(console, "postgres", "scram_user").get("cl_waiting");
        return v == null ? 0 : Integer.parseInt(v);
    }

    private static String configValue(Connection console, String key) throws SQLException {
        try (Statement s = console.createStatement(); ResultSet r = s.executeQuery("SHOW CONFIG")) {
            while (r.next()) {
                if (r.getString("key").equals(key)) {
                    return r.getString("value");
                }
            }
        }
        return null;
    }

    @Test
    void pauseCompletesOnlyWhenEveryServerConnectionIsBackAndResumeReleasesTheWaiters() throws Exception {
        try (ProxyUnderTest proxy = PooledProxy.start(pg, "    auth_type: scram-sha-256\n    pool_mode: transaction\n    default_pool_size: 2\n"
                + "    query_wait_timeout: 60\n");
             Connection inTransaction = scram(proxy.port()); Connection later = scram(proxy.port());
             Connection pauser = console(proxy.port()); Connection observer = console(proxy.port())) {
            inTransaction.setAutoCommit(false);
            int pid = backendPid(inTransaction);
            CompletableFuture<Object> pause = executeAsync(pauser, "PAUSE");
            // Paused: a new transaction waits, although the pool could open a second connection.
            CompletableFuture<Integer> blocked = queryAsync(later);
            await("the new transaction waiting", () -> waiting(observer) == 1);
            Thread.sleep(1000); // PAUSE must still be waiting for the open transaction
            assertThat(pause).as("PAUSE waits while a server connection is lent").isNotDone();
            assertThat(backendPid(inTransaction)).as("the open transaction goes on while paused").isEqualTo(pid);
            inTransaction.commit();
            assertThat(pause.get(30, TimeUnit.SECONDS)).as("PAUSE completes once the connection is back").isEqualTo("done");
            assertThat(blocked).isNotDone();
            assertThat(waiting(observer)).isEqualTo(1);
            try (Statement s = observer.createStatement(); ResultSet r = s.executeQuery("SHOW DATABASES")) {
                boolean seen = false;
                while (r.next()) {
                    if (r.getString("name").equals("postgres")) {
                        seen = true;
                        assertThat(r.getString("paused")).isEqualTo("1");
                    }
                }
                assertThat(seen).isTrue();
            }
            try (Statement s = observer.createStatement()) {
                s.execute("RESUME");
            }
            assertThat(blocked.get(30, TimeUnit.SECONDS)).isPositive();
            assertThat(backendPid(inTransaction)).isPositive();
        }
    }

    /** A proxy started from a configuration file in {@code home}, reloadable the way Main wires it. */
    private record FileProxy(Path home, Path file, int port, IntFunction<String> yaml) {
        static FileProxy create() throws Exception {
            Path home = Files.createTempDirectory("neurondb-pool-reload-");
            Path plugins = PluginJars.directoryWith("pooling");
            Path auth = PooledProxy.authFile();
            int port = LocalPostgres.freePort();
            IntFunction<String> yaml = poolSize -> "listen: 127.0.0.1:" + port + "\n"
                    + "upstream: postgresql://postgres:postgres@127.0.0.1:" + pg.port() + "/postgres\n"
                    + "metrics_port: 0\nevent_loops: 2\nplugins_dir: " + plugins + "\n"
                    + "replication:\n  enabled: false\n"
                    + "plugins:\n  pooling:\n    enabled: true\n    auth_type: scram-sha-256\n    pool_mode: transaction\n"
                    + "    query_wait_timeout: 60\n"
                    + "    auth_file: " + auth + "\n    admin_users: [postgres]\n    default_pool_size: " + poolSize + "\n";
            FileProxy f = new FileProxy(home, home.resolve("neurondb.yaml"), port, yaml);
            Files.writeString(f.file, yaml.apply(1));
            return f;
        }

        void poolSize(int n) throws Exception {
            Files.writeString(file, yaml.apply(n));
        }
    }

    /**
     * The shared scenario of RELOAD and SIGHUP: pool_size 1, one client in a transaction, one
     * waiting; {@code reload} applies pool_size 2; the waiter is served while the first client's
     * transaction stays on its connection.
     */
    private static void poolSizeGrowsOnReload(FileProxy f, ReloadAction reload) throws Exception {
        try (Connection holder = scram(f.port()); Connection waiter = scram(f.port()); Connection console = console(f.port())) {
            holder.setAutoCommit(false);
            int pid = backendPid(holder);
            CompletableFuture<Integer> queued = queryAsync(waiter);
            await("the second client waiting", () -> waiting(console) == 1);
            assertThat(configValue(console, "default_pool_size")).isEqualTo("1");
            f.poolSize(2);
            reload.run(console);
            assertThat(queued.get(30, TimeUnit.SECONDS)).as("served by the second connection pool_size 2 allows").isNotEqualTo(pid);
            assertThat(configValue(console, "default_pool_size")).isEqualTo("2");
            assertThat(backendPid(holder)).as("the first client kept its transaction and connection").isEqualTo(pid);
            holder.commit();
            assertThat(backendPid(waiter)).isPositive();
        }
    }

    private interface ReloadAction {
        void run(Connection console) throws Exception;
    }

    @Test
    void consoleReloadAppliesANewPoolSizeWithoutDroppingClients() throws Exception {
        FileProxy f = FileProxy.create();
        ConfigLoader loader = new ConfigLoader(Map.of(), f.home());
        NeuronDbProxy proxy = NeuronDbProxy.start(loader.load(f.file()));
        try {
            ConfigReload reload = new ConfigReload(loader, f.file(), proxy::reloadPlugins);
            proxy.onReloadRequest(reload::reload);
            poolSizeGrowsOnReload(f, console -> {
                try (Statement s = console.createStatement()) {
                    s.execute("RELOAD");
                }
            });
        } finally {
            proxy.close();
            LocalPostgres.deleteTree(f.home());
        }
    }

    /** The proxy as its own JVM, as bin/neurondb-proxy runs it, with its output in home/proxy.log. */
    private static Process startProcess(FileProxy f) throws Exception {
        List<String> cmd = ProxyJvm.command("--config", f.file().toString());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(f.home().resolve("proxy.log").toFile());
        pb.environment().put("NEURONDB_HOME", f.home().toString());
        pb.environment().keySet().removeIf(k -> k.startsWith("NEURONDB_") && !k.equals("NEURONDB_HOME"));
        Process p = pb.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (true) {
            try (Connection c = console(f.port())) {
                return p;
            } catch (SQLException e) {
                if (!p.isAlive() || System.nanoTime() > deadline) {
                    p.destroyForcibly();
                    throw new AssertionError("the proxy process did not start: " + Files.readString(f.home().resolve("proxy.log")), e);
                }
                Thread.sleep(200);
            }
        }
    }

    private static void stopProcess(Process p, FileProxy f) throws InterruptedException {
        if (p.isAlive()) {
            p.destroy();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
        LocalPostgres.deleteTree(f.home());
    }

    @Test
    void sighupToTheProxyProcessAppliesANewPoolSizeWithoutDroppingClients() throws Exception {
        FileProxy f = FileProxy.create();
        Process p = startProcess(f);
        try {
            poolSizeGrowsOnReload(f, console -> {
                Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(p.pid())).inheritIO().start();
                assertThat(kill.waitFor(30, TimeUnit.SECONDS)).isTrue();
                assertThat(kill.exitValue()).isZero();
            });
            assertThat(p.isAlive()).as("SIGHUP reloads, it does not stop the process").isTrue();
        } finally {
            stopProcess(p, f);
        }
    }

    @Test
    void shutdownStopsTheProxyProcess() throws Exception {
        FileProxy f = FileProxy.create();
        Process p = startProcess(f);
        try (Connection app = scram(f.port())) {
            assertThat(backendPid(app)).isPositive();
            try (Connection console = console(f.port()); Statement s = console.createStatement()) {
                // Like PgBouncer, the process may be gone before the answer reaches the console.
                try {
                    s.execute("SHUTDOWN");
                } catch (SQLException e) {
                    assertThat(e.getSQLState()).startsWith("08");
                }
            }
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("the proxy process exited after SHUTDOWN").isTrue();
            assertThat(p.exitValue()).isZero();
            assertThatThrownBy(() -> backendPid(app)).isInstanceOf(SQLException.class);
            assertThatThrownBy(() -> console(f.port()).close()).isInstanceOf(SQLException.class);
        } finally {
            stopProcess(p, f);
        }
    }

    @Test
    void shutdownNeedsAnAdminUser() throws Exception {
        try (ProxyUnderTest proxy = PooledProxy.start(pg, "    auth_type: scram-sha-256\n    stats_users: [scram_user]\n")) {
            Properties p = new Properties();
            p.setProperty("user", "scram_user");
            p.setProperty("password", "scrampass");
            p.setProperty("preferQueryMode", "simple");
            try (Connection stats = DriverManager.getConnection(proxy.jdbcUrl("pgbouncer"), p); Statement s = stats.createStatement()) {
                assertThatThrownBy(() -> s.execute("SHUTDOWN"))
                        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42501"));
                assertThatThrownBy(() -> s.execute("PAUSE"))
                        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42501"));
            }
            try (Connection app = scram(proxy.port())) {
                assertThat(backendPid(app)).isPositive();
            }
        }
    }
}
