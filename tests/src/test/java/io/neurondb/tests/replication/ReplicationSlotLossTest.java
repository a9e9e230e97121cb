package io.neurondb.tests.replication;

import ch.qos.logback.classic.Level;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
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
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The slot invalidated by the server ({@code max_slot_wal_keep_size} exceeded, so
 * {@code pg_replication_slots.wal_status = 'lost'}): once while the proxy was stopped, once
 * while it streamed (an open transaction holds the slot's restart position back). Either way
 * the proxy takes a fresh snapshot, logs it at WARN, counts it, and its index then holds
 * exactly the table's rows, including the changes it never received from the lost slot.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ReplicationSlotLossTest {

    private static final Duration WAIT = Duration.ofSeconds(90);
    private ReplicaFixture f;
    private SimpleMeterRegistry meters;
    private VectorDatabase v;
    private String slot;

    @BeforeAll
    void setUp() throws Exception {
        f = new ReplicaFixture("slotloss");
        start();
        try (Connection c = f.proxied()) {
            exec(c, "CREATE EXTENSION neurondb",
                    "CREATE TABLE t (id bigint PRIMARY KEY, embedding vector(4))",
                    "INSERT INTO t SELECT g, ARRAY[g, 1, 2, 3]::real[] FROM generate_series(1, 300) g",
                    "CREATE INDEX t_idx ON t USING hnsw (embedding vector_l2_ops)");
        }
        try (Connection c = f.direct()) {
            // WAL filler in a table no index follows (not in the publication).
            exec(c, "CREATE TABLE filler (id bigserial PRIMARY KEY, pad text)");
        }
        slot = v.replicationSlot().orElseThrow();
        awaitInSync();
    }

    private void start() throws Exception {
        meters = f.startProxyRecordingMeters();
        v = f.vectors();
    }

    @AfterAll
    void tearDown() {
        if (f != null) {
            f.close();
        }
    }

    private double resnapshots() {
        Counter c = meters.find("neurondb_replication_resnapshots_total").counter();
        return c == null ? 0 : c.count();
    }

    private void awaitInSync() throws SQLException {
        Set<Long> expected;
        try (Connection c = f.direct()) {
            expected = ids(c, "SELECT id FROM t WHERE embedding IS NOT NULL");
        }
        await("t_idx holds exactly SELECT id FROM t (" + expected.size() + " rows)", WAIT, () -> holdsExactly(v, "t_idx", expected));
    }

    private String walStatus(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT wal_status FROM pg_replication_slots WHERE slot_name = '" + slot + "'")) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    /** Lets the server keep at most one segment of WAL for slots, then writes and checkpoints until the slot is lost. */
    private void loseTheSlot() throws SQLException {
        try (Connection c = f.direct()) {
            exec(c, "ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'", "SELECT pg_reload_conf()");
            try {
                long deadline = System.nanoTime() + WAIT.toNanos();
                while (!"lost".equals(walStatus(c))) {
                    assertThat(System.nanoTime()).as("slot %s still not lost (wal_status %s)", slot, walStatus(c)).isLessThan(deadline);
                    exec(c, "INSERT INTO filler (pad) SELECT repeat('x', 100) FROM generate_series(1, 100)",
                            "SELECT pg_switch_wal()", "CHECKPOINT");
                }
            } finally {
                exec(c, "ALTER SYSTEM RESET max_slot_wal_keep_size", "SELECT pg_reload_conf()");
            }
        }
    }

    @Test
    @Order(1)
    void slotLostWhileTheProxyWasStopped() throws Exception {
        f.stopProxy();
        try (Connection c = f.direct()) {
            // Changes only the lost slot had: the new snapshot must bring them.
            exec(c, "INSERT INTO t SELECT g, ARRAY[g, 4, 4, 4]::real[] FROM generate_series(1000, 1099) g",
                    "DELETE FROM t WHERE id <= 40",
                    "UPDATE t SET embedding = NULL WHERE id BETWEEN 41 AND 45");
        }
        loseTheSlot();
        try (LogCapture logs = new LogCapture(LogCapture.INDEX_SYNC)) {
            start();
            await("a re-snapshot counted", WAIT, () -> resnapshots() >= 1);
            awaitInSync();
            assertThat(logs.lines(Level.WARN, "event=replication_resnapshot", "wal_status lost")).hasSize(1);
        }
        assertThat(resnapshots()).isEqualTo(1);
        assertThat(v.holds("public", "t_idx", 1050)).isTrue();
        assertThat(v.holds("public", "t_idx", 10)).isFalse();
        try (Connection c = f.direct()) {
            assertThat(walStatus(c)).isIn("reserved", "extended");
        }
    }

    @Test
    @Order(2)
    void slotLostWhileStreaming() throws Exception {
        double before = resnapshots();
        try (LogCapture logs = new LogCapture(LogCapture.INDEX_SYNC);
             Connection blocker = f.direct()) {
            // An open transaction that wrote holds the slot's restart position back, whatever the proxy confirms.
            blocker.setAutoCommit(false);
            exec(blocker, "INSERT INTO filler (pad) VALUES ('held open')");
            try (Connection c = f.direct()) {
                exec(c, "INSERT INTO t SELECT g, ARRAY[g, 5, 5, 5]::real[] FROM generate_series(2000, 2049) g",
                        "DELETE FROM t WHERE id BETWEEN 1000 AND 1009");
            }
            loseTheSlot();
            // The slot is invalidated under the running stream: the server ends the proxy's walsender.
            blocker.rollback(); // the new slot's snapshot waits for running transactions
            try (Connection c = f.direct()) {
                exec(c, "INSERT INTO t SELECT g, ARRAY[g, 6, 6, 6]::real[] FROM generate_series(3000, 3009) g");
            }
            await("a re-snapshot counted", WAIT, () -> resnapshots() >= before + 1);
            awaitInSync();
            assertThat(logs.lines(Level.WARN, "event=replication_resnapshot", "wal_status lost")).hasSize(1);
        }
        assertThat(v.holds("public", "t_idx", 3005)).isTrue();
        assertThat(v.holds("public", "t_idx", 1005)).isFalse();
        try (Connection c = f.direct()) {
            assertThat(walStatus(c)).isIn("reserved", "extended");
            exec(c, "INSERT INTO t VALUES (4000, ARRAY[1, 1, 1, 1]::real[])");
        }
        awaitInSync(); // and it streams again from the new slot
    }
}
