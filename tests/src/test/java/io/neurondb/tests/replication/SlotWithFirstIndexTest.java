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
import java.util.concurrent.TimeUnit;

import static io.neurondb.tests.replication.ReplicaFixture.await;
import static io.neurondb.tests.replication.ReplicaFixture.exec;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A replication slot keeps the server's WAL while nobody reads it, so the proxy makes one only
 * for a database that has an engine index: clients using a database through the proxy without
 * one leave no slot behind. The first {@code CREATE INDEX} makes it and the index follows the
 * table from then on. A slot the instance already has is followed even after the last index is
 * gone, from the proxy's start, so it keeps advancing instead of pinning WAL.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class SlotWithFirstIndexTest {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private ReplicaFixture f;

    @BeforeAll
    void setUp() throws Exception {
        f = new ReplicaFixture("firstindex");
        f.startProxy();
    }

    @AfterAll
    void tearDown() {
        if (f != null) {
            f.close();
        }
    }

    /** This instance's slots on the server: "active" or "inactive" by name, empty when none. */
    private java.util.Map<String, String> slots() {
        try (Connection c = f.direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT slot_name::text, active FROM pg_replication_slots WHERE slot_name LIKE 'neurondb_"
                     + f.instanceId + "%' AND NOT temporary")) {
            java.util.Map<String, String> out = new java.util.TreeMap<>();
            while (rs.next()) {
                out.put(rs.getString(1), rs.getBoolean(2) ? "active" : "inactive");
            }
            return out;
        } catch (SQLException e) {
            return java.util.Map.of("<error>", e.getMessage());
        }
    }

    @Test
    void theSlotComesWithTheFirstIndexAndStaysFollowed() throws Exception {
        String slot = "neurondb_" + f.instanceId + "_" + f.db;
        try (Connection c = f.proxied()) {
            exec(c, "CREATE EXTENSION neurondb",
                    "CREATE TABLE items (id bigint PRIMARY KEY, embedding vector(3))",
                    "INSERT INTO items SELECT g, ARRAY[g, 1, 1]::real[] FROM generate_series(1, 20) g");
            try (Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT id FROM items ORDER BY embedding <-> '[3,1,1]' LIMIT 1")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getLong(1)).isEqualTo(3);
            }
        }
        VectorDatabase v = f.vectors();
        assertThat(v.replicating()).as("the database is set to follow by replication").isTrue();
        assertThat(slots()).as("no index yet: no slot").isEmpty();

        try (Connection c = f.proxied()) {
            exec(c, "CREATE INDEX items_l2 ON items USING hnsw (embedding vector_l2_ops)");
        }
        await("the first index made the slot and streams from it", WAIT, () -> "active".equals(slots().get(slot)));
        try (Connection c = f.direct()) {
            exec(c, "INSERT INTO items VALUES (100, ARRAY[9, 9, 9]::real[])");
        }
        await("the index follows a write made straight to PostgreSQL", WAIT, () -> v.holds("public", "items_l2", 100));

        // The last index goes; the slot stays (its checkpoints name it). After a restart nobody
        // connects, yet the proxy follows the slot from its start instead of leaving it inactive.
        try (Connection c = f.proxied()) {
            exec(c, "DROP INDEX items_l2");
        }
        f.stopProxy();
        await("the stopped proxy's walsender ended", WAIT, () -> "inactive".equals(slots().get(slot)));
        f.startProxy();
        await("the restarted proxy follows its slot with no index and no client", WAIT, () -> "active".equals(slots().get(slot)));
        assertThat(slots()).containsOnlyKeys(slot);
    }
}
