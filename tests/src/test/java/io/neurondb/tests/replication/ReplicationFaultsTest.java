package io.neurondb.tests.replication;

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

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static io.neurondb.tests.replication.ReplicaFixture.await;
import static io.neurondb.tests.replication.ReplicaFixture.exec;
import static io.neurondb.tests.replication.ReplicaFixture.holdsExactly;
import static io.neurondb.tests.replication.ReplicaFixture.ids;
import static io.neurondb.tests.replication.ReplicaFixture.scalar;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Faults while streaming: PostgreSQL restarted (fast, then immediate) under a write load, the
 * slot dropped behind the proxy's back, checkpoints from another cluster (system identifier),
 * and retiring the instance with {@code --drop-replication-slot}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class ReplicationFaultsTest {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private ReplicaFixture f;
    private SimpleMeterRegistry meters;
    private VectorDatabase v;

    @BeforeAll
    void setUp() throws Exception {
        f = new ReplicaFixture("faults");
        start();
        try (Connection c = f.proxied()) {
            exec(c, "CREATE EXTENSION neurondb",
                    "CREATE TABLE t (id bigint PRIMARY KEY, embedding vector(4))",
                    "INSERT INTO t SELECT g, ARRAY[g, 1, 2, 3]::real[] FROM generate_series(1, 500) g",
                    "CREATE INDEX t_idx ON t USING hnsw (embedding vector_l2_ops)");
        }
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

    private double count(String name) {
        Counter c = meters.find(name).counter();
        return c == null ? 0 : c.count();
    }

    private void awaitInSync() throws SQLException {
        Set<Long> expected;
        try (Connection c = f.direct()) {
            expected = ids(c, "SELECT id FROM t WHERE embedding IS NOT NULL");
        }
        await("t_idx holds exactly SELECT id FROM t (" + expected.size() + " rows)", WAIT, () -> holdsExactly(v, "t_idx", expected));
    }

    /** Inserts straight into PostgreSQL, retrying while the server is down. */
    private Thread writer(AtomicBoolean stop, AtomicLong next, AtomicLong committed) {
        return Thread.ofPlatform().start(() -> {
            while (!stop.get()) {
                try (Connection c = f.direct();
                     PreparedStatement ps = c.prepareStatement("INSERT INTO t VALUES (?, ARRAY[?, 0, 0, 0]::real[])")) {
                    while (!stop.get()) {
                        long id = next.incrementAndGet();
                        ps.setLong(1, id);
                        ps.setFloat(2, id);
                        ps.executeUpdate();
                        committed.incrementAndGet();
                    }
                } catch (SQLException serverDown) {
                    try {
                        Thread.sleep(50);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }
        });
    }

    @Test
    @Order(1)
    void postgresRestartFastAndImmediateWhileStreaming() throws Exception {
        awaitInSync();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong next = new AtomicLong(100_000);
        AtomicLong committed = new AtomicLong();
        List<Thread> writers = new ArrayList<>(List.of(writer(stop, next, committed), writer(stop, next, committed)));
        for (String mode : List.of("fast", "immediate")) {
            long before = committed.get();
            await("writes before the " + mode + " restart", WAIT, () -> committed.get() > before + 200);
            f.pg.stop(mode);
            f.pg.start();
            long after = committed.get();
            await("writes after the " + mode + " restart", WAIT, () -> committed.get() > after + 200);
            // The writers go straight to PostgreSQL, so their progress says nothing of the stream.
            // A row committed after the restart reaches the index only through a new stream;
            // without this wait the next restart could fall inside the sync's reconnect backoff,
            // and the two outages be seen as one interruption.
            long newest;
            try (Connection c = f.direct()) {
                newest = scalar(c, "SELECT max(id) FROM t");
            }
            await("row " + newest + ", written after the " + mode + " restart, in the index", WAIT,
                    () -> v.holds("public", "t_idx", newest));
        }
        stop.set(true);
        for (Thread t : writers) {
            t.join();
        }
        awaitInSync();
        assertThat(count("neurondb_replication_reconnects_total")).isGreaterThanOrEqualTo(2);
        assertThat(count("neurondb_replication_resnapshots_total")).isZero();
    }

    @Test
    @Order(2)
    void droppedSlotMeansAFreshSnapshot() throws Exception {
        String slot = v.replicationSlot().orElseThrow();
        // The proxy reconnects quickly: terminate its walsender and drop until the drop wins.
        await("slot " + slot + " dropped", WAIT, () -> {
            try (Connection c = f.direct()) {
                exec(c, "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = '" + slot
                        + "' AND active_pid IS NOT NULL");
                exec(c, "SELECT pg_drop_replication_slot('" + slot + "')");
                return true;
            } catch (SQLException stillActive) {
                return false;
            }
        });
        try (Connection c = f.direct()) {
            exec(c, "INSERT INTO t SELECT g, ARRAY[g, 5, 5, 5]::real[] FROM generate_series(900000, 900099) g",
                    "DELETE FROM t WHERE id <= 50");
        }
        await("a re-snapshot counted", WAIT, () -> count("neurondb_replication_resnapshots_total") >= 1);
        awaitInSync();
        try (Connection c = f.direct()) {
            assertThat(scalar(c, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + slot + "'")).isEqualTo(1);
        }
    }

    @Test
    @Order(3)
    void checkpointsOfAnotherClusterAreNotUsed() throws Exception {
        f.stopProxy(); // writes a last checkpoint
        Path manifest = f.dataDir.resolve("replication").resolve(v.replicationSlot().orElseThrow()).resolve("manifest.properties");
        String text = Files.readString(manifest);
        assertThat(text).contains("system_identifier=");
        Files.writeString(manifest, text.replaceAll("system_identifier=\\d+", "system_identifier=1234567890"));
        try (Connection c = f.direct()) {
            exec(c, "INSERT INTO t VALUES (777777, ARRAY[7, 7, 7, 7]::real[])");
        }
        start();
        await("a re-snapshot counted", WAIT, () -> count("neurondb_replication_resnapshots_total") >= 1);
        awaitInSync();
    }

    @Test
    @Order(4)
    void dropReplicationSlotRetiresTheInstance() throws Exception {
        String slot = v.replicationSlot().orElseThrow();
        // Refused while the instance streams from its slot.
        ProxyCli.Result refused = ProxyCli.run(f, "--drop-replication-slot");
        assertThat(refused.exitCode()).isEqualTo(2);
        assertThat(refused.output()).contains("is in use by server process");
        f.stopProxy();
        ProxyCli.Result dropped = ProxyCli.run(f, "--drop-replication-slot");
        assertThat(dropped.exitCode()).as(dropped.output()).isZero();
        assertThat(dropped.output()).contains("dropped replication slot " + slot).contains("dropped publication neurondb_t_faults");
        try (Connection c = f.direct()) {
            assertThat(scalar(c, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + slot + "'")).isZero();
            assertThat(scalar(c, "SELECT count(*) FROM pg_publication WHERE pubname = 'neurondb_t_faults'")).isZero();
        }
        assertThat(f.dataDir.resolve("replication").resolve(slot)).doesNotExist();
        assertThat(ProxyCli.run(f, "--drop-replication-slot").output()).contains("nothing to drop");
    }
}
