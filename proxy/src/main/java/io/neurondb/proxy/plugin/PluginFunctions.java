package io.neurondb.proxy.plugin;

import io.neurondb.plugin.api.SqlFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/** The {@code neurondb.*} functions plugins answer, by name. */
public final class PluginFunctions {

    private static final Logger log = LoggerFactory.getLogger(PluginFunctions.class);

    public static final PluginFunctions NONE = new PluginFunctions(List.of());

    private final Map<String, SqlFunction> byName = new TreeMap<>();

    public PluginFunctions(List<SqlFunction> functions) {
        for (SqlFunction f : functions) {
            String name = f.name().toLowerCase(Locale.ROOT);
            SqlFunction earlier = byName.putIfAbsent(name, f);
            if (earlier != null) {
                log.error("event=plugin_function_duplicate name=neurondb.{} kept={} ignored={}", name,
                        earlier.getClass().getName(), f.getClass().getName());
            }
        }
    }

    /** The function called {@code neurondb.<name>}, or null when no plugin answers it. */
    public SqlFunction find(String name) {
        return byName.get(name.toLowerCase(Locale.ROOT));
    }

    public List<String> names() {
        return List.copyOf(byName.keySet());
    }
}
