package io.neurondb.proxy.session;

import io.neurondb.proxy.route.Effect;
import io.neurondb.proxy.route.IndexDefinition;
import io.neurondb.proxy.route.TableName;
import io.vertx.core.buffer.Buffer;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The catalog writes the proxy adds to a client's transaction, with every value a parameter.
 * They go through the shim's owner-checked functions, so they work for any role that owns
 * the table; rows left by dropped tables are cleared on the way, so names can be reused.
 */
final class CatalogStatements {

    private static final int TEXT = 25;
    private static final int INT4 = 23;

    // The shim's SECURITY DEFINER writers: any role that owns the table may record it.
    static final String INSERT_INDEX =
            "SELECT neurondb.register_index($1, $2, $3::pg_catalog.regclass, $4, $5, $6, $7, $8::jsonb)";
    static final int[] INSERT_INDEX_TYPES = {TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT};

    static final String DELETE_INDEX = "SELECT neurondb.unregister_index($1, $2)";
    static final int[] DELETE_INDEX_TYPES = {TEXT, TEXT};

    static final String DELETE_TABLE = "SELECT neurondb.unregister_table(pg_catalog.to_regclass($1))";
    static final int[] DELETE_TABLE_TYPES = {TEXT};

    static final String INSERT_VECTOR_COLUMN = "SELECT neurondb.register_vector_column($1::pg_catalog.regclass, $2, $3)";
    static final int[] INSERT_VECTOR_COLUMN_TYPES = {TEXT, TEXT, INT4};

    /**
     * A table's vector columns as the client's own transaction sees them (after its DDL, before
     * commit), as one JSON text row.
     */
    static final String TABLE_AS_SEEN = """
            SELECT pg_catalog.json_build_object(
                     'schema', n.nspname, 'name', c.relname, 'oid', c.oid::int8,
                     'columns', (SELECT pg_catalog.json_agg(a.attname ORDER BY a.attnum) FROM pg_catalog.pg_attribute a
                                  WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
                     'vectors', (SELECT pg_catalog.json_agg(pg_catalog.json_build_object('name', va.attname, 'dims', vc.dims,
                                                                                      'attnum', va.attnum) ORDER BY va.attnum)
                                   FROM neurondb.vector_columns vc
                                   JOIN pg_catalog.pg_attribute va ON va.attrelid = c.oid AND va.attname = vc.column_name
                                                                  AND va.attnum > 0 AND NOT va.attisdropped
                                  WHERE vc.table_name::pg_catalog.oid = c.oid))::text
              FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE c.oid = pg_catalog.to_regclass($1)""";
    static final int[] TABLE_AS_SEEN_TYPES = {TEXT};

    /** Whether the current role reads the key and vector columns in full (no row security applies). */
    static final String READABLE_CHECK = """
            SELECT pg_catalog.has_column_privilege(c.oid, $2, 'SELECT')
               AND pg_catalog.has_column_privilege(c.oid, $3, 'SELECT')
               AND NOT (c.relrowsecurity AND pg_catalog.row_security_active(c.oid))
              FROM pg_catalog.pg_class c WHERE c.oid = $1::pg_catalog.regclass""";
    static final int[] READABLE_CHECK_TYPES = {TEXT, TEXT, TEXT};

    /**
     * Fails on purpose (SQLSTATE P0001), standing in for an error the proxy found itself, so
     * the server's transaction aborts as it would have; the client sees the proxy's error.
     */
    static final String FAIL = "DO $neurondb$BEGIN RAISE EXCEPTION 'statement refused by the NeuronDB proxy'; END$neurondb$";

    private CatalogStatements() {
    }

    static List<Buffer> indexRow(IndexDefinition def) {
        Map<String, Integer> sorted = new TreeMap<>(def.options());
        String options = sorted.entrySet().stream()
                .map(e -> "\"" + e.getKey() + "\": " + e.getValue())
                .collect(Collectors.joining(", ", "{", "}"));
        return List.of(text(def.schema()), text(def.name()), text(def.table().toSql()), text(def.column()), text(def.keyColumn()),
                text(def.method().sqlName()), text(def.operator().opclass()), text(options));
    }

    static List<Buffer> readableCheck(TableName table, IndexDefinition def) {
        return List.of(text(table.toSql()), text(def.keyColumn()), text(def.column()));
    }

    static List<Buffer> tableKey(TableName table) {
        return List.of(text(table.toSql()));
    }

    static List<Buffer> indexKey(IndexDefinition def) {
        return List.of(text(def.schema()), text(def.name()));
    }

    /** The table as the statement named it: PostgreSQL resolves it the way it just did for the DDL. */
    static List<Buffer> vectorColumnRow(TableName table, Effect.NewVectorColumn column) {
        // A null dims (vector without n) is a SQL NULL, which List.of cannot hold.
        return java.util.Arrays.asList(text(table.toSql()), text(column.name()), column.dims() == null ? null : text(column.dims().toString()));
    }

    private static Buffer text(String s) {
        return ParamValues.text(s);
    }
}
