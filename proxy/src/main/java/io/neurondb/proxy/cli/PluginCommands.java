package io.neurondb.proxy.cli;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.neurondb.plugin.api.CliCommand;
import io.neurondb.plugin.api.UpstreamServer;
import io.neurondb.proxy.config.ProxyConfig;
import io.neurondb.proxy.config.UpstreamUrl;
import io.neurondb.proxy.plugin.HostPluginContext;
import io.neurondb.proxy.plugin.HostStatus;
import io.neurondb.proxy.plugin.PluginHost;
import io.vertx.core.Vertx;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Runs a plugin's {@link CliCommand} ({@code neurondb-proxy backup ...}): loads the plugins from
 * the configured folder, finds the command by name and runs it with a context like the one a
 * running proxy gives the plugin, without serving clients or starting plugin services.
 */
final class PluginCommands {

    private PluginCommands() {
    }

    /** @return the exit code; 2 when no plugin provides {@code name} */
    static int run(ProxyConfig config, String name, List<String> args, PrintStream out, PrintStream err) {
        try (PluginHost plugins = PluginHost.load(config.pluginsDir())) {
            List<CliCommand> commands = plugins.extensions(CliCommand.class);
            CliCommand command = commands.stream().filter(c -> c.name().equals(name)).findFirst().orElse(null);
            if (command == null) {
                err.println("neurondb-proxy: unknown command '" + name + "'"
                        + (commands.isEmpty() ? " (no plugin in " + config.pluginsDir() + " provides commands)"
                        : "; plugin commands: " + commands.stream().map(CliCommand::name).sorted().toList()) + " (see --help)");
                return 2;
            }
            if (args.contains("--help") || args.contains("-h")) {
                out.println(command.usage());
                return 0;
            }
            UpstreamUrl u;
            try {
                u = config.embeddedUpstream() ? runningLocalPostgres(config) : config.upstream();
            } catch (IllegalStateException e) {
                err.println("neurondb-proxy: " + e.getMessage());
                return 2;
            }
            UpstreamServer upstream = new UpstreamServer(u.host(), u.port(), u.database(), u.user(), u.password(),
                    config.tls().upstreamMode().name().toLowerCase(Locale.ROOT).replace('_', '-'),
                    config.tls().upstreamCaFile() == null ? null : config.tls().upstreamCaFile().toString());
            Vertx vertx = Vertx.vertx();
            try {
                HostStatus status = new HostStatus(vertx, u, null, (int) config.connectTimeout().toMillis());
                String id = plugins.pluginIdOf(command);
                return command.run(List.copyOf(args), new HostPluginContext(id, config.pluginSettings(id), System.getenv(), vertx,
                        upstream, config.dataDir(), 0, new SimpleMeterRegistry(), status), out, err);
            } catch (Exception e) {
                err.println("neurondb-proxy " + name + ": " + (e.getMessage() == null ? e.toString() : e.getMessage()));
                return 1;
            } finally {
                try {
                    vertx.close().await(10, TimeUnit.SECONDS);
                } catch (Exception e) {
                    // exiting anyway
                }
            }
        }
    }

    /** Without an upstream the proxy runs a local PostgreSQL; commands talk to it while it runs. */
    private static UpstreamUrl runningLocalPostgres(ProxyConfig config) {
        Path pid = config.dataDir().resolve("postgres").resolve("postmaster.pid");
        try {
            List<String> lines = Files.readAllLines(pid, StandardCharsets.UTF_8);
            int port = Integer.parseInt(lines.get(3).trim());
            return new UpstreamUrl("127.0.0.1", port, "postgres", "postgres", "postgres");
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("no upstream is configured and the local PostgreSQL (" + pid.getParent()
                    + ") is not running: start the proxy first, or set upstream / NEURONDB_UPSTREAM");
        }
    }
}
