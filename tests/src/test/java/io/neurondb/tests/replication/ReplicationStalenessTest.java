package io.neurondb.tests.replication;

import io.neurondb.proxy.route.IndexDefinition;
import io.neurondb.proxy.vectors.VectorDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static io.neurondb.tests.replication.ReplicaFixture.await;
import static io.neurondb.tests.replication.ReplicaFixture.exec;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The staleness bound of the eventual mode: a followed database's indexes answer only while its
 * replication stream runs and was drained within replication.max_staleness_ms. A server
 * restart cuts the stream: the index stops answering (kNN runs exactly in PostgreSQL) until
 * the stream is back and drained, and then it holds what was written meanwhile.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ReplicationStalenessTest {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private ReplicaFixture f;
    private VectorDatabase v;
    private IndexDefinition def;

    @BeforeAll
    void setUp() throws Exception {
        f = new ReplicaFixture("stale");
        f.startProxy();
        try (Connection c = f.proxied()) {
            exec(c, "CREATE EXTENSION neurondb",
                    "CREATE TABLE t (id bigint PRIMARY KEY, embedding vector(3))",
                    "INSERT INTO t SELECT g, ARRAY[g, 1, 1]::real[] FROM generate_series(1, 100) g",
                    "CREATE INDEX t_idx ON t USING hnsw (embedding vector_l2_ops)");
        }
        v = f.vectors();
        def = v.catalog().indexes().stream().filter(d -> d.name().equals("t_idx")).findFirst().orElseThrow();
        await("the index holds the 100 rows and is served", WAIT, () -> v.rows("public", "t_idx") == 100 && v.served(def).isPresent());
    }

    @AfterAll
    void tearDown() {
        if (f != null) {
            f.close();
        }
    }

    private long nearest(Connection c) throws Exception {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT id FROM t ORDER BY embedding <-> '[-50, -50, -50]' LIMIT 1")) {
            assertThat(rs.next()).isTrue();
            return rs.getLong(1);
        }
    }

    @Test
    void aCutStreamLeavesKnnToPostgresUntilItHasCaughtUp() throws Exception {
        f.pg.stop();
        // The stream is cut: however current the index was, it no longer answers.
        await("the index is no longer served once the stream is cut", WAIT, () -> v.served(def).isEmpty());
        f.pg.start();
        try (Connection d = f.direct()) {
            exec(d, "INSERT INTO t VALUES (777, ARRAY[-50, -50, -50]::real[])");
        }
        try (Connection c = f.proxied()) {
            // Answered by PostgreSQL or, once the stream has caught up, by the index: the same row.
            await("the stream is back and the index serves again, with row 777", WAIT,
                    () -> v.served(def).isPresent() && v.holds("public", "t_idx", 777));
            assertThat(nearest(c)).isEqualTo(777);
        }
    }
}
