package io.neurondb.plugin.api;

import org.pf4j.ExtensionPoint;

import java.io.PrintStream;
import java.util.List;

/**
 * A subcommand of {@code bin/neurondb-proxy} that a plugin provides, such as
 * {@code neurondb-proxy backup logical}. The launcher loads the plugins, picks the command whose
 * {@link #name()} is the first argument and runs it in a process that serves no clients: the
 * context has the plugin's settings, the upstream login, the data directory and a Vert.x of its
 * own, but its plugin services are not started, {@code status().indexes()} is empty and
 * {@code meterRegistry()} is exported nowhere.
 */
public interface CliCommand extends ExtensionPoint {

    /** The first command-line word, lower case, e.g. {@code "backup"}. */
    String name();

    /** Help text: one or more lines starting with the command line, e.g. {@code "backup logical|physical"}. */
    String usage();

    /**
     * Runs the command; output for the operator goes to {@code out}, problems to {@code err}.
     *
     * @param args the words after {@link #name()}
     * @return the process exit code: 0 success, 1 the work failed, 2 bad usage or input
     */
    int run(List<String> args, PluginContext context, PrintStream out, PrintStream err) throws Exception;
}
