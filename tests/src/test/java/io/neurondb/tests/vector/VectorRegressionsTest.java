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
import org.postgresql.PGConnection;

import java.io.StringReader;
import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Cases found failing while writing the vector suite, kept as regressions: large COPY, proxy
 * commands after a failed one in the extended protocol, dimensionless vector columns, errors in
 * pipelined batches, Vert.x text parameters, index_stats() projections, COPY error codes.
 */
class VectorRegressionsTest extends VectorProxyTestBase {

    private Vertx vertx;

    @BeforeAll
    void setUp() throws Exception {
        ensureExtension();
        vertx = Vertx.vertx();
        try (Connection c = proxied()) {
            exec(c, "CREATE TABLE p_items (id bigint PRIMARY KEY, embedding vector(3))",
                    "INSERT INTO p_items SELECT i, ARRAY[i, i % 7, i % 3]::real[] FROM generate_series(1, 100) i",
                    "CREATE INDEX p_l2 ON p_items USING hnsw (embedding vector_l2_ops)",
                    "CREATE TABLE p_batch (id int PRIMARY KEY, embedding vector(3))",
                    "GRANT ALL ON ALL TABLES IN SCHEMA public TO trust_user");
        }
    }

    @AfterAll
    void closeVertx() throws Exception {
        if (vertx != null) {
            vertx.close().await(10, TimeUnit.SECONDS);
        }
    }

    // F1
    @Test
    void copyOfAThousandRowsCompletes() throws Exception {
        StringBuilder copy = new StringBuilder();
        for (int id = 1; id <= 1000; id++) {
            copy.append(id).append('\t').append("[0.123,-0.456,0.789,0.111,0.222,-0.333,0.444,0.555]").append('\n');
        }
        try (Connection c = proxied()) {
            exec(c, "CREATE TABLE p_copy (id bigint PRIMARY KEY, embedding vector(8))");
            long n = c.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY p_copy FROM STDIN", new StringReader(copy.toString()));
            assertThat(n).isEqualTo(1000);
        }
    }

    // F2
    @Test
    void failedExtensionCommandInTheExtendedProtocolDoesNotBreakTheNextOne() throws Exception {
        try (Connection c = proxied(); Statement s = c.createStatement()) {
            s.execute("CREATE EXTENSION IF NOT EXISTS neurondb");
            expectError("42710", "already exists", () -> s.execute("CREATE EXTENSION neurondb"));
            expectError("42710", "already exists", () -> s.execute("CREATE EXTENSION neurondb"));
            expectError("22023", "no update path", () -> s.execute("ALTER EXTENSION neurondb UPDATE TO '9.9'"));
            s.execute("ALTER EXTENSION neurondb UPDATE");
        }
    }

    // F3
    @Test
    void vectorColumnWithoutDimensions() throws Exception {
        try (Connection c = proxied()) {
            exec(c, "CREATE TABLE p_free (id int PRIMARY KEY, free vector)", "INSERT INTO p_free VALUES (1, '[1,2]'), (2, '[1,2,3,4]')");
            assertThat(rows(c, "SELECT free FROM p_free ORDER BY id")).containsExactly("[1,2]", "[1,2,3,4]");
            assertThat(rows(c, "SELECT dims FROM neurondb.vector_columns WHERE table_name = 'p_free'::regclass")).containsExactly("null");
        }
    }

    // F4
    @Test
    void castLiteralWithWrongDimensionsIsRefused() throws Exception {
        try (Connection c = proxied()) {
            exec(c, "CREATE TABLE p_dm (id int PRIMARY KEY, embedding vector(3))");
            expectError("22000", "expected 3 dimensions, not 4", () -> exec(c, "INSERT INTO p_dm VALUES (1, '[1,2,3,4]'::vector)"));
            assertThat(rows(c, "SELECT count(*) FROM p_dm")).containsExactly("0");
        }
    }

    // F5
    @Test
    void malformedTextParameterHasPgvectorsMessage() throws Exception {
        try (Connection c = proxied(); PreparedStatement ps = c.prepareStatement("INSERT INTO p_batch VALUES (1, ?)")) {
            ps.setString(1, "1,2,3");
            expectError("22P02", "invalid input syntax for type vector", ps::executeUpdate);
        }
    }

    // F6
    @Test
    void vertxStringVectorParameter() throws Exception {
        PgConnection conn = PgConnection.connect(vertx, new PgConnectOptions().setHost("127.0.0.1").setPort(proxy.port())
                .setDatabase(db).setUser("postgres").setPassword("postgres")).await(10, TimeUnit.SECONDS);
        try {
            RowSet<Row> rs = conn.preparedQuery("SELECT id FROM p_items ORDER BY embedding <-> $1 LIMIT 1")
                    .execute(Tuple.of("[5,5,2]")).await(10, TimeUnit.SECONDS);
            assertThat(rs.iterator().next().getLong(0)).isEqualTo(5L);
            conn.preparedQuery("INSERT INTO p_batch VALUES ($1, $2)").execute(Tuple.of(77, "[7,7,7]")).await(10, TimeUnit.SECONDS);
            Throwable bad = conn.preparedQuery("SELECT id FROM p_items ORDER BY embedding <-> $1 LIMIT 1").execute(Tuple.of("[1,x,1]"))
                    .transform(ar -> Future.succeededFuture(ar.cause())).await(10, TimeUnit.SECONDS);
            assertThat(bad).isNotNull().hasMessageContaining("invalid input syntax for type vector");
            conn.query("DELETE FROM p_batch WHERE id = 77").execute().await(10, TimeUnit.SECONDS);
        } finally {
            conn.close().await(5, TimeUnit.SECONDS);
        }
    }

    // F7
    @Test
    void knnInTheSameSimpleQuerySeesAnEarlierInsert() throws Exception {
        Tool.Result multi = Tool.run(pg.binDir(), "psql", psqlEnv(), null, List.of("-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c",
                "INSERT INTO p_items VALUES (9001, '[500,500,500]'); "
                        + "SELECT id FROM p_items ORDER BY embedding <-> '[499,499,499]' LIMIT 1; "
                        + "DELETE FROM p_items WHERE id = 9001"));
        assertThat(multi.exitCode()).as(multi.output()).isZero();
        assertThat(multi.output().lines().filter(l -> !l.isBlank()).toList()).containsExactly("9001");
    }

    // F8
    @Test
    void jdbcBatchWithAMalformedVectorInsertsNothing() throws Exception {
        try (Connection c = proxied()) {
            exec(c, "DELETE FROM p_batch");
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO p_batch VALUES (?, ?)")) {
                for (int i = 1; i <= 6; i++) {
                    ps.setInt(1, i);
                    ps.setString(2, i == 4 ? "[1,x,2]" : "[" + i + ",0,0]");
                    ps.addBatch();
                }
                BatchUpdateException e = org.assertj.core.api.Assertions.catchThrowableOfType(BatchUpdateException.class, ps::executeBatch);
                assertThat((Object) e).isNotNull();
            }
            assertThat(rows(c, "SELECT count(*) FROM p_batch")).containsExactly("0");
        }
    }

    // F8
    @Test
    void wireLocalErrorRollsBackWhatCameBeforeInTheBatch() throws Exception {
        try (Connection c = proxied()) {
            exec(c, "DELETE FROM p_batch");
        }
        try (WireClient w = new WireClient(proxy.port(), db, "trust_user")) {
            w.statement("INSERT INTO p_batch VALUES (1, $1)", "[1,2,3]")
                    .statement("SET hnsw.ef_search = 0")
                    .statement("INSERT INTO p_batch VALUES (2, $1)", "[1,2,3]")
                    .sync().send();
            List<WireClient.Msg> got = w.readUntilReady();
            String types = WireClient.types(got);
            assertThat(types).endsWith("EZ");
            assertThat(got.get(types.indexOf('E')).field('C')).isEqualTo("22023");
        }
        try (Connection c = proxied()) {
            assertThat(rows(c, "SELECT count(*) FROM p_batch")).containsExactly("0");
        }
    }

    // F9
    @Test
    void indexStatsWithAColumnListAndWhere() throws Exception {
        try (Connection c = proxied()) {
            assertThat(rows(c, "SELECT index_name, rows, state FROM neurondb.index_stats() WHERE table_name = 'public.p_items'"))
                    .containsExactly("p_l2|100|ready");
        }
    }

    // F11
    @Test
    void copyRowErrorsHavePgvectorsSqlstate() throws Exception {
        try (Connection c = proxied()) {
            var copy = c.unwrap(PGConnection.class).getCopyAPI();
            expectError("22000", "expected 3 dimensions, not 2",
                    () -> copy.copyIn("COPY p_batch (id, embedding) FROM STDIN", new StringReader("1\t[1,2,3]\n2\t[1,2]\n")));
            expectError("22P02", "invalid input syntax for type vector",
                    () -> copy.copyIn("COPY p_batch (id, embedding) FROM STDIN", new StringReader("1\t[1,x,3]\n")));
        }
    }

    // F12
    @Test
    void craftedCastLiteralIsAVectorSyntaxError() throws Exception {
        try (Connection c = proxied()) {
            expectError("22P02", "invalid input syntax for type vector",
                    () -> exec(c, "INSERT INTO p_batch VALUES (10, '[1,2,3]''); DROP TABLE p_batch; --'::vector)"));
        }
    }

    // F13
    @Test
    void dropTableRemovesItsIndexCatalogRows() throws Exception {
        try (Connection c = proxied()) {
            exec(c, "CREATE TABLE p_drop (id int PRIMARY KEY, embedding vector(3))",
                    "CREATE INDEX p_drop_idx ON p_drop USING hnsw (embedding vector_l2_ops)", "DROP TABLE p_drop");
            assertThat(rows(c, "SELECT count(*) FROM neurondb.indexes WHERE index_name = 'p_drop_idx'")).containsExactly("0");
            assertThat(rows(c, "SELECT count(*) FROM neurondb.vector_columns WHERE column_name = 'embedding' AND to_regclass(table_name::oid::regclass::text) IS NULL"))
                    .containsExactly("0");
        }
    }
}
