package io.neurondb.proxy.route;

import java.util.Map;

/**
 * One engine index as recorded in {@code neurondb.indexes}.
 *
 * @param schema     the index's schema (the table's)
 * @param table      the indexed table, schema-qualified
 * @param keyColumn  the table's single-column integer primary key: the row id in the engine
 * @param options    {@code m}, {@code ef_construction} or {@code lists}, as given in WITH (...)
 */
public record IndexDefinition(String schema, String name, TableName table, String column, String keyColumn,
                              IndexMethod method, DistanceOperator operator, Map<String, Integer> options) {

    public IndexDefinition {
        options = Map.copyOf(options);
    }

    public String qualifiedName() {
        return schema + "." + name;
    }
}
