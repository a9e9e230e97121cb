package io.neurondb.plugin.api;

import java.util.List;

/**
 * A result a plugin answers with: column names and text-format rows (null for SQL NULL), or
 * only a command tag. Columns are sent as type text.
 */
public record TextResult(List<String> columns, List<List<String>> rows, String commandTag) {

    public TextResult {
        columns = List.copyOf(columns);
        rows = rows.stream().map(r -> java.util.Collections.unmodifiableList(new java.util.ArrayList<>(r))).toList();
    }

    public static TextResult tagOnly(String tag) {
        return new TextResult(List.of(), List.of(), tag);
    }

    /** Rows with a {@code SELECT n} tag. */
    public static TextResult rows(List<String> columns, List<List<String>> rows) {
        return new TextResult(columns, rows, "SELECT " + rows.size());
    }
}
