package io.neurondb.tests.metrics;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * A parsed Prometheus text exposition (format 0.0.4): the samples, each with its series name,
 * labels and value. Only what the tests need: no timestamps, no exemplars.
 */
record PromText(List<Sample> samples) {

    record Sample(String name, Map<String, String> labels, double value) {
    }

    static PromText parse(String text) {
        List<Sample> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int brace = line.indexOf('{');
            int space;
            String name;
            Map<String, String> labels = new TreeMap<>();
            if (brace >= 0 && brace < line.indexOf(' ')) {
                name = line.substring(0, brace);
                int end = parseLabels(line, brace + 1, labels);
                space = end + 1;
            } else {
                space = line.indexOf(' ');
                name = line.substring(0, space);
            }
            String rest = line.substring(space).trim();
            String value = rest.split(" ")[0];
            out.add(new Sample(name, labels, Double.parseDouble(value)));
        }
        return new PromText(out);
    }

    /** Reads {@code a="x",b="y"} from {@code i}; returns the index of the closing brace. */
    private static int parseLabels(String line, int i, Map<String, String> into) {
        while (line.charAt(i) != '}') {
            int eq = line.indexOf('=', i);
            String key = line.substring(i, eq);
            StringBuilder v = new StringBuilder();
            int j = eq + 2; // past ="
            while (line.charAt(j) != '"') {
                char c = line.charAt(j);
                if (c == '\\') {
                    j++;
                    c = line.charAt(j) == 'n' ? '\n' : line.charAt(j);
                }
                v.append(c);
                j++;
            }
            into.put(key, v.toString());
            i = j + 1;
            if (line.charAt(i) == ',') {
                i++;
            }
        }
        return i;
    }

    Set<String> names() {
        return samples.stream().map(Sample::name).collect(Collectors.toCollection(java.util.TreeSet::new));
    }

    /** Samples of {@code name} whose labels include every given pair. */
    List<Sample> find(String name, String... labelPairs) {
        Map<String, String> want = new LinkedHashMap<>();
        for (int i = 0; i < labelPairs.length; i += 2) {
            want.put(labelPairs[i], labelPairs[i + 1]);
        }
        return samples.stream().filter(s -> s.name().equals(name))
                .filter(s -> s.labels().entrySet().containsAll(want.entrySet())).toList();
    }

    /** The one sample of {@code name} with these labels (among others); 0 when there is none. */
    double value(String name, String... labelPairs) {
        List<Sample> found = find(name, labelPairs);
        if (found.size() > 1) {
            throw new AssertionError("more than one series of " + name + " matches " + List.of(labelPairs) + ": " + found);
        }
        return found.isEmpty() ? 0 : found.getFirst().value();
    }

    /** The label sets of every sample of {@code name}. */
    Set<Map<String, String>> labelSets(String name) {
        return samples.stream().filter(s -> s.name().equals(name)).map(Sample::labels).collect(Collectors.toSet());
    }
}
