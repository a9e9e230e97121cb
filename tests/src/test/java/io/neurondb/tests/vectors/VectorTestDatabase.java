package io.neurondb.tests.vectors;

import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.tests.support.TestPostgres;

import java.sql.Array;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleBiFunction;

/**
 * A database of its own on the shared test server, with the NeuronDB catalog installed (the
 * shim's script when the shim class is present, else the minimal catalog tables and check
 * function), and helpers to make vector tables and compute exact neighbours in Java.
 */
final class VectorTestDatabase {

    static final String MINIMAL_CATALOG = """
            CREATE SCHEMA neurondb;
            CREATE FUNCTION neurondb.vector_check(v real[], dims integer) RETURNS boolean
              LANGUAGE sql IMMUTABLE AS $$ SELECT v IS NULL OR dims IS NULL OR (array_ndims(v) = 1 AND cardinality(v) = dims) $$;
            CREATE TABLE neurondb.vector_columns (table_name regclass NOT NULL, column_name name NOT NULL, dims integer NULL,
              PRIMARY KEY (table_name, column_name));
            CREATE TABLE neurondb.indexes (schema_name name NOT NULL, index_name name NOT NULL, table_name regclass NOT NULL,
              column_name name NOT NULL, key_column name NOT NULL, method text NOT NULL, opclass text NOT NULL,
              options jsonb NOT NULL DEFAULT '{}', created_at timestamptz NOT NULL DEFAULT now(),
              PRIMARY KEY (schema_name, index_name));
            """;

    final LocalPostgres pg = TestPostgres.shared();
    final String name;

    private VectorTestDatabase(String name) {
        this.name = name;
    }

    /** Creates {@code vectors_<suffix>} afresh; with the catalog unless {@code withCatalog} is false. */
    static VectorTestDatabase create(String suffix, boolean withCatalog) throws SQLException {
        VectorTestDatabase db = new VectorTestDatabase("vectors_" + suffix);
        try (Connection c = db.connect("postgres"); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + db.name + " WITH (FORCE)");
            s.execute("CREATE DATABASE " + db.name);
        }
        if (withCatalog) {
            try (Connection c = db.connect(); Statement s = c.createStatement()) {
                try {
                    s.execute(catalogScript());
                } catch (SQLException e) {
                    // The shim is another part's work in progress: a failing script must not hide this part's tests.
                    s.execute(MINIMAL_CATALOG);
                }
            }
        }
        return db;
    }

    /** The shim's install script when the shim exists in this build, else the minimal catalog. */
    private static String catalogScript() {
        try {
            Class<?> shim = Class.forName("io.neurondb.proxy.shim.ShimScripts");
            return (String) shim.getMethod("install", String.class, boolean.class).invoke(null, null, false);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return MINIMAL_CATALOG;
        }
    }

    Connection connect() throws SQLException {
        return connect(name);
    }

    Connection connect(String database) throws SQLException {
        return DriverManager.getConnection(pg.jdbcUrl(database), TestPostgres.SUPERUSER, TestPostgres.SUPERUSER_PASSWORD);
    }

    void exec(String... sql) throws SQLException {
        try (Connection c = connect(); Statement s = c.createStatement()) {
            for (String q : sql) {
                s.execute(q);
            }
        }
    }

    /**
     * {@code table (id <keyType> primary key, embedding real[] CHECK vector_check, note text)}
     * with {@code rows} pseudo-random vectors (seeded, ids 1..rows), registered as vector(dims).
     */
    void vectorTable(String table, String keyType, int dims, int rows) throws SQLException {
        exec("CREATE TABLE " + table + " (id " + keyType + " PRIMARY KEY, embedding real[] CHECK (neurondb.vector_check(embedding, "
                        + dims + ")), note text, amount integer)",
                "INSERT INTO neurondb.vector_columns VALUES ('" + table + "', 'embedding', " + dims + ")",
                "SELECT setseed(0.25)",
                "INSERT INTO " + table + " SELECT i, ARRAY(SELECT (random() * 2 - 1)::real FROM generate_series(1, " + dims
                        + ") WHERE i > 0), 'n' || i, i FROM generate_series(1, " + rows + ") i");
    }

    void catalogIndex(String index, String table, String method, String opclass, String optionsJson) throws SQLException {
        exec("INSERT INTO neurondb.indexes (schema_name, index_name, table_name, column_name, key_column, method, opclass, options) "
                + "VALUES ('public', '" + index + "', '" + table + "', 'embedding', 'id', '" + method + "', '" + opclass + "', '"
                + optionsJson + "')");
    }

    /** id to vector, every row of the table with a vector. */
    Map<Long, float[]> rows(String table) throws SQLException {
        Map<Long, float[]> out = new LinkedHashMap<>();
        try (Connection c = connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id, embedding FROM " + table + " WHERE embedding IS NOT NULL ORDER BY id")) {
            while (rs.next()) {
                Array a = rs.getArray(2);
                Float[] boxed = (Float[]) a.getArray();
                float[] v = new float[boxed.length];
                for (int i = 0; i < v.length; i++) {
                    v[i] = boxed[i];
                }
                out.put(rs.getLong(1), v);
            }
        }
        return out;
    }

    /** The ids of the {@code k} nearest rows by an exact scan (ties by id, as ORDER BY dist, id). */
    static List<Long> exact(Map<Long, float[]> rows, float[] q, int k, ToDoubleBiFunction<float[], float[]> distance) {
        List<Map.Entry<Long, float[]>> all = new ArrayList<>(rows.entrySet());
        all.sort(Comparator.<Map.Entry<Long, float[]>>comparingDouble(e -> distance.applyAsDouble(e.getValue(), q))
                .thenComparing(Map.Entry::getKey));
        return all.stream().limit(k).map(Map.Entry::getKey).toList();
    }

    static double l2(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            double d = a[i] - b[i];
            s += d * d;
        }
        return Math.sqrt(s);
    }

    static double negativeInnerProduct(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (double) a[i] * b[i];
        }
        return -s;
    }

    static double cosine(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return 1 - dot / (Math.sqrt(na) * Math.sqrt(nb));
    }

    static double l1(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += Math.abs(a[i] - b[i]);
        }
        return s;
    }
}
