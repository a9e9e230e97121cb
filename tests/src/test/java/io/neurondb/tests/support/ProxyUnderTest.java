package io.neurondb.tests.support;

import io.neurondb.plugin.api.StatementObserver;
import io.neurondb.proxy.NeuronDbProxy;
import io.neurondb.proxy.config.ConfigLoader;
import io.neurondb.proxy.config.ProxyConfig;
import io.neurondb.proxy.embedded.LocalPostgres;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/** A proxy started in-process in front of a test PostgreSQL, on a free loopback port. */
public final class ProxyUnderTest implements AutoCloseable {

    private final NeuronDbProxy proxy;
    private final int port;
    private final Path home;

    private ProxyUnderTest(NeuronDbProxy proxy, int port, Path home) {
        this.proxy = proxy;
        this.port = port;
        this.home = home;
    }

    public static ProxyUnderTest start(LocalPostgres pg) {
        return start(pg.port(), "", List.of());
    }

    /**
     * @param upstreamPort where the proxy sends clients (a closed port tests unreachable servers)
     * @param extraYaml    more config keys, as YAML; {@code metrics_port} there replaces the default 0 (off),
     *                     a {@code replication:} section the default {@code enabled: false}; without
     *                     replication enabled, databases are opened at their first client unless the
     *                     yaml sets {@code open_indexed_databases_at_start}
     */
    public static ProxyUnderTest start(int upstreamPort, String extraYaml, List<StatementObserver> observers) {
        return start(upstreamPort, extraYaml, observers, null);
    }

    public static ProxyUnderTest start(int upstreamPort, String extraYaml, List<StatementObserver> observers, Path pluginsDir) {
        try {
            Path home = Files.createTempDirectory("neurondb-test-proxy-");
            int port = LocalPostgres.freePort();
            String yaml = "listen: 127.0.0.1:" + port + "\n"
                    + "upstream: postgresql://postgres:postgres@127.0.0.1:" + upstreamPort + "/postgres\n"
                    + (extraYaml.contains("metrics_port:") ? "" : "metrics_port: 0\n")
                    // Replication sync leaves a slot per database, which blocks DROP DATABASE in other
                    // suites' clean-up: only tests that ask for it (a replication: section) get it.
                    + (extraYaml.contains("replication:") ? "" : "replication:\n  enabled: false\n")
                    // The shared server holds many suites' databases with indexes: opening them all
                    // at every start would build other suites' indexes. Replication tests (private
                    // servers) and tests that say so get the production default.
                    + (extraYaml.contains("open_indexed_databases_at_start:") || extraYaml.contains("replication:\n  enabled: true")
                            ? "" : "open_indexed_databases_at_start: false\n")
                    + (extraYaml.contains("event_loops:") ? "" : "event_loops: 2\n")
                    + "connect_timeout_ms: 2000\n"
                    + (pluginsDir != null ? "plugins_dir: " + pluginsDir + "\n" : "")
                    + extraYaml;
            ProxyConfig config = new ConfigLoader(Map.of(), home).loadFromString(yaml);
            return new ProxyUnderTest(NeuronDbProxy.start(config, observers), port, home);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public int port() {
        return port;
    }

    public NeuronDbProxy proxy() {
        return proxy;
    }

    public String jdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    public Connection connect(String user, String password) throws SQLException {
        return connect(user, password, new Properties());
    }

    public Connection connect(String user, String password, Properties extra) throws SQLException {
        Properties p = new Properties();
        p.putAll(extra);
        p.setProperty("user", user);
        if (password != null) {
            p.setProperty("password", password);
        }
        return DriverManager.getConnection(jdbcUrl("postgres"), p);
    }

    /** The superuser through the proxy, to {@code database}. */
    public Connection connectTo(String database) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", TestPostgres.SUPERUSER);
        p.setProperty("password", TestPostgres.SUPERUSER_PASSWORD);
        return DriverManager.getConnection(jdbcUrl(database), p);
    }

    /** The superuser through the proxy. */
    public Connection connect() throws SQLException {
        return connect(TestPostgres.SUPERUSER, TestPostgres.SUPERUSER_PASSWORD);
    }

    @Override
    public void close() {
        proxy.close();
        LocalPostgres.deleteTree(home);
    }
}
