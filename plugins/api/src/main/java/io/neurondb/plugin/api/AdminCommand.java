package io.neurondb.plugin.api;

import org.pf4j.ExtensionPoint;

/**
 * A command of the admin console (the virtual database {@code neurondb} or {@code pgbouncer}),
 * such as {@code SHOW POOLS}. Matching is by the command's leading words, compared
 * case-insensitively after whitespace is collapsed. Functions called from ordinary sessions
 * are {@link SqlFunction}s instead.
 */
public interface AdminCommand extends ExtensionPoint {

    /** Leading words this command answers, e.g. {@code "SHOW POOLS"}. */
    String prefix();

    /** Runs the command. Called on a worker thread; may block. */
    TextResult execute(String commandText, String user);
}
