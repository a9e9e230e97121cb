package io.neurondb.proxy.session;

import io.neurondb.plugin.api.SqlFunction;
import io.neurondb.plugin.api.SqlFunctionException;
import io.neurondb.plugin.api.TextResult;
import io.neurondb.proxy.protocol.ErrorFields;
import io.neurondb.proxy.protocol.SqlState;
import io.neurondb.proxy.route.ProxyCommand.CallPluginFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/** Turns a plugin function call into the function's arguments, and its answer into rows or an error. */
final class PluginCalls {

    private static final Logger log = LoggerFactory.getLogger(PluginCalls.class);

    private PluginCalls() {
    }

    /**
     * The call's arguments as text: constants as written, {@code $n} from the Bind.
     *
     * @param bound the Bind's values, null in a simple query
     */
    static List<String> arguments(CallPluginFunction call, List<String> bound) {
        List<String> out = new ArrayList<>(call.arguments().size());
        for (CallPluginFunction.Argument a : call.arguments()) {
            switch (a) {
                case CallPluginFunction.Constant c -> out.add(c.text());
                case CallPluginFunction.Parameter p -> {
                    if (bound == null || p.index() < 1 || p.index() > bound.size()) {
                        throw new SqlFunctionException("42P02", "there is no parameter $" + p.index());
                    }
                    out.add(bound.get(p.index() - 1));
                }
            }
        }
        return out;
    }

    /** The {@code $n} types a Describe reports: as the Parse declared them, else text. */
    static int[] parameterTypes(CallPluginFunction call, int[] declared) {
        int count = 0;
        for (CallPluginFunction.Argument a : call.arguments()) {
            if (a instanceof CallPluginFunction.Parameter p) {
                count = Math.max(count, p.index());
            }
        }
        int[] types = new int[count];
        for (int i = 0; i < count; i++) {
            types[i] = declared != null && i < declared.length && declared[i] != 0 ? declared[i] : TEXT_OID;
        }
        return types;
    }

    private static final int TEXT_OID = 25;

    /** The result's columns: the function's, or the select-list alias for a one-column function. */
    static List<LocalResults.Column> columns(CallPluginFunction call, SqlFunction function) {
        List<String> names = function.columns();
        if (call.columnAlias() != null && names.size() == 1) {
            names = List.of(call.columnAlias());
        }
        return names.stream().map(LocalResults.Column::text).toList();
    }

    /** The function's answer as rows; a row of the wrong width is the plugin's bug, reported as an error. */
    static LocalResults rows(CallPluginFunction call, SqlFunction function, TextResult result) {
        List<LocalResults.Column> columns = columns(call, function);
        LocalResults rows = LocalResults.select(columns);
        for (List<String> row : result.rows()) {
            if (row.size() != columns.size()) {
                throw new IllegalStateException("neurondb." + call.name() + "() returned a row of " + row.size()
                        + " values for " + columns.size() + " columns");
            }
            rows.row(row.toArray());
        }
        return rows;
    }

    static ErrorFields error(CallPluginFunction call, Throwable cause) {
        if (cause instanceof SqlFunctionException e) {
            return ErrorFields.error(e.sqlState(), e.getMessage());
        }
        log.warn("event=plugin_function_failed function=neurondb.{} error=\"{}\"", call.name(), cause.toString());
        return ErrorFields.error(SqlState.INTERNAL_ERROR, "neurondb." + call.name() + "() failed: "
                + (cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage()));
    }
}
