package io.neurondb.proxy.cli;

import io.neurondb.proxy.NeuronDbProxy;
import io.neurondb.proxy.config.ConfigException;
import io.neurondb.proxy.config.ConfigLoader;
import io.neurondb.proxy.config.ProxyConfig;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/** {@code bin/neurondb-proxy}: parses the command line, loads the config, runs the proxy. */
public final class Main {

    static final String HELP = """
            Usage: neurondb-proxy [--config FILE] [--drop-replication-slot] [--help] [--version]
                   neurondb-proxy [--config FILE] COMMAND [ARGS...]   (a plugin's command, see below)

            Runs the NeuronDB proxy: point PostgreSQL clients at it instead of the server.
            With no upstream configured it starts a local PostgreSQL from the system's
            binaries (data under the data directory) and proxies to that.

            Signals: SIGHUP re-reads log_level and log_format from the configuration file.

            Options:
              --config FILE   configuration file (default: $NEURONDB_HOME/conf/neurondb.yaml)
              --drop-replication-slot
                              retire this instance (instance_id): drop its logical slot and
                              publication in every database of the server and its local
                              checkpoints, then exit; refused while the instance still runs
              --help          print this help and exit
              --version       print the version and exit

            Commands provided by plugins (each takes --help):
              backup logical|physical|wal   take a backup now (backup plugin)
              restore logical|physical      restore a backup into a new database / data directory
              backups list                  the backups in the repository and the catalog

            Environment (overrides the file):
              NEURONDB_CONFIG        configuration file path
              NEURONDB_LISTEN        address to accept clients on, host:port (default 127.0.0.1:6432)
              NEURONDB_UPSTREAM      server URL, postgresql://user:password@host:port/database
                                     (empty: start a local PostgreSQL)
              NEURONDB_METRICS_PORT  metrics/admin HTTP port; 0 turns it off (default 9187)
              NEURONDB_DATA_DIR      data directory: checkpoints, local PostgreSQL (default data)
              NEURONDB_INSTANCE_ID   names this proxy's replication slots and publication (default 'default')
              NEURONDB_PLUGINS_DIR   folder of plugin JARs loaded at start (default plugins.d)
              NEURONDB_LOG_FORMAT    text (key=value) or json log lines (default text)
              NEURONDB_HOME          base for relative paths (bin/neurondb-proxy sets it)
              JAVA_HOME              JDK 25 or newer to run with
            """;

    private Main() {
    }

    public static void main(String[] args) {
        int code = runCommand(args, System.out, System.err);
        if (code >= 0) {
            System.exit(code);
        }
        serve(args);
    }

    /**
     * Runs a plugin command ({@code [--config FILE] NAME ARGS...}) and returns its exit code, or
     * -1 when the arguments name no command (the caller serves instead).
     */
    public static int runCommand(String[] args, java.io.PrintStream out, java.io.PrintStream err) {
        Path configFile = null;
        int i = 0;
        if (args.length >= 2 && args[0].equals("--config")) {
            configFile = Path.of(args[1]);
            i = 2;
        }
        if (i >= args.length || args[i].startsWith("-")) {
            return -1;
        }
        ConfigLoader loader = ConfigLoader.fromSystem();
        ProxyConfig config;
        try {
            config = loader.load(configFile != null ? configFile : loader.defaultConfigPath());
        } catch (ConfigException e) {
            err.println("neurondb-proxy: configuration error: " + e.getMessage());
            return 2;
        }
        LogLevels.applyRootLevel(config.logLevel());
        return PluginCommands.run(config, args[i], java.util.List.of(args).subList(i + 1, args.length), out, err);
    }

    private static void serve(String[] args) {
        Path configFile = null;
        boolean dropReplication = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--help", "-h" -> {
                    System.out.print(HELP);
                    return;
                }
                case "--version" -> {
                    System.out.println("neurondb-proxy " + version());
                    return;
                }
                case "--config" -> {
                    if (i + 1 >= args.length) {
                        exit("--config needs a file name");
                    }
                    configFile = Path.of(args[++i]);
                }
                case "--drop-replication-slot" -> dropReplication = true;
                default -> exit("unknown argument '" + args[i] + "' (see --help)");
            }
        }
        ConfigLoader loader = ConfigLoader.fromSystem();
        ProxyConfig config;
        try {
            config = loader.load(configFile != null ? configFile : loader.defaultConfigPath());
        } catch (ConfigException e) {
            exit("configuration error: " + e.getMessage());
            return;
        }
        ConfigReload.apply(config);
        if (dropReplication) {
            dropReplication(config);
            return;
        }
        NeuronDbProxy proxy;
        try {
            proxy = NeuronDbProxy.start(config);
        } catch (RuntimeException e) {
            exit("could not start: " + e.getMessage());
            return;
        }
        // kill -HUP <pid> (or a console's RELOAD) re-reads log_level, log_format and the plugins'
        // sections from the same file.
        ConfigReload reload = new ConfigReload(loader, configFile != null ? configFile : loader.defaultConfigPath(),
                proxy::reloadPlugins);
        reload.installOnSighup();
        proxy.onReloadRequest(reload::reload);
        // A console's SHUTDOWN stops the process, as PgBouncer's does; the shutdown hook below closes the proxy.
        proxy.onShutdownRequest(() -> new Thread(() -> System.exit(0), "neurondb-requested-shutdown").start());
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            proxy.close();
            stopped.countDown();
        }, "neurondb-shutdown"));
        ProxyConfig running = proxy.config();
        String user = running.upstream().user() == null ? "postgres" : running.upstream().user();
        String db = running.upstream().database() == null ? user : running.upstream().database();
        if ("json".equals(running.logFormat())) {
            // Machine-read output: one log event, not the lines for a person at a terminal.
            org.slf4j.LoggerFactory.getLogger(Main.class).info("event=proxy_started version={} listen={} upstream=\"{}\"",
                    version(), running.listen(), running.upstream());
        } else {
            System.out.println("NeuronDB proxy " + version() + " listening on " + running.listen()
                    + ", upstream " + running.upstream());
            System.out.println("Connect with: psql -h " + running.listen().host() + " -p " + running.listen().port()
                    + " -U " + user + " " + db);
        }
        if (proxy.localPostgres() != null && !"json".equals(running.logFormat())) {
            System.out.println("(local PostgreSQL in " + proxy.localPostgres().dataDir() + ", user postgres, password "
                    + "as set in that cluster; the default for a new one is 'postgres')");
        }
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void dropReplication(ProxyConfig config) {
        if (config.embeddedUpstream()) {
            exit("--drop-replication-slot needs an upstream server in the configuration");
        }
        try {
            var done = io.neurondb.proxy.replication.ReplicationRetirement.retire(config.upstream(), config.tls(),
                    config.replication(), config.dataDir());
            if (done.isEmpty()) {
                System.out.println("nothing to drop for instance '" + config.replication().instanceId() + "'");
            }
            done.forEach(System.out::println);
        } catch (Exception e) {
            exit("could not drop the replication objects: " + e.getMessage());
        }
    }

    static String version() {
        String v = Main.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    private static void exit(String message) {
        System.err.println("neurondb-proxy: " + message);
        System.exit(2);
    }
}
