package io.neurondb.tests.replication;

import ch.qos.logback.classic.Level;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.proxy.vectors.IndexState;
import io.neurondb.proxy.vectors.IndexStatus;
import io.neurondb.proxy.vectors.VectorDatabase;
import io.neurondb.tests.support.ProxyUnderTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static io.neurondb.tests.replication.ReplicaFixture.await;
import static io.neurondb.tests.replication.ReplicaFixture.exec;
import static io.neurondb.tests.replication.ReplicaFixture.holdsExactly;
import static io.neurondb.tests.replication.ReplicaFixture.ids;
import static io.neurondb.tests.replication.ReplicaFixture.scalar;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two proxies configured with the same instance_id against one database would share one slot
 * and each lose the changes the other consumed. The second one must not touch the slot the
 * first streams from: it logs an ERROR naming the PID holding it, reports its indexes failed
 * (index_stats shows why; kNN answers exactly from PostgreSQL), and takes over cleanly only
 * once the slot is free.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class DuplicateInstanceIdTest {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private ReplicaFixture f;
    private SimpleMeterRegistry metersA;
    private VectorDatabase a;
    private Path secondDataDir;

    @BeforeAll
    void setUp() throws Exception {
        f = new ReplicaFixture("dupid");
        f.startProxy();
        metersA = new SimpleMeterRegistry();
        ((CompositeMeterRegistry) f.proxy.proxy().meters()).add(metersA);
        a = f.vectors();
        try (Connection c = f.proxied()) {
            exec(c, "CREATE EXTENSION neurondb",
                    "CREATE TABLE t (id bigint PRIMARY KEY, embedding vector(4))",
                    "INSERT INTO t SELECT g, ARRAY[g, 1, 2, 3]::real[] FROM generate_series(1, 300) g",
                    "CREATE INDEX t_idx ON t USING hnsw (embedding vector_l2_ops)");
        }
        awaitInSync(a);
        secondDataDir = Files.createTempDirectory("neurondb-repl-data-second-");
    }

    @AfterAll
    void tearDown() {
        if (f != null) {
            f.close();
        }
        LocalPostgres.deleteTree(secondDataDir);
    }

    private void awaitInSync(VectorDatabase v) throws SQLException {
        Set<Long> expected;
        try (Connection c = f.direct()) {
            expected = ids(c, "SELECT id FROM t WHERE embedding IS NOT NULL");
        }
        await("t_idx holds exactly SELECT id FROM t (" + expected.size() + " rows)", WAIT, () -> holdsExactly(v, "t_idx", expected));
    }

    private static double count(SimpleMeterRegistry meters, String name) {
        Counter c = meters.find(name).counter();
        return c == null ? 0 : c.count();
    }

    private long activePid(String slot) throws SQLException {
        try (Connection c = f.direct()) {
            return scalar(c, "SELECT coalesce(active_pid, 0) FROM pg_replication_slots WHERE slot_name = '" + slot + "'");
        }
    }

    @Test
    void aSecondProxyWithTheSameInstanceIdNeitherSharesNorStealsTheSlot() throws Exception {
        String slot = a.replicationSlot().orElseThrow();
        await("proxy A streams from " + slot, WAIT, () -> {
            try {
                return activePid(slot) != 0;
            } catch (SQLException e) {
                return false;
            }
        });
        long pidA = activePid(slot);

        try (LogCapture logs = new LogCapture(LogCapture.INDEX_SYNC);
             ProxyUnderTest second = ProxyUnderTest.start(f.pg.port(), f.yaml(secondDataDir), List.of())) {
            SimpleMeterRegistry metersB = new SimpleMeterRegistry();
            ((CompositeMeterRegistry) second.proxy().meters()).add(metersB);
            VectorDatabase b = second.proxy().vectors().open(f.db).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);

            await("proxy B reports the slot in use", WAIT,
                    () -> logs.has(Level.ERROR, "event=replication_slot_in_use", "slot=" + slot, "active_pid=" + pidA));
            await("proxy B's index reported failed", WAIT, () -> b.state("public", "t_idx").equals(java.util.Optional.of(IndexState.FAILED)));
            IndexStatus status = b.stats().stream().filter(s -> s.indexName().equals("t_idx")).findFirst().orElseThrow();
            assertThat(status.error()).contains("is active for PID " + pidA).contains("instance_id '" + f.instanceId + "'");
            assertThat(count(metersB, "neurondb_replication_slot_conflicts_total")).isEqualTo(1);
            assertThat(logs.lines(Level.ERROR, "event=replication_slot_in_use")).hasSize(1);

            // A keeps its slot and keeps streaming; nothing was dropped or re-created.
            try (Connection c = f.direct()) {
                exec(c, "INSERT INTO t VALUES (999999, ARRAY[-50, -50, -50, -50]::real[])", "DELETE FROM t WHERE id <= 10");
            }
            awaitInSync(a);
            assertThat(activePid(slot)).isEqualTo(pidA);
            assertThat(count(metersA, "neurondb_replication_resnapshots_total")).isZero();
            assertThat(logs.has(Level.WARN, "event=replication_resnapshot")).isFalse();

            // B's clients still get right answers: its index is not served, the exact path answers.
            try (Connection c = second.connectTo(f.db); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT id FROM t ORDER BY embedding <-> '[-50,-50,-50,-50]' LIMIT 1")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getLong(1)).isEqualTo(999999L);
            }
            assertThat(b.holds("public", "t_idx", 999999)).isFalse();

            // Once A is gone the slot is free: B takes over and its index follows the table.
            f.stopProxy();
            await("proxy B streams from " + slot, WAIT, () -> {
                try {
                    long pid = activePid(slot);
                    return pid != 0 && pid != pidA;
                } catch (SQLException e) {
                    return false;
                }
            });
            try (Connection c = f.direct()) {
                exec(c, "INSERT INTO t VALUES (888888, ARRAY[8, 8, 8, 8]::real[])");
            }
            awaitInSync(b);
            assertThat(b.state("public", "t_idx")).contains(IndexState.READY);
            assertThat(logs.has(Level.INFO, "event=replication_slot_free", "slot=" + slot)).isTrue();
        }
    }
}
