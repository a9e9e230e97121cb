package io.neurondb.proxy.route;

import java.util.Objects;

/**
 * A table name as PostgreSQL sees it after identifier folding: {@code schema} is null when the
 * statement left it to the search path.
 */
public record TableName(String schema, String name) {

    public TableName {
        Objects.requireNonNull(name, "name");
    }

    public static TableName of(String schema, String name) {
        return new TableName(schema, name);
    }

    public boolean qualified() {
        return schema != null;
    }

    /** The name as SQL, each part quoted as an identifier. */
    public String toSql() {
        return (schema == null ? "" : SqlIdentifiers.quote(schema) + ".") + SqlIdentifiers.quote(name);
    }

    @Override
    public String toString() {
        return schema == null ? name : schema + "." + name;
    }
}
