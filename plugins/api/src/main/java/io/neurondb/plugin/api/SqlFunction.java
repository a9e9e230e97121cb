package io.neurondb.plugin.api;

import org.pf4j.ExtensionPoint;

import java.util.List;

/**
 * A function in the {@code neurondb} schema that a plugin answers, such as
 * {@code neurondb.backup_now('logical')} or {@code neurondb.slow_query_summary()}. The proxy
 * recognises {@code SELECT neurondb.f(...)} and {@code SELECT * FROM neurondb.f(...)} with
 * constant or bound arguments and answers them without the server.
 */
public interface SqlFunction extends ExtensionPoint {

    /** The function's name in the neurondb schema, lower case, e.g. {@code "backup_now"}. */
    String name();

    /**
     * The result's column names (all of type text), fixed for the function: clients using the
     * extended protocol learn a statement's row description before it runs.
     */
    List<String> columns();

    /**
     * Runs the call. Called on a worker thread; may block. The result's columns must be
     * {@link #columns()}.
     *
     * @param arguments the arguments as text, null for SQL NULL
     * @throws SqlFunctionException to report an error to the client with a SQLSTATE
     */
    TextResult call(List<String> arguments, Caller caller) throws Exception;

    /**
     * Who is calling.
     *
     * @param superuser the server's {@code is_superuser} for the session's login
     */
    record Caller(long connectionId, String database, String user, boolean superuser) {
    }
}
