package io.neurondb.tests.route;

import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.proxy.route.DistanceOperator;
import io.neurondb.proxy.route.IndexDefinition;
import io.neurondb.proxy.route.IndexMethod;
import io.neurondb.proxy.route.KnnSpec;
import io.neurondb.proxy.route.ParamPlan;
import io.neurondb.proxy.route.StatementPlan;
import io.neurondb.proxy.route.TableName;
import io.neurondb.proxy.route.VectorCatalog;
import io.neurondb.proxy.route.VectorSqlRewriter;
import io.neurondb.proxy.shim.ShimScripts;
import io.neurondb.tests.support.TestPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.postgresql.util.PSQLException;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The SQL {@link VectorSqlRewriter} writes runs on stock PostgreSQL with the shim, and a kNN
 * rewrite returns exactly what the original ORDER BY returns, whatever the candidate list:
 * complete, partial, empty, or holding ids of deleted rows.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RewrittenSqlRunsTest {

    private static final String DB = "rewriter_runs";
    private static final int ROWS = 300;

    private final VectorSqlRewriter rewriter = new VectorSqlRewriter();
    private LocalPostgres pg;
    private Connection c;
    private VectorCatalog catalog;
    private int prepared;

    @BeforeAll
    void setUp() throws Exception {
        pg = TestPostgres.shared();
        try (Connection admin = TestPostgres.superuser(pg); Statement s = admin.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + DB);
            s.execute("CREATE DATABASE " + DB);
        }
        Properties p = new Properties();
        p.setProperty("user", TestPostgres.SUPERUSER);
        p.setProperty("password", TestPostgres.SUPERUSER_PASSWORD);
        c = DriverManager.getConnection(pg.jdbcUrl(DB), p);
        try (Statement s = c.createStatement()) {
            s.execute(ShimScripts.install("public", false));
            // The function the kNN rewrite relies on to keep plans serial; defined here when
            // the shim does not have it (yet). plpgsql so that it is never inlined away.
            s.execute("DO $$ BEGIN IF to_regproc('neurondb.no_parallel') IS NULL THEN "
                    + "EXECUTE 'CREATE FUNCTION neurondb.no_parallel() RETURNS boolean LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE "
                    + "AS $f$ BEGIN RETURN true; END $f$'; END IF; END $$");
            // Make a parallel plan attractive, so a missing no_parallel() would show.
            s.execute("SET parallel_setup_cost = 0");
            s.execute("SET parallel_tuple_cost = 0");
            s.execute("SET min_parallel_table_scan_size = 0");
        }
        StatementPlan ddl = rewriter.rewrite("CREATE TABLE items (id bigint PRIMARY KEY, name text, embedding vector(3), category int)",
                VectorCatalog.EMPTY);
        assertThat(ddl).isInstanceOf(StatementPlan.Rewrite.class);
        exec(((StatementPlan.Rewrite) ddl).sql());
        exec("CREATE TABLE cats (id int PRIMARY KEY, label text)");
        exec("INSERT INTO cats SELECT g, 'cat ' || g FROM generate_series(0, 3) g");
        Random r = new Random(42);
        StringBuilder insert = new StringBuilder("INSERT INTO items VALUES ");
        for (int i = 1; i <= ROWS; i++) {
            insert.append(i == 1 ? "" : ", ").append("(").append(i).append(", 'item ").append(i).append("', '{")
                    .append(r.nextFloat() * 2 - 1).append(',').append(r.nextFloat() * 2 - 1).append(',').append(r.nextFloat() * 2 - 1)
                    .append("}', ").append(i % 5 == 0 ? "NULL" : Integer.toString(i % 4)).append(")");
        }
        exec(insert.toString());
        exec("INSERT INTO items VALUES (1000, 'no vector', NULL, 1)");
        exec("ANALYZE items");

        Map<String, Integer> dims = new LinkedHashMap<>();
        dims.put("embedding", 3);
        VectorCatalog.Table items = new VectorCatalog.Table("public", "items", 1, List.of("id", "name", "embedding", "category"),
                dims, Map.of("embedding", 3));
        List<IndexDefinition> indexes = new ArrayList<>();
        for (DistanceOperator op : DistanceOperator.values()) {
            indexes.add(new IndexDefinition("public", "items_" + op.name().toLowerCase(), TableName.of("public", "items"),
                    "embedding", "id", IndexMethod.HNSW, op, Map.of()));
        }
        catalog = new VectorCatalog(1, List.of(items), indexes);
    }

    @AfterAll
    void tearDown() throws SQLException {
        if (c != null) {
            c.close();
        }
    }

    @Test
    void rewrittenDdlChecksDimensionsLikePgvector() throws Exception {
        assertThatThrownBy(() -> exec("INSERT INTO items VALUES (5000, 'bad', '{1,2}', 0)"))
                .isInstanceOf(PSQLException.class)
                .satisfies(e -> assertThat(((PSQLException) e).getSQLState()).isEqualTo("22000"))
                .hasMessageContaining("expected 3 dimensions, not 2");
        StatementPlan alter = rewriter.rewrite("ALTER TABLE cats ADD COLUMN IF NOT EXISTS v vector", VectorCatalog.EMPTY);
        exec(((StatementPlan.Rewrite) alter).sql());
        exec("UPDATE cats SET v = '{1,2,3,4}' WHERE id = 0");
    }

    @Test
    void rewrittenLiteralsRun() throws Exception {
        StatementPlan p = rewriter.rewrite("SELECT id FROM items WHERE embedding <> '[9,9,9]' AND l2_distance(embedding, '[0,0,0]') < 10 "
                + "ORDER BY embedding <#> '[1,0,0]', id LIMIT 3", catalog);
        assertThat(p).isInstanceOf(StatementPlan.Knn.class);
        StatementPlan.Knn k = (StatementPlan.Knn) p;
        List<List<Object>> exact = query("SELECT id FROM items ORDER BY embedding <#> '{1,0,0}'::real[], id LIMIT 3");
        assertSameRows(runKnn(k, List.of(), List.of(), List.of()), exact, "literals");
    }

    @Test
    void knnWithParameterLimit() throws Exception {
        checkKnn("SELECT id, name FROM items ORDER BY embedding <-> $1 LIMIT $2",
                q -> List.of(vec(q), "5"), 5, 0);
    }

    @Test
    void knnWithFilterAliasAndParameterOffset() throws Exception {
        checkKnn("SELECT id, embedding <-> $1::vector AS d FROM items i WHERE i.category = $2 ORDER BY d LIMIT $3 OFFSET $4",
                q -> List.of(vec(q), "1", "4", "3"), 4, 3);
    }

    @Test
    void knnStarCosineWithLiteralOffset() throws Exception {
        checkKnn("SELECT * FROM items ORDER BY embedding <=> $1 LIMIT 4 OFFSET 2", q -> List.of(vec(q)), 4, 2);
    }

    @Test
    void knnL1ByOrdinal() throws Exception {
        checkKnn("SELECT id, embedding <+> $1 FROM items ORDER BY 2 LIMIT 6", q -> List.of(vec(q)), 6, 0);
    }

    @Test
    void knnWithLeftJoin() throws Exception {
        checkKnn("SELECT i.id, c.label FROM items i LEFT JOIN cats c ON c.id = i.category ORDER BY i.embedding <-> $1 LIMIT 7",
                q -> List.of(vec(q)), 7, 0);
    }

    @Test
    void knnWithADistanceThreshold() throws Exception {
        checkKnn("SELECT id, embedding <-> $1 AS d FROM items WHERE embedding <-> $1 < 0.9 AND name <> 'item 7' ORDER BY d LIMIT 8",
                q -> List.of(vec(q)), 8, 0);
    }

    @Test
    void knnLargerThanTheTable() throws Exception {
        checkKnn("SELECT id FROM items WHERE category = 2 ORDER BY embedding <-> $1 LIMIT 500", q -> List.of(vec(q)), 500, 0);
    }

    @Test
    void completeCandidatesNeverRunTheExactBranch() throws Exception {
        StatementPlan.Knn k = (StatementPlan.Knn) rewriter.rewrite(
                "SELECT id, embedding <-> $1 AS d FROM items ORDER BY d LIMIT 3", catalog);
        float[] q = {0.1f, 0.2f, 0.3f};
        List<List<Object>> top = query("SELECT id, (embedding <-> " + vec(q) + ")::real FROM items "
                + "WHERE embedding IS NOT NULL ORDER BY embedding <-> " + vec(q) + " LIMIT 10");
        String ids = "'{" + String.join(",", top.stream().map(r -> r.get(0).toString()).toList()) + "}'";
        String dists = "'{" + String.join(",", top.stream().map(r -> r.get(1).toString()).toList()) + "}'";
        exec("PREPARE plan_check(real[], bigint[], real[]) AS " + k.sql());
        try {
            List<List<Object>> plan = query("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) EXECUTE plan_check("
                    + vec(q) + ", " + ids + ", " + dists + ")");
            String text = String.join("\n", plan.stream().map(r -> r.get(0).toString()).toList());
            // The Limit above the Append is satisfied by the candidate branch: the exact branch
            // (a scan of the whole table) is never started, and nothing runs in parallel.
            assertThat(text).as(text).contains("never executed").doesNotContain("Gather").doesNotContain("Parallel");
        } finally {
            exec("DEALLOCATE plan_check");
        }
    }

    /**
     * Runs the original statement and the rewrite with several candidate lists, and expects the
     * same rows. The candidates are what an engine would give: the nearest ids of the whole
     * table (ignoring any filter), with their distances.
     */
    private void checkKnn(String sql, Function<float[], List<String>> clientArgs, int limit, int offset) throws Exception {
        StatementPlan p = rewriter.rewrite(sql, catalog);
        assertThat(p).as(sql).isInstanceOf(StatementPlan.Knn.class);
        StatementPlan.Knn k = (StatementPlan.Knn) p;
        KnnSpec spec = k.spec();
        Random r = new Random(sql.hashCode());
        for (int round = 0; round < 3; round++) {
            float[] q = {r.nextFloat() * 2 - 1, r.nextFloat() * 2 - 1, r.nextFloat() * 2 - 1};
            List<String> args = clientArgs.apply(q);
            // The reference: the original statement run by PostgreSQL with the shim's operators
            // (stock PostgreSQL has no type vector, so the test's own ::vector casts are spelled real[]).
            List<List<Object>> exact = runPrepared(sql.replace("::vector", "::real[]"), k.params(), args, true);
            assertThat(exact).isNotEmpty();

            List<List<Object>> top = query("SELECT id, (embedding " + spec.operator().symbol() + " " + vec(q) + ")::real FROM items "
                    + "WHERE embedding IS NOT NULL ORDER BY embedding " + spec.operator().symbol() + " " + vec(q) + " LIMIT " + 2 * (limit + offset));
            List<Long> ids = top.stream().map(row -> ((Number) row.get(0)).longValue()).toList();
            List<Float> dists = top.stream().map(row -> ((Number) row.get(1)).floatValue()).toList();

            assertSameRows(runKnn(k, args, ids, dists), exact, "complete: " + sql);
            int half = Math.max(1, ids.size() / 4);
            assertSameRows(runKnn(k, args, ids.subList(0, half), dists.subList(0, half)), exact, "partial: " + sql);
            assertSameRows(runKnn(k, args, List.of(), List.of()), exact, "empty: " + sql);
            List<Long> withDeleted = new ArrayList<>(ids);
            List<Float> withDeletedDists = new ArrayList<>(dists);
            withDeleted.add(1, 777_777L);
            withDeletedDists.add(1, dists.get(0));
            withDeleted.add(0, 888_888L);
            withDeletedDists.add(0, 0f);
            assertSameRows(runKnn(k, args, withDeleted, withDeletedDists), exact, "deleted ids: " + sql);
        }
    }

    private List<List<Object>> runKnn(StatementPlan.Knn k, List<String> clientArgs, List<Long> ids, List<Float> dists) throws SQLException {
        List<String> args = new ArrayList<>(clientArgs);
        for (ParamPlan.Extra e : k.params().extras()) {
            switch (e) {
                case ParamPlan.VectorValue v -> args.add(vec(v.value()));
                case ParamPlan.CandidateIds ignored -> args.add("'{" + String.join(",", ids.stream().map(String::valueOf).toList()) + "}'");
                case ParamPlan.CandidateDistances ignored -> args.add("'{" + String.join(",", dists.stream().map(String::valueOf).toList()) + "}'");
                case ParamPlan.IndexStatsJson ignored -> args.add("'[]'");
            }
        }
        return runPrepared(k.sql(), k.params(), args, false);
    }

    /** PREPARE with the parameter types the proxy's Parse would give, then EXECUTE with literal arguments. */
    private List<List<Object>> runPrepared(String sql, ParamPlan params, List<String> args, boolean original) throws SQLException {
        List<String> types = new ArrayList<>();
        int total = original ? params.clientParams() : params.totalParams();
        for (int n = 1; n <= total; n++) {
            if (n <= params.clientParams()) {
                types.add(params.isVector(n) ? "real[]" : "unknown");
            } else {
                types.add(params.extras().get(n - params.clientParams() - 1).typeOid() == ParamPlan.BIGINT_ARRAY_OID ? "bigint[]" : "real[]");
            }
        }
        String name = "q" + (++prepared);
        exec("PREPARE " + name + (types.isEmpty() ? "" : "(" + String.join(", ", types) + ")") + " AS " + sql);
        try {
            return query("EXECUTE " + name + (args.isEmpty() ? "" : "(" + String.join(", ", args.subList(0, total)) + ")"));
        } finally {
            exec("DEALLOCATE " + name);
        }
    }

    private static String vec(float[] v) {
        StringBuilder b = new StringBuilder("'{");
        for (int i = 0; i < v.length; i++) {
            b.append(i == 0 ? "" : ",").append(v[i]);
        }
        return b.append("}'::real[]").toString();
    }

    private void exec(String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    /** Same rows in the same order; floating-point values within float4 precision (the engine reports float4 distances). */
    private static void assertSameRows(List<List<Object>> actual, List<List<Object>> expected, String what) {
        assertThat(actual).as(what).hasSameSizeAs(expected);
        for (int i = 0; i < expected.size(); i++) {
            List<Object> a = actual.get(i);
            List<Object> e = expected.get(i);
            assertThat(a).as(what + " row " + i).hasSameSizeAs(e);
            for (int j = 0; j < e.size(); j++) {
                if (e.get(j) instanceof Double || e.get(j) instanceof Float) {
                    double x = ((Number) a.get(j)).doubleValue();
                    double y = ((Number) e.get(j)).doubleValue();
                    assertThat(Math.abs(x - y)).as(what + " row " + i + " column " + j + ": " + a + " vs " + e)
                            .isLessThanOrEqualTo(1e-5 * Math.max(1, Math.abs(y)));
                } else {
                    assertThat(a.get(j)).as(what + " row " + i + ": " + a + " vs " + e).isEqualTo(e.get(j));
                }
            }
        }
    }

    /** Rows as lists. */
    private List<List<Object>> query(String sql) throws SQLException {
        List<List<Object>> rows = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            ResultSetMetaData md = rs.getMetaData();
            while (rs.next()) {
                List<Object> row = new ArrayList<>();
                for (int i = 1; i <= md.getColumnCount(); i++) {
                    Object o = rs.getObject(i);
                    if (o instanceof java.sql.Array a) {
                        o = java.util.Arrays.toString((Object[]) a.getArray());
                    }
                    row.add(o);
                }
                rows.add(row);
            }
        }
        return rows;
    }
}
