package io.neurondb.proxy.route;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the proxy knows of one database's vector objects: the tables holding vector columns,
 * and the engine indexes. An immutable snapshot; a new one replaces it when the catalog
 * changes, and {@link #version()} tells cached plans apart.
 */
public record VectorCatalog(long version, List<Table> tables, List<IndexDefinition> indexes) {

    public static final VectorCatalog EMPTY = new VectorCatalog(0, List.of(), List.of());

    public VectorCatalog {
        tables = List.copyOf(tables);
        indexes = List.copyOf(indexes);
    }

    /**
     * A table with at least one vector column.
     *
     * @param oid          the table's pg_class OID
     * @param columns      every live column in attribute order (COPY without a column list needs it)
     * @param vectorDims   vector column name to its dimension count (null when the column is {@code vector} without n)
     * @param vectorAttnums vector column name to its attribute number (results carry table OID + attnum)
     */
    public record Table(String schema, String name, int oid, List<String> columns,
                        Map<String, Integer> vectorDims, Map<String, Integer> vectorAttnums) {
        public Table {
            columns = List.copyOf(columns);
            vectorDims = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(vectorDims));
            vectorAttnums = Map.copyOf(vectorAttnums);
        }

        public boolean isVector(String column) {
            return vectorDims.containsKey(column);
        }

        public TableName tableName() {
            return new TableName(schema, name);
        }
    }

    public boolean isEmpty() {
        return tables.isEmpty() && indexes.isEmpty();
    }

    /**
     * The table a statement means. A qualified name must match exactly; an unqualified one
     * matches the only table of that name, or the one in {@code public} when several schemas
     * have it (the common search path), else none.
     */
    public Optional<Table> table(TableName written) {
        if (written.qualified()) {
            return tables.stream().filter(t -> t.schema().equals(written.schema()) && t.name().equals(written.name())).findFirst();
        }
        List<Table> named = tables.stream().filter(t -> t.name().equals(written.name())).toList();
        if (named.size() == 1) {
            return Optional.of(named.getFirst());
        }
        return named.stream().filter(t -> t.schema().equals("public")).findFirst();
    }

    public Optional<Table> tableByOid(int oid) {
        return tables.stream().filter(t -> t.oid() == oid).findFirst();
    }

    /** An index by name, resolved like a table name. */
    public Optional<IndexDefinition> index(TableName written) {
        List<IndexDefinition> named = indexes.stream().filter(i -> i.name().equals(written.name())
                && (!written.qualified() || i.schema().equals(written.schema()))).toList();
        if (named.size() == 1) {
            return Optional.of(named.getFirst());
        }
        return named.stream().filter(i -> i.schema().equals("public")).findFirst();
    }

    /** The engine index serving {@code operator} on {@code table.column}, if any. */
    public Optional<IndexDefinition> indexFor(Table table, String column, DistanceOperator operator) {
        return indexes.stream().filter(i -> i.table().schema().equals(table.schema()) && i.table().name().equals(table.name())
                && i.column().equals(column) && i.operator() == operator).findFirst();
    }

    public List<IndexDefinition> indexesOn(Table table) {
        return indexes.stream().filter(i -> i.table().schema().equals(table.schema()) && i.table().name().equals(table.name())).toList();
    }
}
