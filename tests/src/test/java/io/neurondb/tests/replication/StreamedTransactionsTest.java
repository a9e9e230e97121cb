package io.neurondb.tests.replication;

import ch.qos.logback.classic.Level;
import io.neurondb.proxy.vectors.VectorDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * Large transactions streamed before they commit (pgoutput protocol 2, {@code streaming 'on'};
 * the server's {@code logical_decoding_work_mem} at its 64kB minimum so tens of thousands of
 * rows go out in blocks): the proxy spools them under its data directory, applies nothing
 * before the commit, everything at the commit, and nothing of a rolled-back transaction or of
 * a rolled-back savepoint.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class StreamedTransactionsTest {

    private static final Duration WAIT = Duration.ofSeconds(120);
    private ReplicaFixture f;
    private VectorDatabase v;
    private Path spoolDir;

    @BeforeAll
    void setUp() throws Exception {
        f = new ReplicaFixture("streamed", "logical_decoding_work_mem=64kB");
        f.startProxy();
        v = f.vectors();
        try (Connection c = f.proxied()) {
            exec(c, "CREATE EXTENSION neurondb",
                    "CREATE TABLE t (id bigint PRIMARY KEY, embedding vector(4))",
                    "INSERT INTO t SELECT g, ARRAY[g, 1, 2, 3]::real[] FROM generate_series(1, 100) g",
                    "CREATE INDEX t_idx ON t USING hnsw (embedding vector_l2_ops)");
        }
        spoolDir = f.dataDir.resolve("replication").resolve(v.replicationSlot().orElseThrow() + ".spool");
        awaitInSync();
    }

    @AfterAll
    void tearDown() {
        if (f != null) {
            f.close();
        }
    }

    private void awaitInSync() throws SQLException {
        Set<Long> expected;
        try (Connection c = f.direct()) {
            expected = ids(c, "SELECT id FROM t WHERE embedding IS NOT NULL");
        }
        await("t_idx holds exactly SELECT id FROM t (" + expected.size() + " rows)", WAIT, () -> holdsExactly(v, "t_idx", expected));
    }

    /** Bytes spooled for open streamed transactions now. */
    private long spooledBytes() {
        if (!Files.isDirectory(spoolDir)) {
            return 0;
        }
        try (var files = Files.list(spoolDir)) {
            long n = 0;
            for (Path p : files.filter(p -> p.getFileName().toString().endsWith(".spool")).toList()) {
                n += Files.size(p);
            }
            return n;
        } catch (IOException e) {
            return 0; // a file deleted while listed
        }
    }

    private void awaitSpooled(long atLeast) {
        await("more than " + atLeast + " bytes spooled under " + spoolDir, WAIT, () -> spooledBytes() > atLeast);
    }

    @Test
    @Order(1)
    void aLargeTransactionIsAppliedAtItsCommitOnly() throws Exception {
        int before = v.rows("public", "t_idx");
        try (LogCapture logs = new LogCapture(LogCapture.ASSEMBLER);
             Connection c = f.direct()) {
            c.setAutoCommit(false);
            exec(c, "INSERT INTO t SELECT g, ARRAY[g, 2, 2, 2]::real[] FROM generate_series(10000, 49999) g",
                    "UPDATE t SET embedding = ARRAY[-9, -9, -9, -9]::real[] WHERE id = 7",
                    "DELETE FROM t WHERE id BETWEEN 10000 AND 10999",
                    "UPDATE t SET embedding = NULL WHERE id BETWEEN 11000 AND 11099");
            // Streamed while still open: spooled on the proxy's disk, nothing applied.
            awaitSpooled(1_000_000);
            assertThat(v.rows("public", "t_idx")).isEqualTo(before);
            assertThat(v.holds("public", "t_idx", 20000)).isFalse();
            c.commit();
            awaitInSync();
            assertThat(logs.has(Level.INFO, "event=streamed_transaction_applied")).isTrue();
        }
        assertThat(v.holds("public", "t_idx", 20000)).isTrue();
        assertThat(v.holds("public", "t_idx", 10500)).isFalse();
        assertThat(v.holds("public", "t_idx", 11050)).isFalse();
        await("the spool emptied after the commit", WAIT, () -> spooledBytes() == 0);
        try (Connection c = f.proxied(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id FROM t ORDER BY embedding <-> '[-9,-9,-9,-9]' LIMIT 1")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getLong(1)).isEqualTo(7L);
        }
    }

    @Test
    @Order(2)
    void aRolledBackLargeTransactionLeavesNothing() throws Exception {
        int before = v.rows("public", "t_idx");
        try (Connection c = f.direct()) {
            c.setAutoCommit(false);
            exec(c, "INSERT INTO t SELECT g, ARRAY[g, 3, 3, 3]::real[] FROM generate_series(100000, 139999) g",
                    "DELETE FROM t WHERE id BETWEEN 1 AND 50");
            awaitSpooled(1_000_000);
            c.rollback();
        }
        // StreamAbort: the spool goes without anything applied.
        await("the spool emptied after the rollback", WAIT, () -> spooledBytes() == 0);
        try (Connection c = f.direct()) {
            exec(c, "INSERT INTO t VALUES (777, ARRAY[7, 7, 7, 7]::real[])"); // a later commit the index must reach
        }
        awaitInSync();
        assertThat(v.rows("public", "t_idx")).isEqualTo(before + 1);
        assertThat(v.holds("public", "t_idx", 120000)).isFalse();
        assertThat(v.holds("public", "t_idx", 25)).isTrue();
    }

    @Test
    @Order(3)
    void aRolledBackSavepointInsideAStreamedTransactionIsSkipped() throws Exception {
        try (LogCapture logs = new LogCapture(LogCapture.ASSEMBLER);
             Connection c = f.direct()) {
            c.setAutoCommit(false);
            exec(c, "INSERT INTO t SELECT g, ARRAY[g, 4, 4, 4]::real[] FROM generate_series(200000, 219999) g");
            awaitSpooled(100_000);
            exec(c, "SAVEPOINT s1",
                    "INSERT INTO t SELECT g, ARRAY[g, 5, 5, 5]::real[] FROM generate_series(300000, 319999) g",
                    "DELETE FROM t WHERE id BETWEEN 200000 AND 200999",
                    "ROLLBACK TO SAVEPOINT s1",
                    "SAVEPOINT s2",
                    "INSERT INTO t SELECT g, ARRAY[g, 6, 6, 6]::real[] FROM generate_series(400000, 400099) g",
                    "RELEASE SAVEPOINT s2",
                    "DELETE FROM t WHERE id BETWEEN 201000 AND 201099");
            c.commit();
            awaitInSync();
            assertThat(logs.lines(Level.INFO, "event=streamed_transaction_applied")).isNotEmpty()
                    .anySatisfy(line -> assertThat(line).doesNotContain("skipped_subtransaction_changes=0 "));
        }
        assertThat(v.holds("public", "t_idx", 200500)).isTrue();    // deleted only inside the rolled-back savepoint
        assertThat(v.holds("public", "t_idx", 310000)).isFalse();   // inserted only inside it
        assertThat(v.holds("public", "t_idx", 400050)).isTrue();    // a released savepoint commits with the transaction
        assertThat(v.holds("public", "t_idx", 201050)).isFalse();
        try (Connection c = f.direct()) {
            assertThat(ids(c, "SELECT id FROM t WHERE id BETWEEN 300000 AND 319999")).isEmpty();
        }
        assertThat(spooledBytes()).isZero();
    }
}
