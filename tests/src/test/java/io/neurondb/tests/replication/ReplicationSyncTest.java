package io.neurondb.tests.replication;

import io.neurondb.proxy.vectors.VectorDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static io.neurondb.tests.replication.ReplicaFixture.await;
import static io.neurondb.tests.replication.ReplicaFixture.exec;
import static io.neurondb.tests.replication.ReplicaFixture.holdsExactly;
import static io.neurondb.tests.replication.ReplicaFixture.ids;
import static io.neurondb.tests.replication.ReplicaFixture.scalar;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Writes made straight to PostgreSQL (not through the proxy) reach the engine indexes through
 * the instance's logical slot: inserts, updates of the vector and of the key, NULL vectors,
 * deletes, TRUNCATE; the slot and publication exist and the slot's confirmed position advances.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ReplicationSyncTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private ReplicaFixture f;
    private VectorDatabase v;

    @BeforeAll
    void setUp() throws Exception {
        f = new ReplicaFixture("sync");
        try (Connection c = f.direct()) {
            exec(c, "CREATE TABLE seeded (id bigint PRIMARY KEY, note text)");
        }
        f.startProxy();
        try (Connection c = f.proxied()) {
            exec(c, "CREATE EXTENSION neurondb",
                    "CREATE TABLE items (id bigint PRIMARY KEY, label text, embedding vector(3))",
                    "INSERT INTO items SELECT g, 'r' || g, ARRAY[g, g * 2, 1]::real[] FROM generate_series(1, 100) g");
            exec(c, "CREATE INDEX items_embedding_idx ON items USING hnsw (embedding vector_l2_ops)");
        }
        v = f.vectors();
    }

    @AfterAll
    void tearDown() {
        if (f != null) {
            f.close();
        }
    }

    private Set<Long> tableIds(String table) throws SQLException {
        try (Connection c = f.direct()) {
            return ids(c, "SELECT id FROM " + table + " WHERE embedding IS NOT NULL");
        }
    }

    private void awaitInSync(String table, String index) throws SQLException {
        Set<Long> expected = tableIds(table);
        await(index + " holds exactly the rows of " + table + " (" + expected.size() + ")", WAIT,
                () -> holdsExactly(v, index, expected));
    }

    @Test
    @Order(1)
    void slotAndPublicationExist() throws Exception {
        String slot = v.replicationSlot().orElseThrow();
        assertThat(slot).isEqualTo("neurondb_t_sync_r_sync");
        try (Connection c = f.direct()) {
            assertThat(scalar(c, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + slot
                    + "' AND plugin = 'pgoutput' AND slot_type = 'logical' AND NOT temporary")).isEqualTo(1);
            assertThat(scalar(c, "SELECT count(*) FROM pg_publication_tables WHERE pubname = 'neurondb_t_sync' AND tablename = 'items'"))
                    .isEqualTo(1);
        }
        awaitInSync("items", "items_embedding_idx");
    }

    @Test
    @Order(2)
    void directInsertsUpdatesAndDeletesAreApplied() throws Exception {
        try (Connection c = f.direct()) {
            exec(c, "INSERT INTO items SELECT g, 'r' || g, ARRAY[g, 0, 1]::real[] FROM generate_series(101, 300) g");
            c.setAutoCommit(false);
            exec(c, "UPDATE items SET embedding = ARRAY[-1, -1, -1]::real[] WHERE id = 5",  // vector changed
                    "UPDATE items SET label = 'only the label' WHERE id = 6",             // vector unchanged
                    "UPDATE items SET id = 100006 WHERE id = 7",                          // key changed
                    "UPDATE items SET embedding = NULL WHERE id = 8",                      // NULL vector: not indexed
                    "INSERT INTO items VALUES (9999, 'no vector', NULL)",
                    "DELETE FROM items WHERE id BETWEEN 200 AND 249");
            c.commit();
            // A rolled-back transaction never reaches the index.
            exec(c, "INSERT INTO items VALUES (7777, 'rolled back', ARRAY[1,1,1]::real[])");
            c.rollback();
        }
        awaitInSync("items", "items_embedding_idx");
        assertThat(v.holds("public", "items_embedding_idx", 100006)).isTrue();
        assertThat(v.holds("public", "items_embedding_idx", 7)).isFalse();
        assertThat(v.holds("public", "items_embedding_idx", 8)).isFalse();
        assertThat(v.holds("public", "items_embedding_idx", 9999)).isFalse();
        assertThat(v.holds("public", "items_embedding_idx", 7777)).isFalse();
        // The changed vector is what the engine finds: kNN through the proxy, answered from the index.
        try (Connection c = f.proxied(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id FROM items ORDER BY embedding <-> '[-1,-1,-1]' LIMIT 1")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getLong(1)).isEqualTo(5);
        }
        // A row written straight to PostgreSQL a moment ago is found by the proxy's kNN.
        try (Connection d = f.direct()) {
            exec(d, "INSERT INTO items VALUES (424242, 'fresh', ARRAY[1000, 1000, 1000]::real[])");
        }
        await("row 424242 in the index", WAIT, () -> v.holds("public", "items_embedding_idx", 424242));
        try (Connection c = f.proxied(); PreparedStatement ps = c.prepareStatement(
                "SELECT id FROM items ORDER BY embedding <-> ?::vector LIMIT 1")) {
            ps.setString(1, "[1000,1000,1000]");
            try (ResultSet rs = ps.executeQuery()) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getLong(1)).isEqualTo(424242);
            }
        }
    }

    @Test
    @Order(3)
    void slotConfirmedPositionAdvancesWithCheckpoints() throws Exception {
        String slot = v.replicationSlot().orElseThrow();
        long before;
        try (Connection c = f.direct()) {
            before = scalar(c, "SELECT confirmed_flush_lsn - '0/0' FROM pg_replication_slots WHERE slot_name = '" + slot + "'");
            exec(c, "INSERT INTO items VALUES (500000, 'x', ARRAY[3,3,3]::real[])");
            long target = scalar(c, "SELECT pg_current_wal_lsn() - '0/0'");
            await("the slot's confirmed_flush_lsn passes " + target, WAIT, () -> {
                try (Connection d = f.direct()) {
                    return scalar(d, "SELECT confirmed_flush_lsn - '0/0' FROM pg_replication_slots WHERE slot_name = '" + slot + "'")
                            >= target;
                } catch (SQLException e) {
                    return false;
                }
            });
            assertThat(scalar(c, "SELECT confirmed_flush_lsn - '0/0' FROM pg_replication_slots WHERE slot_name = '" + slot + "'"))
                    .isGreaterThan(before);
        }
    }

    @Test
    @Order(4)
    void truncateEmptiesTheIndex() throws Exception {
        try (Connection c = f.direct()) {
            exec(c, "TRUNCATE items");
        }
        await("index empty after TRUNCATE", WAIT, () -> v.rows("public", "items_embedding_idx") == 0);
        try (Connection c = f.direct()) {
            exec(c, "INSERT INTO items VALUES (1, 'after', ARRAY[1,2,3]::real[]), (2, 'after', ARRAY[2,3,4]::real[])");
        }
        awaitInSync("items", "items_embedding_idx");
    }

    @Test
    @Order(5)
    void indexCreatedWhileStreamingFollowsTheStream() throws Exception {
        try (Connection c = f.proxied()) {
            exec(c, "CREATE TABLE docs (id int PRIMARY KEY, embedding vector(2))",
                    "INSERT INTO docs SELECT g, ARRAY[g, 1]::real[] FROM generate_series(1, 500) g",
                    "CREATE INDEX docs_idx ON docs USING ivfflat (embedding vector_l2_ops) WITH (lists = 4)");
        }
        try (Connection c = f.direct()) {
            exec(c, "INSERT INTO docs SELECT g, ARRAY[g, 2]::real[] FROM generate_series(501, 600) g",
                    "DELETE FROM docs WHERE id <= 10");
        }
        awaitInSync("docs", "docs_idx");
    }

    @Test
    @Order(6)
    void dropTableThroughTheProxyDropsTheIndexAndTheStreamGoesOn() throws Exception {
        try (Connection c = f.proxied()) {
            exec(c, "DROP TABLE docs");
        }
        await("docs_idx dropped", WAIT, () -> v.rows("public", "docs_idx") == -1);
        try (Connection c = f.direct()) {
            exec(c, "INSERT INTO items VALUES (3, 'after drop', ARRAY[9,9,9]::real[])");
        }
        awaitInSync("items", "items_embedding_idx");
    }

    @Test
    @Order(7)
    void compositeKeyIsRefusedAtCreateIndex() throws Exception {
        try (Connection c = f.proxied()) {
            exec(c, "CREATE TABLE pairs (a int, b int, embedding vector(2), PRIMARY KEY (a, b))");
            assertThatThrownBy(() -> exec(c, "CREATE INDEX ON pairs USING hnsw (embedding vector_l2_ops)"))
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("single-column integer primary key")
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("0A000"));
        }
    }
}
