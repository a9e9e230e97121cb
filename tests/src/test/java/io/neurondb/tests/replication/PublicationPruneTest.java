package io.neurondb.tests.replication;

import io.neurondb.proxy.vectors.VectorDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static io.neurondb.tests.replication.ReplicaFixture.await;
import static io.neurondb.tests.replication.ReplicaFixture.exec;
import static io.neurondb.tests.replication.ReplicaFixture.holdsExactly;
import static io.neurondb.tests.replication.ReplicaFixture.ids;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The instance's publication lists exactly the tables its indexes follow: a table leaves it
 * when its last index is dropped (so the server stops decoding and sending its changes), stays
 * while another index still needs it, and comes back with a new index — which then follows
 * the table again.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class PublicationPruneTest {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private ReplicaFixture f;
    private VectorDatabase v;

    @BeforeAll
    void setUp() throws Exception {
        f = new ReplicaFixture("prune");
        f.startProxy();
        v = f.vectors();
        try (Connection c = f.proxied()) {
            exec(c, "CREATE EXTENSION neurondb",
                    "CREATE TABLE a (id bigint PRIMARY KEY, embedding vector(3))",
                    "CREATE TABLE b (id bigint PRIMARY KEY, embedding vector(3))",
                    "INSERT INTO a SELECT g, ARRAY[g, 1, 1]::real[] FROM generate_series(1, 50) g",
                    "INSERT INTO b SELECT g, ARRAY[g, 2, 2]::real[] FROM generate_series(1, 50) g",
                    "CREATE INDEX a_l2 ON a USING hnsw (embedding vector_l2_ops)",
                    "CREATE INDEX a_cos ON a USING hnsw (embedding vector_cosine_ops)",
                    "CREATE INDEX b_l2 ON b USING hnsw (embedding vector_l2_ops)");
        }
    }

    @AfterAll
    void tearDown() {
        if (f != null) {
            f.close();
        }
    }

    private Set<String> published() {
        try (Connection c = f.direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT tablename::text FROM pg_publication_tables WHERE pubname = 'neurondb_"
                     + f.instanceId + "'")) {
            Set<String> out = new TreeSet<>();
            while (rs.next()) {
                out.add(rs.getString(1));
            }
            return out;
        } catch (SQLException e) {
            return Set.of("<" + e.getMessage() + ">");
        }
    }

    @Test
    void tablesLeaveThePublicationWithTheirLastIndex() throws Exception {
        await("a and b published", WAIT, () -> published().equals(Set.of("a", "b")));
        try (Connection c = f.proxied()) {
            exec(c, "DROP INDEX b_l2");
        }
        await("b left the publication", WAIT, () -> published().equals(Set.of("a")));
        try (Connection c = f.proxied()) {
            exec(c, "DROP INDEX a_cos");
        }
        // a_l2 still follows a: it stays, and keeps following it.
        try (Connection c = f.direct()) {
            exec(c, "INSERT INTO a VALUES (1000, ARRAY[1, 2, 3]::real[])");
        }
        await("a_l2 follows a", WAIT, () -> v.holds("public", "a_l2", 1000));
        assertThat(published()).containsExactly("a");

        // A new index on b puts b back, built from a snapshot and followed from then on.
        try (Connection c = f.direct()) {
            exec(c, "INSERT INTO b VALUES (500, ARRAY[5, 5, 5]::real[])");
        }
        try (Connection c = f.proxied()) {
            exec(c, "CREATE INDEX b_l2 ON b USING hnsw (embedding vector_l2_ops)");
        }
        assertThat(published()).containsExactly("a", "b");
        try (Connection c = f.direct()) {
            exec(c, "INSERT INTO b VALUES (501, ARRAY[5, 5, 6]::real[])", "DELETE FROM b WHERE id <= 5");
        }
        Set<Long> expected;
        try (Connection c = f.direct()) {
            expected = ids(c, "SELECT id FROM b");
        }
        await("b_l2 holds exactly SELECT id FROM b", WAIT, () -> holdsExactly(v, "b_l2", expected));
    }
}
