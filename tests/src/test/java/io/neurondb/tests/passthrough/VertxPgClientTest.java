package io.neurondb.tests.passthrough;

import io.neurondb.tests.support.ProxyUnderTest;
import io.neurondb.tests.support.TestPostgres;
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
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The Vert.x reactive client pipelines extended-protocol queries on one connection. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class VertxPgClientTest {

    private ProxyUnderTest proxy;
    private Vertx vertx;

    @BeforeAll
    void start() {
        proxy = ProxyUnderTest.start(TestPostgres.shared());
        vertx = Vertx.vertx();
    }

    @AfterAll
    void stop() throws Exception {
        vertx.close().await(10, TimeUnit.SECONDS);
        proxy.close();
    }

    private PgConnectOptions options() {
        return new PgConnectOptions().setHost("127.0.0.1").setPort(proxy.port()).setDatabase("postgres")
                .setUser("scram_user").setPassword("scrampass").setPipeliningLimit(64);
    }

    @Test
    void pipelinedPreparedQueriesAnswerInOrder() throws Exception {
        PgConnection conn = PgConnection.connect(vertx, options()).await(10, TimeUnit.SECONDS);
        try {
            List<Future<RowSet<Row>>> inFlight = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                // Alternate statements so the pipeline holds several prepared statements.
                String sql = i % 2 == 0 ? "SELECT $1::int * 2 AS v" : "SELECT $1::int + 1000 AS v";
                inFlight.add(conn.preparedQuery(sql).execute(Tuple.of(i)));
            }
            for (int i = 0; i < 200; i++) {
                RowSet<Row> rows = inFlight.get(i).await(10, TimeUnit.SECONDS);
                int expected = i % 2 == 0 ? i * 2 : i + 1000;
                assertThat(rows.iterator().next().getInteger("v")).isEqualTo(expected);
            }
        } finally {
            conn.close().await(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void anErrorInThePipelineFailsOnlyItsOwnQuery() throws Exception {
        PgConnection conn = PgConnection.connect(vertx, options()).await(10, TimeUnit.SECONDS);
        try {
            Future<RowSet<Row>> before = conn.preparedQuery("SELECT 1 AS v").execute();
            Future<RowSet<Row>> failing = conn.preparedQuery("SELECT 1 / $1::int AS v").execute(Tuple.of(0));
            Future<RowSet<Row>> after = conn.preparedQuery("SELECT 3 AS v").execute();
            assertThat(before.await(10, TimeUnit.SECONDS).iterator().next().getInteger("v")).isEqualTo(1);
            Throwable err = failing.transform(ar -> Future.succeededFuture(ar.cause())).await(10, TimeUnit.SECONDS);
            assertThat(err).isNotNull().hasMessageContaining("division by zero");
            assertThat(after.await(10, TimeUnit.SECONDS).iterator().next().getInteger("v")).isEqualTo(3);
        } finally {
            conn.close().await(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void batchedInsertsAndSimpleQueries() throws Exception {
        PgConnection conn = PgConnection.connect(vertx, options()).await(10, TimeUnit.SECONDS);
        try {
            conn.query("DROP TABLE IF EXISTS vertx_batch; CREATE TABLE vertx_batch(id int, v text)").execute().await(10, TimeUnit.SECONDS);
            List<Tuple> batch = new ArrayList<>();
            for (int i = 0; i < 1000; i++) {
                batch.add(Tuple.of(i, "v" + i));
            }
            conn.preparedQuery("INSERT INTO vertx_batch VALUES ($1, $2)").executeBatch(batch).await(10, TimeUnit.SECONDS);
            RowSet<Row> rs = conn.query("SELECT count(*) AS n, sum(id) AS s FROM vertx_batch").execute().await(10, TimeUnit.SECONDS);
            Row row = rs.iterator().next();
            assertThat(row.getLong("n")).isEqualTo(1000);
            assertThat(row.getLong("s")).isEqualTo(999L * 1000 / 2);
        } finally {
            conn.close().await(5, TimeUnit.SECONDS);
        }
    }
}
