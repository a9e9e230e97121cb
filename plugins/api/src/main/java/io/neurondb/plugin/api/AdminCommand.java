package io.neurondb.plugin.api;

import org.pf4j.ExtensionPoint;

import java.util.List;

/**
 * A command the proxy answers itself, such as {@code SHOW POOLS} on the admin console or
 * {@code SELECT neurondb.backup_now('logical')}. Matching is by the command's leading words,
 * compared case-insensitively after whitespace is collapsed.
 */
public interface AdminCommand extends ExtensionPoint {

    /** Leading words this command answers, e.g. {@code "SHOW POOLS"}. */
    String prefix();

    /** Runs the command. Called on a worker thread; may block. */
    Result execute(String commandText, String user);

    /** A result set: column names and text-format rows, or just a command tag. */
    record Result(List<String> columns, List<List<String>> rows, String commandTag) {
        public static Result tagOnly(String tag) {
            return new Result(List.of(), List.of(), tag);
        }
    }
}
