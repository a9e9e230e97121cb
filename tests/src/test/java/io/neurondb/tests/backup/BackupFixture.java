package io.neurondb.tests.backup;

import io.neurondb.proxy.NeuronDbProxy;
import io.neurondb.proxy.cli.Main;
import io.neurondb.proxy.config.ConfigLoader;
import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.tests.support.PluginJars;
import io.neurondb.tests.support.TestPostgres;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.BooleanSupplier;

/**
 * A private PostgreSQL, the proxy in front of it with the built backup plugin loaded, and the same
 * configuration written to a file for {@code neurondb-proxy} commands run in-process.
 */
final class BackupFixture implements AutoCloseable {

    final LocalPostgres pg;
    final Path work;
    final Path repository;
    final Path offsite;
    final int proxyPort;
    final Path configFile;
    /** repository, offsite and proxy_address lines, for configurations of a test's own. */
    final String baseYaml;
    final String backupYaml;
    NeuronDbProxy proxy;

    /** Whether the proxy runs replication sync (the production default); most backup tests turn it off. */
    private final boolean replication;

    /** @param backupSettings YAML lines under {@code plugins: backup:}, indented by four spaces */
    BackupFixture(String name, String backupSettings, String... pgSettings) throws IOException {
        this(name, false, backupSettings, pgSettings);
    }

    BackupFixture(String name, boolean replication, String backupSettings, String... pgSettings) throws IOException {
        this.replication = replication;
        pg = TestPostgres.startPrivate(name, pgSettings);
        work = Files.createTempDirectory("neurondb-test-backup-" + name + "-");
        // restored data directories live here and are served by the postgres OS user when we are root
        work.toFile().setExecutable(true, false);
        repository = work.resolve("repo");
        offsite = work.resolve("offsite");
        proxyPort = LocalPostgres.freePort();
        baseYaml = "    repository: " + repository + "\n"
                + "    offsite: " + offsite + "\n"
                + "    proxy_address: 127.0.0.1:" + proxyPort + "\n";
        backupYaml = baseYaml + backupSettings;
        configFile = writeConfig("neurondb.yaml", backupYaml);
    }

    /** A configuration file for the same servers with other backup settings (bad-input cases). */
    Path writeConfig(String fileName, String backupSettings) throws IOException {
        Path plugins = PluginJars.directoryWith("backup");
        String yaml = "listen: 127.0.0.1:" + proxyPort + "\n"
                + "upstream: postgresql://postgres:postgres@127.0.0.1:" + pg.port() + "/postgres\n"
                + "metrics_port: 0\n"
                + "event_loops: 2\n"
                + "connect_timeout_ms: 2000\n"
                + "data_dir: " + work.resolve("data") + "\n"
                + "plugins_dir: " + plugins + "\n"
                // Most of these tests drop databases straight on the server, which PostgreSQL
                // refuses while the proxy streams from a slot on them: replication is off unless
                // the test asks (drops through the proxy and the plugin's own drops release it).
                + "replication:\n  enabled: " + replication + "\n"
                + "plugins:\n  backup:\n" + backupSettings;
        return Files.writeString(work.resolve(fileName), yaml);
    }

    void startProxy() throws IOException {
        proxy = NeuronDbProxy.start(new ConfigLoader(Map.of(), work).loadFromString(Files.readString(configFile)), List.of());
        if (!proxy.plugins().startedPluginIds().contains("backup")) {
            throw new IllegalStateException("the backup plugin did not start; see the log");
        }
    }

    Connection viaProxy(String database) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + proxyPort + "/" + database, login());
    }

    Connection direct(String database) throws SQLException {
        return DriverManager.getConnection(pg.jdbcUrl(database), login());
    }

    private static Properties login() {
        Properties p = new Properties();
        p.setProperty("user", TestPostgres.SUPERUSER);
        p.setProperty("password", TestPostgres.SUPERUSER_PASSWORD);
        return p;
    }

    /** What {@code neurondb-proxy --config FILE args...} printed and returned. */
    record CliResult(int code, String out, String err) {
    }

    CliResult cli(Path config, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        String[] full = new String[args.length + 2];
        full[0] = "--config";
        full[1] = config.toString();
        System.arraycopy(args, 0, full, 2, args.length);
        int code = Main.runCommand(full, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new CliResult(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    CliResult cli(String... args) {
        return cli(configFile, args);
    }

    static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        Instant deadline = Instant.now().plus(timeout);
        while (!condition.getAsBoolean()) {
            if (Instant.now().isAfter(deadline)) {
                throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what);
            }
            Thread.sleep(50);
        }
    }

    @Override
    public void close() {
        if (proxy != null) {
            proxy.close();
        }
        pg.destroy();
        LocalPostgres.deleteTree(pg.dataDir().getParent());
        LocalPostgres.deleteTree(work);
    }
}
