package io.neurondb.tests.vector;

import io.neurondb.tests.support.Tool;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The same vector SQL through psql, Vert.x pg-client, pipelined pgjdbc batches and bare protocol messages. */
class ProtocolMixTest extends VectorProxyTestBase {

    private Vertx vertx;

    @BeforeAll
    void load() throws Exception {
        ensureExtension();
        vertx = Vertx.vertx();
        try (Connection c = proxied()) {
            exec(c, "CREATE TABLE pm_items (id bigint PRIMARY KEY, embedding vector(4))",
                    "INSERT INTO pm_items SELECT i, ARRAY[i % 17, i % 13, i % 11, i % 7]::real[] || ARRAY[]::real[] FROM generate_series(1, 300) i",
                    "CREATE INDEX pm_l2 ON pm_items USING hnsw (embedding vector_l2_ops)",
                    "CREATE TABLE pm_batch (id int PRIMARY KEY, embedding vector(3))",
                    "GRANT ALL ON ALL TABLES IN SCHEMA public TO trust_user");
        }
    }

    @AfterAll
    void closeVertx() throws Exception {
        if (vertx != null) {
            vertx.close().await(10, TimeUnit.SECONDS);
        }
    }

    private List<String> exact(String vector, int k) throws Exception {
        try (Connection d = direct()) {
            return rows(d, "SELECT id FROM pm_items ORDER BY embedding <-> '" + vector + "', id LIMIT " + k);
        }
    }

    PgConnectOptions vertxOptions() {
        return new PgConnectOptions().setHost("127.0.0.1").setPort(proxy.port()).setDatabase(db)
                .setUser("postgres").setPassword("postgres").setPipeliningLimit(64);
    }

    @Test
    void psqlSimpleProtocolKnnAndMultiStatementQuery() throws Exception {
        Tool.Result r = psql("SELECT id FROM pm_items ORDER BY embedding <-> '[3.5,2.5,1.5,0.5]' LIMIT 5;\n");
        assertThat(r.exitCode()).as(r.output()).isZero();
        List<String> want = exact("[3.5,2.5,1.5,0.5]", 5);
        assertThat(r.output().lines().toList()).isEqualTo(want);
        try (Connection c = proxied()) {
            assertThat(prepared(c, "SELECT id FROM pm_items ORDER BY embedding <-> ? LIMIT 5", "[3.5,2.5,1.5,0.5]")).isEqualTo(want);
        }
        // One Query message, several statements: kNN (served and local answer), a proxy setting, passthrough.
        Tool.Result multi = Tool.run(pg.binDir(), "psql", psqlEnv(), null, List.of("-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c",
                "SELECT id, embedding FROM pm_items ORDER BY embedding <-> '[3.5,2.5,1.5,0.5]' LIMIT 1; "
                        + "SELECT id FROM pm_items ORDER BY embedding <-> '[3.5,2.5,1.5,0.5]' LIMIT 2; SHOW hnsw.ef_search; SELECT 'plain'"));
        assertThat(multi.exitCode()).as(multi.output()).isZero();
        String first = want.getFirst();
        assertThat(multi.output().lines().filter(l -> !l.isBlank()).toList())
                .containsExactly(first + "|" + rows(direct(), "SELECT embedding::text FROM pm_items WHERE id = " + first).getFirst()
                        .replace("{", "[").replace("}", "]"), first, want.get(1), "40", "plain");
    }

    /** L2 distances from {@code v} to rows {@code ids} of pm_items (row i is (i%17, i%13, i%11, i%7)). */
    private static List<Double> distances(String v, List<String> ids) {
        String[] parts = v.substring(1, v.length() - 1).split(",");
        List<Double> out = new ArrayList<>();
        for (String id : ids) {
            long i = Long.parseLong(id);
            double[] row = {i % 17, i % 13, i % 11, i % 7};
            double sum = 0;
            for (int d = 0; d < 4; d++) {
                double diff = row[d] - Double.parseDouble(parts[d]);
                sum += diff * diff;
            }
            out.add(Math.round(Math.sqrt(sum) * 1e6) / 1e6);
        }
        return out;
    }

    @Test
    void vertxSimpleQueries() throws Exception {
        PgConnection conn = PgConnection.connect(vertx, vertxOptions()).await(10, TimeUnit.SECONDS);
        try {
            // This test is about pipelining, not recall: search the whole 300-row graph.
            conn.query("SET hnsw.ef_search = 300").execute().await(10, TimeUnit.SECONDS);
            List<Future<RowSet<Row>>> inFlight = new ArrayList<>();
            List<String> vectors = new ArrayList<>();
            Random rnd = new Random(5);
            for (int i = 0; i < 20; i++) {
                String v = "[" + rnd.nextInt(17) + "," + rnd.nextInt(13) + "," + rnd.nextInt(11) + "," + rnd.nextInt(7) + ".5]";
                vectors.add(v);
                inFlight.add(conn.query("SELECT id, embedding FROM pm_items ORDER BY embedding <-> '" + v + "' LIMIT 3").execute());
            }
            for (int i = 0; i < inFlight.size(); i++) {
                RowSet<Row> r = inFlight.get(i).await(10, TimeUnit.SECONDS);
                List<String> ids = new ArrayList<>();
                r.forEach(row -> {
                    ids.add(String.valueOf(row.getLong(0)));
                    assertThat(row.getString(1)).startsWith("[").endsWith("]");
                });
                // Many rows lie at equal distances (integer coordinates): compare distances, not
                // which of the tied ids came first.
                assertThat(distances(vectors.get(i), ids)).isEqualTo(distances(vectors.get(i), exact(vectors.get(i), 3)));
            }
            conn.query("INSERT INTO pm_batch VALUES (500, '[5,0,0]')").execute().await(10, TimeUnit.SECONDS);
            RowSet<Row> back = conn.query("SELECT embedding FROM pm_batch WHERE id = 500").execute().await(10, TimeUnit.SECONDS);
            assertThat(back.iterator().next().getString(0)).isEqualTo("[5,0,0]");
            conn.query("DELETE FROM pm_batch WHERE id = 500").execute().await(10, TimeUnit.SECONDS);
        } finally {
            conn.close().await(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void jdbcBatchWithAServerErrorInsertsNothing() throws Exception {
        try (Connection c = proxied()) {
            exec(c, "DELETE FROM pm_batch");
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO pm_batch VALUES (?, ?)")) {
                for (int i = 1; i <= 6; i++) {
                    ps.setInt(1, i);
                    ps.setString(2, i == 4 ? "[1,2]" : "[" + i + ",0,0]");
                    ps.addBatch();
                }
                BatchUpdateException e = org.assertj.core.api.Assertions.catchThrowableOfType(BatchUpdateException.class, ps::executeBatch);
                assertThat((Object) e).isNotNull();
                assertThat(e.getMessage()).contains("expected 3 dimensions, not 2");
            }
            assertThat(rows(c, "SELECT count(*) FROM pm_batch")).containsExactly("0");
            // The connection goes on.
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO pm_batch VALUES (?, ?)")) {
                for (int i = 1; i <= 3; i++) {
                    ps.setInt(1, i);
                    ps.setString(2, "[" + i + ",0,0]");
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            assertThat(rows(c, "SELECT id, embedding FROM pm_batch ORDER BY id")).containsExactly("1|[1,0,0]", "2|[2,0,0]", "3|[3,0,0]");
            exec(c, "DELETE FROM pm_batch");
        }
    }

    @Test
    void wireServerErrorDiscardsTheRestOfTheBatchIncludingLocalAnswers() throws Exception {
        try (WireClient w = new WireClient(proxy.port(), db, "trust_user")) {
            w.statement("SELECT 1 / (count(*) - count(*)) FROM pm_items")
                    .statement("SELECT id FROM pm_items ORDER BY embedding <-> $1 LIMIT 2", "[1,1,1,1]")
                    .statement("SHOW hnsw.ef_search")
                    .statement("SELECT neurondb.gpu_enabled()")
                    .sync().send();
            List<WireClient.Msg> got = w.readUntilReady();
            // ParseComplete, BindComplete, RowDescription, then the error; nothing more until ReadyForQuery.
            assertThat(WireClient.types(got)).isEqualTo("12TEZ");
            assertThat(got.get(3).field('C')).isEqualTo("22012");
            // The session goes on: a local answer and a served kNN in a fresh batch.
            w.statement("SELECT id FROM pm_items ORDER BY embedding <-> $1 LIMIT 2", "[1,1,1,1]").statement("SHOW hnsw.ef_search").sync().send();
            List<WireClient.Msg> next = w.readUntilReady();
            assertThat(WireClient.types(next)).isEqualTo("12TDDC12TDCZ");
            assertThat(next.get(9).column(0)).isEqualTo("40");
        }
    }

}
