package io.neurondb.tests.replication;

import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.proxy.vectors.VectorDatabase;
import io.neurondb.tests.support.ProxyUnderTest;
import io.neurondb.tests.support.TestPostgres;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A PostgreSQL of the test's own (replication tests leave slots, restart and break servers),
 * one database in it with the NeuronDB catalog, and a proxy in front with replication sync on.
 */
final class ReplicaFixture implements AutoCloseable {

    /** The server the proxy is pointed at now (tests that restore a cluster swap it with {@link #replaceServer}). */
    LocalPostgres pg;
    private final java.util.List<LocalPostgres> retired = new java.util.ArrayList<>();
    final String db;
    final Path dataDir;
    final String instanceId;
    ProxyUnderTest proxy;

    /** @param settings extra server settings, {@code name=value} */
    ReplicaFixture(String name, String... settings) throws Exception {
        this.pg = TestPostgres.startPrivate(name, settings);
        this.db = "r_" + name;
        this.instanceId = "t_" + name;
        this.dataDir = Files.createTempDirectory("neurondb-repl-data-");
        try (Connection c = TestPostgres.superuser(pg); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + db);
        }
    }

    String yaml() {
        return yaml(dataDir);
    }

    /** The config of a replicating proxy with this fixture's instance id and the given data directory. */
    String yaml(Path dataDirectory) {
        return "data_dir: " + dataDirectory + "\n"
                + "instance_id: " + instanceId + "\n"
                + "replication:\n  enabled: true\n  checkpoint_interval_seconds: 1\n  status_interval_ms: 200\n";
    }

    /**
     * Points the fixture at another server on the same port (a restored or a new cluster); the
     * old one must be stopped already. Both are removed at close.
     */
    void replaceServer(LocalPostgres next) {
        retired.add(pg);
        pg = next;
    }

    ProxyUnderTest startProxy() {
        proxy = ProxyUnderTest.start(pg.port(), yaml(), List.of());
        return proxy;
    }

    /** Starts the proxy with a registry added to its meters, so a test reads what it recorded. */
    io.micrometer.core.instrument.simple.SimpleMeterRegistry startProxyRecordingMeters() {
        startProxy();
        var meters = new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
        ((io.micrometer.core.instrument.composite.CompositeMeterRegistry) proxy.proxy().meters()).add(meters);
        return meters;
    }

    void stopProxy() {
        if (proxy != null) {
            proxy.close();
            proxy = null;
        }
    }

    /** Straight to PostgreSQL, not through the proxy. */
    Connection direct() throws SQLException {
        // socketTimeout: a login to a server in shutdown can go unanswered, and holds the shutdown up while open.
        return DriverManager.getConnection(pg.jdbcUrl(db) + (pg.jdbcUrl(db).contains("?") ? "&" : "?") + "socketTimeout=10",
                TestPostgres.SUPERUSER, TestPostgres.SUPERUSER_PASSWORD);
    }

    Connection proxied() throws SQLException {
        return proxy.connectTo(db);
    }

    VectorDatabase vectors() throws Exception {
        return proxy.proxy().vectors().open(db).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    static void exec(Connection c, String... sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            for (String q : sql) {
                s.execute(q);
            }
        }
    }

    static long scalar(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static Set<Long> ids(Connection c, String sql) throws SQLException {
        Set<Long> out = new HashSet<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getLong(1));
            }
        }
        return out;
    }

    /** Polls {@code condition} until it holds or {@code timeout} passes; fails with {@code what}. */
    static void await(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for: " + what);
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    /** Whether the engine index holds exactly {@code expected}. */
    static boolean holdsExactly(VectorDatabase v, String index, Set<Long> expected) {
        if (v.rows("public", index) != expected.size()) {
            return false;
        }
        for (long id : expected) {
            if (!v.holds("public", index, id)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void close() {
        stopProxy();
        if (System.getenv("NEURONDB_KEEP_PG_LOG") != null) {
            try {
                System.err.println(java.nio.file.Files.readString(pg.dataDir().resolve("server.log")));
            } catch (java.io.IOException ignored) {
                // debugging aid only
            }
        }
        pg.destroy();
        LocalPostgres.deleteTree(pg.dataDir().getParent());
        for (LocalPostgres old : retired) {
            old.destroy();
            LocalPostgres.deleteTree(old.dataDir().getParent());
        }
        LocalPostgres.deleteTree(dataDir);
    }
}
