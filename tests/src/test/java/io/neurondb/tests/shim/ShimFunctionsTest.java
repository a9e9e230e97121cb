package io.neurondb.tests.shim;

import io.neurondb.proxy.shim.ShimScripts;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.sql.Array;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.StringJoiner;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleBiFunction;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The shim's functions and operators in a real PostgreSQL 15, against a Java reference
 * (double-precision sums over float inputs, pgvector's definitions).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ShimFunctionsTest {

    private static final int[] DIMS = {1, 2, 3, 7, 16, 384};

    private ShimDb db;

    @BeforeAll
    void install() throws SQLException {
        db = ShimDb.create("functions");
        db.exec(ShimScripts.install(null, false));
    }

    @AfterAll
    void cleanup() throws SQLException {
        db.close();
    }

    // ---- Java reference -------------------------------------------------------------------

    static double l2(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            double d = (double) a[i] - b[i];
            s += d * d;
        }
        return Math.sqrt(s);
    }

    static double ip(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (double) a[i] * b[i];
        }
        return s;
    }

    static double cosine(float[] a, float[] b) {
        double na = ip(a, a);
        double nb = ip(b, b);
        if (na == 0 || nb == 0) {
            return Double.NaN;
        }
        double sim = ip(a, b) / Math.sqrt(na * nb);
        return 1 - Math.max(-1, Math.min(1, sim));
    }

    static double l1(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += Math.abs((double) a[i] - b[i]);
        }
        return s;
    }

    static float[] random(Random r, int dims) {
        float[] v = new float[dims];
        for (int i = 0; i < dims; i++) {
            v[i] = (float) (r.nextGaussian() * (r.nextBoolean() ? 1 : 100));
        }
        return v;
    }

    /** pgvector's text form. */
    static String literal(float[] v) {
        StringJoiner j = new StringJoiner(",", "[", "]");
        for (float x : v) {
            j.add(Float.toString(x));
        }
        return j.toString();
    }

    /** PostgreSQL's array form. */
    static String arrayLiteral(float[] v) {
        StringJoiner j = new StringJoiner(",", "{", "}");
        for (float x : v) {
            j.add(Float.toString(x));
        }
        return j.toString();
    }

    Array array(float[] v) throws SQLException {
        Float[] boxed = new Float[v.length];
        for (int i = 0; i < v.length; i++) {
            boxed[i] = v[i];
        }
        return db.conn.createArrayOf("float4", boxed);
    }

    static void assertClose(double actual, double expected, String what) {
        if (Double.isNaN(expected)) {
            assertThat(actual).as(what).isNaN();
            return;
        }
        double tol = 1e-6 * Math.max(Math.abs(expected), 1e-3);
        assertThat(actual).as(what).isCloseTo(expected, org.assertj.core.api.Assertions.within(tol));
    }

    // ---- functions ---------------------------------------------------------------------------

    @Test
    void distanceFunctionsMatchTheReferenceForRealArraysAndTextLiterals() throws SQLException {
        Random r = new Random(42);
        String sql = "SELECT l2_distance(?, ?), inner_product(?, ?), cosine_distance(?, ?), l1_distance(?, ?),"
                + " l2_distance(?, ?::text), inner_product(?, ?::text), cosine_distance(?::text, ?), l1_distance(?::text, ?::text)";
        try (PreparedStatement ps = db.conn.prepareStatement(sql)) {
            for (int n = 0; n < 120; n++) {
                int dims = DIMS[n % DIMS.length];
                float[] a = random(r, dims);
                float[] b = random(r, dims);
                for (int p = 0; p < 4; p++) {
                    ps.setArray(2 * p + 1, array(a));
                    ps.setArray(2 * p + 2, array(b));
                }
                ps.setArray(9, array(a));
                ps.setString(10, literal(b));
                ps.setArray(11, array(a));
                ps.setString(12, literal(b));
                ps.setString(13, literal(a));
                ps.setArray(14, array(b));
                ps.setString(15, literal(a));
                ps.setString(16, literal(b));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    String at = "dims " + dims + " pair " + n;
                    assertClose(rs.getDouble(1), l2(a, b), "l2 " + at);
                    assertClose(rs.getDouble(2), ip(a, b), "ip " + at);
                    assertClose(rs.getDouble(3), cosine(a, b), "cosine " + at);
                    assertClose(rs.getDouble(4), l1(a, b), "l1 " + at);
                    assertClose(rs.getDouble(5), l2(a, b), "l2 text " + at);
                    assertClose(rs.getDouble(6), ip(a, b), "ip text " + at);
                    assertClose(rs.getDouble(7), cosine(a, b), "cosine text " + at);
                    assertClose(rs.getDouble(8), l1(a, b), "l1 text " + at);
                }
            }
        }
    }

    @Test
    void unaryFunctionsMatchTheReference() throws SQLException {
        Random r = new Random(7);
        try (PreparedStatement ps = db.conn.prepareStatement(
                "SELECT vector_dims(?), vector_norm(?), l2_normalize(?), vector_dims(?::text), vector_norm(?::text), l2_normalize(?::text)")) {
            for (int n = 0; n < 60; n++) {
                float[] v = random(r, DIMS[n % DIMS.length]);
                for (int p = 1; p <= 3; p++) {
                    ps.setArray(p, array(v));
                    ps.setString(p + 3, literal(v));
                }
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    double norm = Math.sqrt(ip(v, v));
                    for (int off : new int[]{0, 3}) {
                        assertThat(rs.getInt(1 + off)).isEqualTo(v.length);
                        assertClose(rs.getDouble(2 + off), norm, "norm");
                        Float[] unit = (Float[]) rs.getArray(3 + off).getArray();
                        assertThat(unit).hasSize(v.length);
                        for (int i = 0; i < v.length; i++) {
                            assertThat(unit[i]).isEqualTo((float) (v[i] / norm));
                        }
                    }
                }
            }
        }
    }

    @Test
    void zeroVectorsFollowPgvector() throws SQLException {
        assertThat((Double) db.one("SELECT cosine_distance('[0,0,0]', '[1,2,3]')")).isNaN();
        assertThat((Double) db.one("SELECT '{1,2,3}'::real[] <=> '[0,0,0]'")).isNaN();
        assertThat(db.one("SELECT l2_normalize('[0,0]')::text")).isEqualTo("{0,0}");
        assertThat(db.one("SELECT vector_norm('[0,0]')")).isEqualTo(0.0);
        // Clamped: identical and opposite directions.
        assertThat(db.one("SELECT cosine_distance('[1,1]', '[3,3]')")).isEqualTo(0.0);
        assertThat(db.one("SELECT cosine_distance('[1,1]', '[-3,-3]')")).isEqualTo(2.0);
        // Arrays indexed from another lower bound are still vectors.
        assertThat(db.one("SELECT l2_distance('[0:1]={3,0}'::real[], '{0,4}'::real[])")).isEqualTo(5.0);
        assertThat(db.one("SELECT cosine_distance('[5:6]={1,0}'::real[], '{1,0}'::real[])")).isEqualTo(0.0);
    }

    // ---- operators ---------------------------------------------------------------------------

    @Test
    void everyOperatorWithRealArrayAndTextOperands() throws SQLException {
        Random r = new Random(3);
        record Op(String symbol, ToDoubleBiFunction<float[], float[]> ref) {
        }
        List<Op> ops = List.of(new Op("<->", ShimFunctionsTest::l2), new Op("<#>", (a, b) -> -ip(a, b)),
                new Op("<=>", ShimFunctionsTest::cosine), new Op("<+>", ShimFunctionsTest::l1));
        for (Op op : ops) {
            for (int dims : DIMS) {
                float[] a = random(r, dims);
                float[] b = random(r, dims);
                double want = op.ref().applyAsDouble(a, b);
                try (PreparedStatement ps = db.conn.prepareStatement(
                        "SELECT ?::real[] " + op.symbol() + " ?::real[], ?::real[] " + op.symbol() + " ?::text, ?::text "
                                + op.symbol() + " ?::real[]")) {
                    ps.setArray(1, array(a));
                    ps.setArray(2, array(b));
                    ps.setArray(3, array(a));
                    ps.setString(4, literal(b));
                    ps.setString(5, literal(a));
                    ps.setArray(6, array(b));
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        assertClose(rs.getDouble(1), want, op.symbol() + " (real[], real[])");
                        assertClose(rs.getDouble(2), want, op.symbol() + " (real[], text)");
                        assertClose(rs.getDouble(3), want, op.symbol() + " (text, real[])");
                    }
                }
                // Untyped literals in the SQL text, as pgvector applications write them.
                String untyped = "SELECT '" + arrayLiteral(a) + "'::real[] " + op.symbol() + " '" + literal(b) + "'";
                assertClose(((Number) db.one(untyped)).doubleValue(), want, untyped);
            }
        }
        // Other numeric arrays are taken as vectors too.
        assertThat(db.one("SELECT '{1,2}'::real[] <-> ARRAY[4, 6]")).isEqualTo(5.0);
        assertThat(db.one("SELECT '{1,2}'::real[] <#> ARRAY[4.0, 6.0]::float8[]")).isEqualTo(-16.0);
    }

    @Test
    void orderByDistanceLimitOnACheckedVectorColumn() throws SQLException {
        Random r = new Random(11);
        db.exec("CREATE TABLE knn_items (id int PRIMARY KEY, embedding real[] CHECK (neurondb.vector_check(embedding, 3)))");
        List<float[]> rows = new ArrayList<>();
        try (PreparedStatement ps = db.conn.prepareStatement("INSERT INTO knn_items VALUES (?, ?)")) {
            for (int i = 0; i < 500; i++) {
                float[] v = random(r, 3);
                rows.add(v);
                ps.setInt(1, i);
                ps.setArray(2, array(v));
                ps.addBatch();
            }
            ps.executeBatch();
        }
        float[] q = random(r, 3);
        record Op(String symbol, ToDoubleBiFunction<float[], float[]> ref) {
        }
        for (Op op : List.of(new Op("<->", ShimFunctionsTest::l2), new Op("<#>", (a, b) -> -ip(a, b)),
                new Op("<=>", ShimFunctionsTest::cosine), new Op("<+>", ShimFunctionsTest::l1))) {
            List<Integer> want = IntStream.range(0, rows.size()).boxed()
                    .sorted(Comparator.comparingDouble(i -> op.ref().applyAsDouble(rows.get(i), q)))
                    .limit(5).toList();
            List<Integer> got = new ArrayList<>();
            try (Statement s = db.conn.createStatement(); ResultSet rs = s.executeQuery(
                    "SELECT id FROM knn_items ORDER BY embedding " + op.symbol() + " '" + literal(q) + "' LIMIT 5")) {
                while (rs.next()) {
                    got.add(rs.getInt(1));
                }
            }
            assertThat(got).as(op.symbol()).isEqualTo(want);
            // The same with the query vector as a bound text parameter.
            got.clear();
            try (PreparedStatement ps = db.conn.prepareStatement(
                    "SELECT id FROM knn_items ORDER BY embedding " + op.symbol() + " ? LIMIT ?")) {
                ps.setString(1, literal(q));
                ps.setInt(2, 5);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        got.add(rs.getInt(1));
                    }
                }
            }
            assertThat(got).as(op.symbol() + " bound").isEqualTo(want);
        }
        var e = db.error("INSERT INTO knn_items VALUES (1000, '{1,2}')");
        assertThat(e.state()).isEqualTo("22000");
        assertThat(e.message()).isEqualTo("expected 3 dimensions, not 2");
        db.exec("INSERT INTO knn_items VALUES (1001, NULL)");
    }

    // ---- errors ------------------------------------------------------------------------------

    @Test
    void errorsReadLikePgvector() {
        expect("SELECT l2_distance('[1,2,3]', '[1,2]')", "22000", "different vector dimensions 3 and 2");
        expect("SELECT '{1,2,3}'::real[] <-> '{1,2}'::real[]", "22000", "different vector dimensions 3 and 2");
        expect("SELECT '{1,2}'::real[] <=> '[1,2,3]'", "22000", "different vector dimensions 2 and 3");
        expect("SELECT inner_product('{1,2}'::real[], '{1}'::real[])", "22000", "different vector dimensions 2 and 1");
        expect("SELECT l1_distance('{1,2}'::real[], '{1}'::real[])", "22000", "different vector dimensions 2 and 1");
        expect("SELECT '{1,2}'::real[] <#> '{1}'::real[]", "22000", "different vector dimensions 2 and 1");

        expect("SELECT neurondb.to_vector('[1,2')", "22P02", "invalid input syntax for type vector: \"[1,2\"");
        expect("SELECT neurondb.to_vector('1,2')", "22P02", "invalid input syntax for type vector: \"1,2\"");
        expect("SELECT neurondb.to_vector('[1,,2]')", "22P02", "invalid input syntax for type vector: \"[1,,2]\"");
        expect("SELECT neurondb.to_vector('[1,abc]')", "22P02", "invalid input syntax for type vector: \"[1,abc]\"");
        expect("SELECT neurondb.to_vector('{1,2}')", "22P02", "invalid input syntax for type vector: \"{1,2}\"");
        expect("SELECT '{1,2}'::real[] <-> '[1,x]'", "22P02", "invalid input syntax for type vector: \"[1,x]\"");
        expect("SELECT neurondb.to_vector('[]')", "22000", "vector must have at least 1 dimension");
        expect("SELECT neurondb.to_vector('[1,NaN]')", "22000", "NaN not allowed in vector");
        expect("SELECT neurondb.to_vector('[1,-Infinity]')", "22000", "infinite value not allowed in vector");
        expect("SELECT neurondb.to_vector('[1e39]')", "22003", "\"1e39\" is out of range for type vector");

        expect("SELECT neurondb.vector_check('{1,2}', 3)", "22000", "expected 3 dimensions, not 2");
        expect("SELECT neurondb.vector_check('{1,NaN}', 2)", "22000", "NaN not allowed in vector");
        expect("SELECT neurondb.vector_check('{1,Infinity}', NULL)", "22000", "infinite value not allowed in vector");
        expect("SELECT neurondb.vector_check('{1,NULL}', 2)", "22000", "array must not contain nulls");
        expect("SELECT neurondb.vector_check('{{1,2},{3,4}}', 4)", "22000", "array must be 1-D");
        expect("SELECT neurondb.vector_check('{}', NULL)", "22000", "vector must have at least 1 dimension");
        expect("SELECT l2_distance('{1,NULL}'::real[], '{1,2}'::real[])", "22000", "array must not contain nulls");
        expect("SELECT cosine_distance('{1,NULL}'::real[], '{1,2}'::real[])", "22000", "array must not contain nulls");
        expect("SELECT l2_distance('{{1,2}}'::real[], '{1,2}'::real[])", "22000", "array must be 1-D");
        expect("SELECT l2_distance('{}'::real[], '{}'::real[])", "22000", "vector must have at least 1 dimension");
        expect("SELECT vector_dims('{}'::real[])", "22000", "vector must have at least 1 dimension");
        expect("SELECT vector_norm('{1,NULL}'::real[])", "22000", "array must not contain nulls");
    }

    @Test
    void vectorCheckAcceptsValidAndNull() throws SQLException {
        assertThat(db.one("SELECT neurondb.vector_check(NULL, 3)")).isEqualTo(true);
        assertThat(db.one("SELECT neurondb.vector_check('{1,2,3}', 3)")).isEqualTo(true);
        assertThat(db.one("SELECT neurondb.vector_check('{1,2,3}', NULL)")).isEqualTo(true);
        assertThat(db.one("SELECT neurondb.to_vector(' [ 1.5 , -2e3,1e-50, .5 ] ')::text")).isEqualTo("{1.5,-2000,0,0.5}");
        assertThat(db.one("SELECT neurondb.to_vector('[1,2,3]')::text")).isEqualTo("{1,2,3}");
    }

    @Test
    void proxyAnsweredFunctionsExplainThemselves() {
        for (String f : List.of("neurondb.gpu_enabled()", "neurondb.gpu_device_count()", "* FROM neurondb.index_stats()")) {
            var e = db.error("SELECT " + f);
            assertThat(e.state()).as(f).isEqualTo("0A000");
            assertThat(e.message()).as(f).contains("answered by the NeuronDB proxy");
            assertThat(e.hint()).as(f).contains("through the NeuronDB proxy");
        }
    }

    @Test
    void catalogPropertiesOfTheFunctions() throws SQLException {
        assertThat(db.one("SELECT neurondb.version()")).isEqualTo(ShimScripts.LATEST_VERSION);
        assertThat(db.one("SELECT neurondb.no_parallel()")).isEqualTo(true);
        assertThat(db.one("SELECT provolatile::text || proparallel::text FROM pg_proc WHERE oid = 'neurondb.no_parallel()'::regprocedure"))
                .isEqualTo("su");
        // Every distance/vector function: immutable, strict, parallel safe.
        assertThat(db.count("""
                SELECT count(*) FROM pg_proc
                 WHERE pronamespace = 'public'::regnamespace
                   AND proname IN ('l2_distance','inner_product','cosine_distance','l1_distance','vector_dims','vector_norm','l2_normalize')
                   AND NOT (provolatile = 'i' AND proisstrict AND proparallel = 's')""")).isZero();
        assertThat(db.count("""
                SELECT count(*) FROM pg_operator
                 WHERE oprnamespace = 'public'::regnamespace AND oprname IN ('<->','<#>','<=>','<+>')""")).isEqualTo(12);
        assertThat(db.one("""
                SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum)
                  FROM pg_attribute WHERE attrelid = 'neurondb.backups'::regclass AND attnum > 0""")).isEqualTo(
                "id bigint, kind text, started_at timestamp with time zone, finished_at timestamp with time zone, status text, "
                        + "error text, location text, bytes bigint, sha256 text, start_lsn pg_lsn, end_lsn pg_lsn, index_lsns jsonb");
    }

    @Test
    void noParallelKeepsTheQuerySerial() throws SQLException {
        db.exec("""
                CREATE TABLE par (id int, embedding real[]);
                INSERT INTO par SELECT i, ARRAY[i, i]::real[] FROM generate_series(1, 20000) i;
                ANALYZE par""");
        try (Statement s = db.conn.createStatement()) {
            s.execute("SET parallel_setup_cost = 0");
            s.execute("SET parallel_tuple_cost = 0");
            s.execute("SET min_parallel_table_scan_size = 0");
            s.execute("SET max_parallel_workers_per_gather = 2");
            String q = "SELECT id FROM par WHERE id > 0 %s UNION ALL SELECT id FROM par WHERE id < 0 %s";
            assertThat(plan(s, "EXPLAIN " + q.formatted("", ""))).contains("Gather");
            assertThat(plan(s, "EXPLAIN " + q.formatted("AND neurondb.no_parallel()", "AND neurondb.no_parallel()")))
                    .doesNotContain("Gather").doesNotContain("Parallel");
            s.execute("RESET ALL");
        }
    }

    private static String plan(Statement s, String sql) throws SQLException {
        StringBuilder out = new StringBuilder();
        try (ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                out.append(rs.getString(1)).append('\n');
            }
        }
        return out.toString();
    }

    /**
     * Exact kNN over 20,000 rows of 384 dimensions, each operator: records how long PostgreSQL
     * takes (printed; the bound only catches a pathological regression).
     */
    @Test
    void exactScanSpeed() throws SQLException {
        db.exec("""
                CREATE TABLE speed (id int, embedding real[]);
                INSERT INTO speed
                SELECT i, (SELECT array_agg(random()::real) FROM generate_series(1, 384) WHERE i > 0)
                  FROM generate_series(1, 20000) i;
                ANALYZE speed""");
        Random r = new Random(5);
        String q = literal(random(r, 384));
        for (String op : List.of("<->", "<#>", "<=>", "<+>")) {
            db.exec("SELECT id FROM speed ORDER BY embedding " + op + " '" + q + "' LIMIT 10"); // warm up
            long t0 = System.nanoTime();
            db.exec("SELECT id FROM speed ORDER BY embedding " + op + " '" + q + "' LIMIT 10");
            long ms = (System.nanoTime() - t0) / 1_000_000;
            System.out.printf("shim exact scan %s: 20000 x 384 in %d ms (%.1f us/row)%n", op, ms, ms * 1000.0 / 20000);
            assertThat(ms).as(op).isLessThan(60_000);
        }
    }

    private void expect(String sql, String state, String message) {
        var e = db.error(sql);
        assertThat(e.state()).as(sql + " -> " + e.message()).isEqualTo(state);
        assertThat(e.message()).as(sql).isEqualTo(message);
    }
}
