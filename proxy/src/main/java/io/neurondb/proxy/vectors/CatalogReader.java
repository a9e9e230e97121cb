package io.neurondb.proxy.vectors;

import io.neurondb.proxy.route.DistanceOperator;
import io.neurondb.proxy.route.IndexDefinition;
import io.neurondb.proxy.route.IndexMethod;
import io.neurondb.proxy.route.TableName;
import io.neurondb.proxy.route.VectorCatalog;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a database's vector catalog ({@code neurondb.vector_columns}, {@code neurondb.indexes})
 * into a {@link VectorCatalog}. Rows naming a table that no longer exists are ignored: the
 * {@code regclass} columns are joined on the OID with {@code pg_class}.
 */
public final class CatalogReader {

    private static final Logger log = LoggerFactory.getLogger(CatalogReader.class);

    static final String CATALOG_PRESENT = "SELECT to_regclass('neurondb.vector_columns') IS NOT NULL AS columns_present, "
            + "to_regclass('neurondb.indexes') IS NOT NULL AS indexes_present";

    static final String TABLES = """
            SELECT n.nspname::text AS schema_name, c.relname::text AS table_name, c.oid::int8 AS table_oid,
                   (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a
                     WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS all_columns,
                   array_agg(va.attname::text ORDER BY va.attnum) AS vector_columns,
                   array_agg(vc.dims ORDER BY va.attnum) AS vector_dims,
                   array_agg(va.attnum::int4 ORDER BY va.attnum) AS vector_attnums
              FROM neurondb.vector_columns vc
              JOIN pg_class c ON c.oid = vc.table_name::oid
              JOIN pg_namespace n ON n.oid = c.relnamespace
              JOIN pg_attribute va ON va.attrelid = c.oid AND va.attname = vc.column_name
                                  AND va.attnum > 0 AND NOT va.attisdropped
             GROUP BY n.nspname, c.relname, c.oid
             ORDER BY n.nspname, c.relname""";

    static final String INDEXES = """
            SELECT i.schema_name::text AS schema_name, i.index_name::text AS index_name,
                   n.nspname::text AS table_schema, c.relname::text AS table_name,
                   i.column_name::text AS column_name, i.key_column::text AS key_column,
                   i.method::text AS method, i.opclass::text AS opclass, i.options::text AS options
              FROM neurondb.indexes i
              JOIN pg_class c ON c.oid = i.table_name::oid
              JOIN pg_namespace n ON n.oid = c.relnamespace
             ORDER BY i.schema_name, i.index_name""";

    private CatalogReader() {
    }

    /**
     * The catalog as {@code client} sees it now, stamped {@code version}; an empty one when
     * the database has no {@code neurondb} catalog tables.
     */
    public static Future<VectorCatalog> read(SqlClient client, long version) {
        return client.query(CATALOG_PRESENT).execute().compose(present -> {
            Row p = present.iterator().next();
            boolean columnsPresent = p.getBoolean("columns_present");
            boolean indexesPresent = p.getBoolean("indexes_present");
            if (!columnsPresent) {
                return Future.succeededFuture(new VectorCatalog(version, List.of(), List.of()));
            }
            Future<List<VectorCatalog.Table>> tables = client.query(TABLES).execute().map(rows -> {
                List<VectorCatalog.Table> out = new ArrayList<>();
                for (Row r : rows) {
                    out.add(table(r));
                }
                return out;
            });
            if (!indexesPresent) {
                return tables.map(t -> new VectorCatalog(version, t, List.of()));
            }
            return tables.compose(t -> client.query(INDEXES).execute().map(rows -> {
                List<IndexDefinition> out = new ArrayList<>();
                for (Row r : rows) {
                    IndexDefinition def = index(r);
                    if (def != null) {
                        out.add(def);
                    }
                }
                return new VectorCatalog(version, t, out);
            }));
        });
    }

    private static VectorCatalog.Table table(Row r) {
        String[] names = r.getArrayOfStrings("vector_columns");
        Integer[] dims = r.getArrayOfIntegers("vector_dims");
        Integer[] attnums = r.getArrayOfIntegers("vector_attnums");
        Map<String, Integer> vectorDims = new LinkedHashMap<>();
        Map<String, Integer> vectorAttnums = new LinkedHashMap<>();
        for (int i = 0; i < names.length; i++) {
            vectorDims.put(names[i], dims[i]);
            vectorAttnums.put(names[i], attnums[i]);
        }
        String[] all = r.getArrayOfStrings("all_columns");
        return new VectorCatalog.Table(r.getString("schema_name"), r.getString("table_name"),
                (int) (long) r.getLong("table_oid"), all == null ? List.of() : List.of(all), vectorDims, vectorAttnums);
    }

    /** A definition, or null (logged) when a row holds a method or operator class the proxy does not know. */
    private static IndexDefinition index(Row r) {
        String name = r.getString("index_name");
        var method = IndexMethod.fromSql(String.valueOf(r.getString("method")));
        var operator = DistanceOperator.fromOpclass(String.valueOf(r.getString("opclass")));
        if (method.isEmpty() || operator.isEmpty()) {
            log.warn("event=catalog_index_ignored index={} reason=\"unknown method or operator class\"", name);
            return null;
        }
        return new IndexDefinition(r.getString("schema_name"), name,
                new TableName(r.getString("table_schema"), r.getString("table_name")),
                r.getString("column_name"), r.getString("key_column"), method.get(), operator.get(),
                options(name, r.getString("options")));
    }

    /** {@code {"m": 16, "ef_construction": "64"}} to integers; anything else is skipped with a log line. */
    static Map<String, Integer> options(String index, String json) {
        Map<String, Integer> out = new LinkedHashMap<>();
        if (json == null || json.isBlank() || json.equals("null")) {
            return out;
        }
        JsonObject o;
        try {
            o = new JsonObject(json);
        } catch (RuntimeException e) {
            log.warn("event=catalog_options_ignored index={} reason=\"not a JSON object\"", index);
            return out;
        }
        for (Map.Entry<String, Object> e : o) {
            Object v = e.getValue();
            try {
                if (v instanceof Number n) {
                    out.put(e.getKey(), n.intValue());
                } else if (v instanceof String s) {
                    out.put(e.getKey(), Integer.parseInt(s.strip()));
                } else {
                    throw new NumberFormatException();
                }
            } catch (NumberFormatException ex) {
                log.warn("event=catalog_option_ignored index={} option={} reason=\"not an integer\"", index, e.getKey());
            }
        }
        return out;
    }
}
