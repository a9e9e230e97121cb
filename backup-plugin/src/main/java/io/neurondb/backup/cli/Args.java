package io.neurondb.backup.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Command-line words split into positional words and {@code --option value} pairs; unknown options refused. */
record Args(List<String> positional, Map<String, String> options) {

    static Args parse(List<String> args, Set<String> known) {
        List<String> pos = new ArrayList<>();
        Map<String, String> opts = new LinkedHashMap<>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.startsWith("--")) {
                String name = a.substring(2);
                String value = null;
                int eq = name.indexOf('=');
                if (eq >= 0) {
                    value = name.substring(eq + 1);
                    name = name.substring(0, eq);
                }
                if (!known.contains(name)) {
                    throw new IllegalArgumentException("unknown option --" + name + "; options: " + known.stream().sorted().map(k -> "--" + k).toList());
                }
                if (value == null) {
                    if (i + 1 >= args.size()) {
                        throw new IllegalArgumentException("--" + name + " needs a value");
                    }
                    value = args.get(++i);
                }
                opts.put(name, value);
            } else {
                pos.add(a);
            }
        }
        return new Args(pos, opts);
    }

    String option(String name) {
        return options.get(name);
    }
}
