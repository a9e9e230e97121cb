package io.neurondb.tests.vector;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;

import java.io.StringReader;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * kNN queries through the proxy, compared with the same query computed exactly: by PostgreSQL
 * itself with the shim operators (a direct connection, no proxy) or in Java.
 */
class KnnQueryTest extends VectorProxyTestBase {

    static final int N = 1000;
    static final int DIMS = 8;
    static final String[] OPS = {"<->", "<#>", "<=>", "<+>"};

    final float[][] data = new float[N + 1][];

    /**
     * These tests check routing and rewriting against the exact order, not the index's recall
     * (an HNSW build is not deterministic, and at the default ef_search of 40 a 1,000-row graph
     * misses a neighbour now and then): every connection searches the whole graph. The recall
     * test sets its own ef_search.
     */
    @Override
    protected Connection proxied(java.util.Properties extra) throws java.sql.SQLException {
        Connection c = super.proxied(extra);
        exec(c, "SET hnsw.ef_search = 1000");
        return c;
    }

    @BeforeAll
    void load() throws Exception {
        ensureExtension();
        Random rnd = new Random(42);
        List<String> values = new ArrayList<>();
        for (int id = 1; id <= N; id++) {
            data[id] = randomVector(rnd, DIMS);
            values.add("(" + id + ", " + (id % 10) + ", '" + text(data[id]) + "')");
        }
        try (Connection c = proxied()) {
            exec(c, "CREATE TABLE items (id bigint PRIMARY KEY, category int NOT NULL, embedding vector(" + DIMS + "))",
                    "CREATE TABLE cats (id int PRIMARY KEY, name text)",
                    "INSERT INTO cats SELECT i, 'cat' || i FROM generate_series(0, 9) i");
            // (a large COPY is in VectorRegressionsTest)
            for (int from = 0; from < N; from += 250) {
                exec(c, "INSERT INTO items VALUES " + String.join(", ", values.subList(from, Math.min(N, from + 250))));
            }
            exec(c, "CREATE INDEX items_l2 ON items USING hnsw (embedding vector_l2_ops)",
                    "CREATE INDEX items_ip ON items USING hnsw (embedding vector_ip_ops)",
                    "CREATE INDEX items_cos ON items USING hnsw (embedding vector_cosine_ops)",
                    "CREATE INDEX items_l1 ON items USING hnsw (embedding vector_l1_ops)");
            exec(c, "CREATE TABLE ivf (id bigint PRIMARY KEY, embedding vector(" + DIMS + "))",
                    "INSERT INTO ivf SELECT id, embedding FROM items");
            exec(c, "CREATE INDEX ivf_l2 ON ivf USING ivfflat (embedding vector_l2_ops) WITH (lists = 8)");
            exec(c, "CREATE TABLE mutable (id bigint PRIMARY KEY, embedding vector(" + DIMS + "))",
                    "INSERT INTO mutable SELECT id, embedding FROM items WHERE id <= 300",
                    "CREATE INDEX mutable_l2 ON mutable USING hnsw (embedding vector_l2_ops)");
        }
    }

    static float[] randomVector(Random rnd, int dims) {
        float[] v = new float[dims];
        for (int i = 0; i < dims; i++) {
            v[i] = Math.round((rnd.nextFloat() * 2 - 1) * 1000) / 1000f;
        }
        return v;
    }

    static String text(float[] v) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < v.length; i++) {
            b.append(i == 0 ? "" : ",").append(v[i]);
        }
        return b.append(']').toString();
    }

    static double distance(String op, float[] a, float[] b) {
        double s = 0, na = 0, nb = 0;
        for (int i = 0; i < a.length; i++) {
            double x = a[i], y = b[i];
            switch (op) {
                case "<->" -> s += (x - y) * (x - y);
                case "<#>" -> s -= x * y;
                case "<+>" -> s += Math.abs(x - y);
                default -> {
                    s += x * y;
                    na += x * x;
                    nb += y * y;
                }
            }
        }
        return switch (op) {
            case "<->" -> Math.sqrt(s);
            case "<=>" -> 1 - s / Math.sqrt(na * nb);
            default -> s;
        };
    }

    /** Exact top ids in Java. */
    List<Long> exact(String op, float[] q, int k, int offset, java.util.function.IntPredicate filter) {
        return IntStream.rangeClosed(1, N).filter(filter).boxed()
                .sorted(Comparator.comparingDouble((Integer id) -> distance(op, data[id], q)).thenComparing(id -> id))
                .skip(offset).limit(k).map(Integer::longValue).toList();
    }

    /** The same SQL straight to PostgreSQL: the shim computes it exactly. */
    List<String> exactInPostgres(String sql) throws Exception {
        try (Connection d = direct()) {
            return rows(d, sql);
        }
    }

    static List<Long> ids(List<String> rows) {
        return rows.stream().map(r -> Long.parseLong(r.split("\\|")[0])).toList();
    }

    @Test
    void everyOperatorWithALiteralMatchesExactOrder() throws Exception {
        Random rnd = new Random(1);
        try (Connection c = proxied()) {
            for (String op : OPS) {
                for (int i = 0; i < 3; i++) {
                    float[] q = randomVector(rnd, DIMS);
                    String sql = "SELECT id FROM items ORDER BY embedding " + op + " '" + text(q) + "' LIMIT 10";
                    List<Long> got = ids(rows(c, sql));
                    assertThat(got).as(sql).isEqualTo(ids(exactInPostgres(sql)));
                    assertThat(got).as(sql).isEqualTo(exact(op, q, 10, 0, id -> true));
                }
            }
        }
    }

    @Test
    void everyOperatorWithAParameterMatchesExactOrder() throws Exception {
        Random rnd = new Random(2);
        try (Connection c = proxied()) {
            for (String op : OPS) {
                try (PreparedStatement ps = c.prepareStatement("SELECT id, embedding " + op + " ? AS d FROM items ORDER BY embedding " + op + " ? LIMIT ?")) {
                    // More than pgjdbc's prepareThreshold: unnamed, then named server statements.
                    for (int i = 0; i < 7; i++) {
                        float[] q = randomVector(rnd, DIMS);
                        ps.setString(1, text(q));
                        ps.setString(2, text(q));
                        ps.setInt(3, 5);
                        List<Long> got = new ArrayList<>();
                        try (ResultSet rs = ps.executeQuery()) {
                            while (rs.next()) {
                                got.add(rs.getLong(1));
                                assertThat(rs.getDouble(2)).isCloseTo(distance(op, data[(int) rs.getLong(1)], q), within(1e-4));
                            }
                        }
                        assertThat(got).as(op + " round " + i).isEqualTo(exact(op, q, 5, 0, id -> true));
                    }
                }
            }
        }
    }

    @Test
    void localAnswerOfIdAndDistance() throws Exception {
        Random rnd = new Random(3);
        try (Connection c = proxied()) {
            for (String op : OPS) {
                float[] q = randomVector(rnd, DIMS);
                String sql = "SELECT id, embedding " + op + " '" + text(q) + "' AS distance FROM items ORDER BY distance LIMIT 8";
                List<String> got = rows(c, sql);
                List<String> want = exactInPostgres(sql);
                assertThat(ids(got)).as(sql).isEqualTo(ids(want));
                for (int i = 0; i < got.size(); i++) {
                    assertThat(Double.parseDouble(got.get(i).split("\\|")[1]))
                            .isCloseTo(Double.parseDouble(want.get(i).split("\\|")[1]), within(1e-4));
                }
                // Extended protocol, only the id.
                assertThat(prepared(c, "SELECT id FROM items ORDER BY embedding " + op + " ? LIMIT 8", text(q)).stream().map(Long::parseLong).toList())
                        .isEqualTo(exact(op, q, 8, 0, id -> true));
            }
        }
    }

    @Test
    void offsetOrderByPositionAndAlias() throws Exception {
        float[] q = randomVector(new Random(4), DIMS);
        String lit = "'" + text(q) + "'";
        try (Connection c = proxied()) {
            assertThat(ids(rows(c, "SELECT id FROM items ORDER BY embedding <-> " + lit + " LIMIT 5 OFFSET 5")))
                    .isEqualTo(exact("<->", q, 5, 5, id -> true));
            assertThat(ids(rows(c, "SELECT id, embedding <=> " + lit + " FROM items ORDER BY 2 LIMIT 6")))
                    .isEqualTo(exact("<=>", q, 6, 0, id -> true));
            assertThat(ids(rows(c, "SELECT id, category, embedding <+> " + lit + " AS dist FROM items ORDER BY dist LIMIT 4 OFFSET 2")))
                    .isEqualTo(exact("<+>", q, 4, 2, id -> true));
            assertThat(ids(prepared(c, "SELECT id, embedding <#> ? AS score FROM items ORDER BY score LIMIT ? OFFSET ?", text(q), 3, 7)))
                    .isEqualTo(exact("<#>", q, 3, 7, id -> true));
            assertThat(ids(prepared(c, "SELECT items.id FROM items ORDER BY items.embedding <-> ? LIMIT ?", text(q), 0))).isEmpty();
        }
    }

    @Test
    void selectStarAndOtherColumnsComeFromPostgres() throws Exception {
        float[] q = randomVector(new Random(5), DIMS);
        String sql = "SELECT *, upper('x') AS u FROM items ORDER BY embedding <-> '" + text(q) + "' LIMIT 3";
        try (Connection c = proxied()) {
            List<String> got = rows(c, sql);
            List<Long> want = exact("<->", q, 3, 0, id -> true);
            assertThat(ids(got)).isEqualTo(want);
            for (int i = 0; i < 3; i++) {
                int id = (int) (long) want.get(i);
                assertThat(got.get(i)).isEqualTo(id + "|" + (id % 10) + "|" + text(data[id]).replace(".0,", ",").replace(".0]", "]") + "|X");
            }
        }
    }

    @Test
    void whereFiltersReturnExactlyWhatExactSearchReturns() throws Exception {
        Random rnd = new Random(6);
        try (Connection c = proxied()) {
            for (int i = 0; i < 4; i++) {
                float[] q = randomVector(rnd, DIMS);
                String op = OPS[i];
                String lit = "'" + text(q) + "'";
                // 10 % of the rows pass
                assertThat(ids(rows(c, "SELECT id FROM items WHERE category = 7 ORDER BY embedding " + op + " " + lit + " LIMIT 10")))
                        .as(op + " category = 7").isEqualTo(exact(op, q, 10, 0, id -> id % 10 == 7));
                // 1 % of the rows pass: far beyond any over-fetch
                assertThat(ids(rows(c, "SELECT id FROM items WHERE id % 97 = 3 ORDER BY embedding " + op + " " + lit + " LIMIT 5")))
                        .as(op + " id % 97 = 3").isEqualTo(exact(op, q, 5, 0, id -> id % 97 == 3));
                // fewer rows pass than asked for: all of them, in order
                assertThat(ids(rows(c, "SELECT id FROM items WHERE id % 199 = 1 ORDER BY embedding " + op + " " + lit + " LIMIT 50")))
                        .as(op + " exhausted").isEqualTo(exact(op, q, 50, 0, id -> id % 199 == 1));
                // parameters in the filter and the query vector
                assertThat(ids(prepared(c, "SELECT id, category FROM items WHERE category IN (?, ?) AND id > ? ORDER BY embedding " + op + " ? LIMIT ?",
                        1, 2, 100, text(q), 12)))
                        .as(op + " parameters").isEqualTo(exact(op, q, 12, 0, id -> (id % 10 == 1 || id % 10 == 2) && id > 100));
            }
        }
    }

    @Test
    void joinWhereTheKnnTableDrives() throws Exception {
        float[] q = randomVector(new Random(7), DIMS);
        String sql = "SELECT i.id, c.name FROM items i JOIN cats c ON c.id = i.category WHERE c.name <> 'cat3' "
                + "ORDER BY i.embedding <-> '" + text(q) + "' LIMIT 10";
        try (Connection c = proxied()) {
            List<String> got = rows(c, sql);
            assertThat(got).isEqualTo(exactInPostgres(sql));
            assertThat(ids(got)).isEqualTo(exact("<->", q, 10, 0, id -> id % 10 != 3));
            List<String> viaParam = prepared(c, "SELECT i.id, c.name FROM items i JOIN cats c ON c.id = i.category WHERE c.name <> 'cat3' "
                    + "ORDER BY i.embedding <-> ? LIMIT 10", text(q));
            assertThat(viaParam).isEqualTo(got);
        }
    }

    @Test
    void ivfflatWithAllProbesIsExact() throws Exception {
        Random rnd = new Random(8);
        try (Connection c = proxied()) {
            exec(c, "SET ivfflat.probes = 8");
            for (int i = 0; i < 3; i++) {
                float[] q = randomVector(rnd, DIMS);
                assertThat(ids(rows(c, "SELECT id FROM ivf ORDER BY embedding <-> '" + text(q) + "' LIMIT 10")))
                        .isEqualTo(exact("<->", q, 10, 0, id -> true));
            }
            exec(c, "RESET ivfflat.probes");
        }
    }

    @Test
    void queriesWithoutAnEngineIndexStillRunExactlyInPostgres() throws Exception {
        float[] q = randomVector(new Random(9), DIMS);
        try (Connection c = proxied()) {
            // the ivf table has only an L2 index; cosine is computed by the shim
            assertThat(ids(rows(c, "SELECT id FROM ivf ORDER BY embedding <=> '" + text(q) + "' LIMIT 5")))
                    .isEqualTo(exact("<=>", q, 5, 0, id -> true));
            // no LIMIT: the whole table in order
            assertThat(ids(rows(c, "SELECT id FROM items WHERE category = 4 ORDER BY embedding <-> '" + text(q) + "'")))
                    .isEqualTo(exact("<->", q, N, 0, id -> id % 10 == 4));
            // descending: not what an index serves
            List<Long> desc = new ArrayList<>(exact("<->", q, N, 0, id -> true));
            java.util.Collections.reverse(desc);
            assertThat(ids(rows(c, "SELECT id FROM items ORDER BY embedding <-> '" + text(q) + "' DESC LIMIT 3")))
                    .isEqualTo(desc.subList(0, 3));
        }
    }

    @Test
    void writesThroughTheProxyAreSeenAtOnce() throws Exception {
        Random rnd = new Random(10);
        try (Connection c = proxied(); Connection other = proxied()) {
            float[] q = randomVector(rnd, DIMS);
            String lit = "'" + text(q) + "'";
            String knn = "SELECT id FROM mutable ORDER BY embedding <-> " + lit + " LIMIT 3";
            // A new row equal to the query: it must come first at once, in this session and others.
            exec(c, "INSERT INTO mutable VALUES (5001, " + lit + ")");
            assertThat(ids(rows(c, knn)).getFirst()).isEqualTo(5001L);
            assertThat(ids(rows(other, knn)).getFirst()).isEqualTo(5001L);
            assertThat(ids(prepared(other, "SELECT id FROM mutable ORDER BY embedding <-> ? LIMIT 3", text(q))).getFirst()).isEqualTo(5001L);

            // Inside a transaction: the session sees its own writes, others do not until commit.
            c.setAutoCommit(false);
            exec(c, "DELETE FROM mutable WHERE id = 5001", "INSERT INTO mutable VALUES (5002, " + lit + ")");
            assertThat(ids(rows(c, knn))).startsWith(5002L).doesNotContain(5001L);
            assertThat(ids(rows(other, knn))).startsWith(5001L).doesNotContain(5002L);
            c.commit();
            c.setAutoCommit(true);
            assertThat(ids(rows(other, knn))).startsWith(5002L).doesNotContain(5001L);

            // UPDATE moves a row; rolled back writes change nothing.
            exec(c, "UPDATE mutable SET embedding = " + lit + " WHERE id = 7");
            c.setAutoCommit(false);
            exec(c, "DELETE FROM mutable WHERE id IN (7, 5002)");
            c.rollback();
            c.setAutoCommit(true);
            List<Long> got = ids(rows(other, knn));
            assertThat(got.subList(0, 2)).containsExactlyInAnyOrder(7L, 5002L);

            // Many inserts: results stay exact while the index catches up, and it does catch up.
            StringBuilder values = new StringBuilder();
            for (int i = 0; i < 200; i++) {
                values.append(i == 0 ? "" : ",").append("(").append(6000 + i).append(", '").append(text(randomVector(rnd, DIMS))).append("')");
            }
            exec(c, "INSERT INTO mutable VALUES " + values);
            for (int round = 0; round < 5; round++) {
                float[] p = randomVector(rnd, DIMS);
                String sql = "SELECT id FROM mutable ORDER BY embedding <-> '" + text(p) + "' LIMIT 10";
                assertThat(rows(other, sql)).as("round " + round).isEqualTo(exactInPostgres(sql));
            }
            long deadline = System.nanoTime() + 20_000_000_000L;
            String state;
            do {
                state = statsOf(c, "mutable").stream().filter(r -> r.startsWith("mutable_l2|")).findFirst().orElse("?");
                state = state.substring(state.indexOf("|l2|8|") + 6);
                if (state.equals("501|ready")) {
                    break;
                }
                Thread.sleep(100);
            } while (System.nanoTime() < deadline);
            assertThat(state).isEqualTo("501|ready");
            float[] p = randomVector(rnd, DIMS);
            String sql = "SELECT id FROM mutable ORDER BY embedding <-> '" + text(p) + "' LIMIT 10";
            assertThat(rows(other, sql)).isEqualTo(exactInPostgres(sql));
        }
    }

    @Test
    void indexStatsDescribeTheServedIndexes() throws Exception {
        try (Connection c = proxied(); PreparedStatement ps = c.prepareStatement("SELECT * FROM neurondb.index_stats()");
             ResultSet rs = ps.executeQuery()) {
            var md = rs.getMetaData();
            List<String> cols = new ArrayList<>();
            for (int i = 1; i <= md.getColumnCount(); i++) {
                cols.add(md.getColumnName(i) + ":" + md.getColumnTypeName(i));
            }
            assertThat(cols).startsWith("index_name:text", "table_name:text", "column_name:text", "method:text", "metric:text",
                    "dims:int4", "rows:int8", "memory_bytes:int8", "build_seconds:float8", "state:text");
            Set<String> seen = new HashSet<>();
            while (rs.next()) {
                seen.add(rs.getString("index_name"));
                if (rs.getString("index_name").startsWith("items_")) {
                    assertThat(rs.getString("table_name")).isEqualTo("public.items");
                    assertThat(rs.getInt("dims")).isEqualTo(DIMS);
                    assertThat(rs.getLong("rows")).isEqualTo(N);
                    assertThat(rs.getLong("memory_bytes")).isGreaterThan((long) N * DIMS * 4);
                    assertThat(rs.getDouble("build_seconds")).isGreaterThanOrEqualTo(0);
                    assertThat(rs.getString("state")).isEqualTo("ready");
                }
            }
            assertThat(seen).contains("items_l2", "items_ip", "items_cos", "items_l1", "ivf_l2");
        }
        try (Connection c = proxied()) {
            assertThat(statsOf(c, "items").stream().map(r -> r.split("\\|")[4]).sorted().toList())
                    .containsExactly("cosine", "ip", "l1", "l2");
            assertThat(statsOf(c, "ivf")).containsExactly("ivf_l2|public.ivf|embedding|ivfflat|l2|8|1000|ready");
        }
    }

    @Test
    void realisticDimensionsRecall() throws Exception {
        int n = 1000;
        int dims = 384;
        Random rnd = new Random(11);
        float[][] vecs = new float[n + 1][];
        List<String> wideRows = new ArrayList<>();
        for (int id = 1; id <= n; id++) {
            vecs[id] = new float[dims];
            for (int j = 0; j < dims; j++) {
                vecs[id][j] = (float) rnd.nextGaussian();
            }
            wideRows.add("(" + id + ", '" + text(vecs[id]) + "')");
        }
        try (Connection c = proxied()) {
            exec(c, "CREATE TABLE wide (id bigint PRIMARY KEY, embedding vector(384))");
            for (int from = 0; from < n; from += 100) {
                exec(c, "INSERT INTO wide VALUES " + String.join(", ", wideRows.subList(from, Math.min(n, from + 100))));
            }
            exec(c, "CREATE INDEX wide_cos ON wide USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)");
            // random Gaussian vectors are the hardest case for a graph index: a wider search
            exec(c, "SET hnsw.ef_search = 100");
            int hits = 0;
            int queries = 10;
            try (PreparedStatement ps = c.prepareStatement("SELECT id FROM wide ORDER BY embedding <=> ? LIMIT 10")) {
                for (int qi = 0; qi < queries; qi++) {
                    float[] q = new float[dims];
                    for (int j = 0; j < dims; j++) {
                        q[j] = (float) rnd.nextGaussian();
                    }
                    ps.setString(1, text(q));
                    Set<Long> got = new HashSet<>();
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            got.add(rs.getLong(1));
                        }
                    }
                    assertThat(got).hasSize(10);
                    final float[] fq = q;
                    List<Long> truth = IntStream.rangeClosed(1, n).boxed()
                            .sorted(Comparator.comparingDouble(id -> distance("<=>", vecs[id], fq))).limit(10).map(Integer::longValue).toList();
                    for (Long t : truth) {
                        if (got.contains(t)) {
                            hits++;
                        }
                    }
                }
            }
            assertThat(hits / (double) (queries * 10)).as("recall@10").isGreaterThanOrEqualTo(0.9);
        }
    }
}
