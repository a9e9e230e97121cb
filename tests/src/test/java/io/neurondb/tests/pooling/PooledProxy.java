package io.neurondb.tests.pooling;

import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.tests.support.PluginJars;
import io.neurondb.tests.support.ProxyUnderTest;
import io.neurondb.tests.support.TestPostgres;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Properties;

/** A proxy with the pooling plugin in front of a test PostgreSQL, and an auth file for the test roles. */
final class PooledProxy {

    static final String AUTH_FILE_TEXT = """
            ; PgBouncer-format auth file for the test roles
            "postgres" "postgres"
            "scram_user" "scrampass"
            "md5_user" "md5pass"
            "trust_user" ""
            """;

    private PooledProxy() {
    }

    static Path authFile() {
        return authFile(AUTH_FILE_TEXT);
    }

    static Path authFile(String text) {
        try {
            Path f = Files.createTempFile("neurondb-pool-auth-", ".txt");
            Files.writeString(f, text);
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code settings}: extra lines under {@code plugins: pooling:} (indented by 4). */
    static ProxyUnderTest start(LocalPostgres pg, String settings) {
        String yaml = "plugins:\n  pooling:\n    enabled: true\n    auth_file: " + authFile() + "\n    admin_users: [postgres]\n" + settings;
        return ProxyUnderTest.start(pg.port(), yaml, List.of(), PluginJars.directoryWith("pooling"));
    }

    /** With an auth file of the caller's ({@code authText}, PgBouncer format) instead of the test roles'. */
    static ProxyUnderTest startWithAuthFile(LocalPostgres pg, String authText, String settings) {
        String yaml = "plugins:\n  pooling:\n    enabled: true\n    auth_file: " + authFile(authText) + "\n    admin_users: [postgres]\n" + settings;
        return ProxyUnderTest.start(pg.port(), yaml, List.of(), PluginJars.directoryWith("pooling"));
    }

    /** Like {@link #start(LocalPostgres, String)} with plugins besides pooling (e.g. "metrics") and extra top-level YAML. */
    static ProxyUnderTest start(LocalPostgres pg, String settings, String topLevelYaml, String... otherPlugins) {
        String yaml = topLevelYaml + "plugins:\n  pooling:\n    enabled: true\n    auth_file: " + authFile() + "\n    admin_users: [postgres]\n" + settings;
        String[] ids = new String[otherPlugins.length + 1];
        ids[0] = "pooling";
        System.arraycopy(otherPlugins, 0, ids, 1, otherPlugins.length);
        return ProxyUnderTest.start(pg.port(), yaml, List.of(), PluginJars.directoryWith(ids));
    }

    /** A fresh database {@code name} on {@code pg} with pgbench's tables at scale 1. */
    static void pgbenchDatabase(LocalPostgres pg, String name) throws Exception {
        try (Connection c = TestPostgres.superuser(pg); java.sql.Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + name);
            s.execute("CREATE DATABASE " + name);
        }
        io.neurondb.tests.support.Tool.Result init = io.neurondb.tests.support.Tool.run(PG_BIN, "pgbench", PGBENCH_ENV, null,
                List.of("-i", "-s", "1", "-q", "-h", "127.0.0.1", "-p", Integer.toString(pg.port()), "-U", "postgres", name));
        if (init.exitCode() != 0) {
            throw new AssertionError("pgbench -i failed: " + init.output());
        }
    }

    static final Path PG_BIN = Path.of("/usr/lib/postgresql/15/bin");
    /** pgbench's environment for the server's superuser. */
    static final java.util.Map<String, String> PGBENCH_ENV = java.util.Map.of("PGPASSWORD", TestPostgres.SUPERUSER_PASSWORD);

    static Connection connect(ProxyUnderTest proxy, String database, String user, String password, Properties extra) throws SQLException {
        Properties p = new Properties();
        p.putAll(extra);
        p.setProperty("user", user);
        p.setProperty("password", password);
        return DriverManager.getConnection(proxy.jdbcUrl(database), p);
    }

    /** The admin console (virtual database pgbouncer) as postgres, in simple query mode. */
    static Connection console(ProxyUnderTest proxy) throws SQLException {
        Properties simple = new Properties();
        simple.setProperty("preferQueryMode", "simple");
        return connect(proxy, "pgbouncer", "postgres", "postgres", simple);
    }

    /** The SHOW POOLS row of (database, user) as column name to value; empty when the pool does not exist. */
    static java.util.Map<String, String> poolRow(Connection console, String database, String user) throws SQLException {
        java.util.Map<String, String> row = new java.util.HashMap<>();
        try (Statement s = console.createStatement(); ResultSet r = s.executeQuery("SHOW POOLS")) {
            while (r.next()) {
                if (r.getString("database").equals(database) && r.getString("user").equals(user)) {
                    for (int i = 1; i <= r.getMetaData().getColumnCount(); i++) {
                        row.put(r.getMetaData().getColumnName(i), r.getString(i));
                    }
                }
            }
        }
        return row;
    }

    /** Polls until {@code condition} holds, failing after 30 s. */
    static void await(String what, Check condition) throws Exception {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
        while (!condition.holds()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(50);
        }
    }

    /** A condition that may throw (a query). */
    interface Check {
        boolean holds() throws Exception;
    }

    /** Backend pids of the given role's client connections, seen directly on the server. */
    static List<Integer> serverPids(LocalPostgres pg, String user) throws SQLException {
        try (Connection c = TestPostgres.superuser(pg); Statement s = c.createStatement();
             ResultSet r = s.executeQuery("SELECT pid FROM pg_stat_activity WHERE usename = '" + user + "' AND backend_type = 'client backend' ORDER BY pid")) {
            List<Integer> pids = new java.util.ArrayList<>();
            while (r.next()) {
                pids.add(r.getInt(1));
            }
            return pids;
        }
    }

    /** Whether a backend with this pid still exists on the server. */
    static boolean backendAlive(LocalPostgres pg, int pid) throws SQLException {
        try (Connection c = TestPostgres.superuser(pg); Statement s = c.createStatement();
             ResultSet r = s.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE pid = " + pid)) {
            r.next();
            return r.getInt(1) > 0;
        }
    }

    /** The server backend pid the connection's current transaction runs on. */
    static int backendPid(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT pg_backend_pid()")) {
            r.next();
            return r.getInt(1);
        }
    }

    /** Server connections the given role has open, seen directly on the server. */
    static int serverConnections(LocalPostgres pg, String user) throws SQLException {
        try (Connection c = TestPostgres.superuser(pg); Statement s = c.createStatement();
             ResultSet r = s.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE usename = '" + user + "' AND backend_type = 'client backend'")) {
            r.next();
            return r.getInt(1);
        }
    }
}
