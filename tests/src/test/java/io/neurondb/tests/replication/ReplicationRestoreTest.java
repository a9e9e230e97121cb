package io.neurondb.tests.replication;

import ch.qos.logback.classic.Level;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.proxy.vectors.IndexState;
import io.neurondb.proxy.vectors.VectorDatabase;
import io.neurondb.tests.support.ProxyUnderTest;
import io.neurondb.tests.support.TestPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
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
 * After a restore the proxy notices on its own and rebuilds its indexes from the restored
 * tables: (1) a physical backup ({@code pg_basebackup}) restored on the same port, recovered
 * to the end of the backup and promoted — same system identifier, a new timeline, no slot —
 * while the proxy keeps running; rows written after the backup are gone from the index and
 * from search results; (2) a different cluster (fresh initdb, same schema, other rows) on the
 * same port while the proxy was stopped — another system identifier.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ReplicationRestoreTest {

    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final String SCHEMA = "CREATE TABLE t (id bigint PRIMARY KEY, embedding vector(4))";
    private static final String INDEX = "CREATE INDEX t_idx ON t USING hnsw (embedding vector_l2_ops)";
    private ReplicaFixture f;
    private SimpleMeterRegistry meters;
    private VectorDatabase v;
    private final List<Path> scratch = new ArrayList<>();

    @BeforeAll
    void setUp() throws Exception {
        f = new ReplicaFixture("restore");
        start();
        try (Connection c = f.proxied()) {
            exec(c, "CREATE EXTENSION neurondb", SCHEMA,
                    "INSERT INTO t SELECT g, ARRAY[g, 1, 2, 3]::real[] FROM generate_series(1, 200) g", INDEX);
        }
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
        scratch.forEach(LocalPostgres::deleteTree);
    }

    private double resnapshots() {
        Counter c = meters.find("neurondb_replication_resnapshots_total").counter();
        return c == null ? 0 : c.count();
    }

    private Set<Long> tableIds() throws SQLException {
        try (Connection c = f.direct()) {
            return ids(c, "SELECT id FROM t WHERE embedding IS NOT NULL");
        }
    }

    private void awaitInSync() throws SQLException {
        Set<Long> expected = tableIds();
        await("t_idx holds exactly SELECT id FROM t (" + expected.size() + " rows)", WAIT, () -> holdsExactly(v, "t_idx", expected));
    }

    private static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    /** A scratch directory the server's OS user may write in (it runs as postgres when we are root). */
    private Path serverWritableDir(String name) throws IOException {
        Path dir = Files.createTempDirectory("neurondb-test-" + name + "-");
        scratch.add(dir);
        dir.toFile().setExecutable(true, false);
        if (isRoot()) {
            chownToPostgres(dir);
        }
        return dir;
    }

    private static void chownToPostgres(Path p) throws IOException {
        UserPrincipalLookupService users = p.getFileSystem().getUserPrincipalLookupService();
        PosixFileAttributeView view = Files.getFileAttributeView(p, PosixFileAttributeView.class);
        view.setOwner(users.lookupPrincipalByName("postgres"));
        view.setGroup(users.lookupPrincipalByGroupName("postgres"));
    }

    /** {@code pg_basebackup -X stream} of the running server into {@code target}, over its Unix socket (trusted locally). */
    private void baseBackup(Path target) throws Exception {
        List<String> cmd = new ArrayList<>();
        if (isRoot()) {
            cmd.addAll(List.of("runuser", "-u", "postgres", "--"));
        }
        cmd.addAll(List.of(f.pg.binDir().resolve("pg_basebackup").toString(), "-h", f.pg.dataDir().toString(),
                "-p", String.valueOf(f.pg.port()), "-U", "postgres", "-D", target.toString(), "-X", "stream", "-c", "fast",
                "--no-sync"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("pg_basebackup finished").isTrue();
        assertThat(p.exitValue()).as("pg_basebackup: %s", out).isZero();
    }

    private static String text(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static void startOrShowLog(LocalPostgres server) throws IOException {
        try {
            server.start();
        } catch (RuntimeException e) {
            Path log = server.dataDir().resolve("server.log");
            throw new AssertionError("the server did not start:\n" + (Files.exists(log) ? Files.readString(log) : "(no log)"), e);
        }
    }

    /** The timeline the server writes WAL on now (the first 8 hex digits of the current WAL file's name). */
    private static long timeline(Connection c) throws SQLException {
        return Long.parseLong(text(c, "SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)"), 16);
    }

    private List<Long> knn(String vector) throws SQLException {
        List<Long> out = new ArrayList<>();
        try (Connection c = f.proxied(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id FROM t ORDER BY embedding <-> '" + vector + "' LIMIT 5")) {
            while (rs.next()) {
                out.add(rs.getLong(1));
            }
        }
        return out;
    }

    @Test
    @Order(1)
    void physicalRestoreOnANewTimelineIsRebuiltWhileTheProxyRuns() throws Exception {
        String systemId;
        try (Connection c = f.direct()) {
            systemId = text(c, "SELECT system_identifier::text FROM pg_control_system()");
            assertThat(timeline(c)).isEqualTo(1);
        }
        Path backup = serverWritableDir("basebackup").resolve("data");
        baseBackup(backup);

        // Written after the backup: the index follows them, the restore loses them.
        try (Connection c = f.direct()) {
            exec(c, "INSERT INTO t SELECT g, ARRAY[g, 9, 9, 9]::real[] FROM generate_series(5000, 5099) g",
                    "DELETE FROM t WHERE id <= 20",
                    "UPDATE t SET embedding = ARRAY[-500, -500, -500, -500]::real[] WHERE id = 100");
        }
        awaitInSync();
        assertThat(v.holds("public", "t_idx", 5050)).isTrue();
        assertThat(knn("[5050,9,9,9]")).contains(5050L);

        try (LogCapture logs = new LogCapture(LogCapture.INDEX_SYNC)) {
            int port = f.pg.port();
            f.pg.stop("fast");
            // Recovery to the end of the backup, then promotion: timeline 2, same system identifier.
            // The test servers keep their Unix socket in the data directory, so the backup has a copy
            // of its lock file, which would refuse the restored server the same port.
            try (var files = Files.list(backup)) {
                for (Path p : files.filter(p -> p.getFileName().toString().startsWith(".s.PGSQL.")).toList()) {
                    Files.delete(p);
                }
            }
            Files.writeString(backup.resolve("recovery.signal"), "");
            if (isRoot()) {
                chownToPostgres(backup.resolve("recovery.signal"));
            }
            LocalPostgres restored = LocalPostgres.builder(backup).port(port).superuserPassword(TestPostgres.SUPERUSER_PASSWORD)
                    .setting("max_connections=200")
                    .setting("restore_command=/bin/false") // everything needed is in the backup's pg_wal
                    .setting("recovery_target=immediate")
                    .setting("recovery_target_action=promote")
                    .build();
            f.replaceServer(restored);
            startOrShowLog(restored);
            await("the restored server promoted", WAIT, () -> {
                try (Connection c = f.direct()) {
                    return "false".equals(text(c, "SELECT pg_is_in_recovery()::text"));
                } catch (SQLException notYet) {
                    return false;
                }
            });
            try (Connection c = f.direct()) {
                assertThat(text(c, "SELECT system_identifier::text FROM pg_control_system()")).isEqualTo(systemId);
                assertThat(scalar(c, "SELECT count(*) FROM t WHERE id >= 5000")).isZero();
                assertThat(scalar(c, "SELECT count(*) FROM t WHERE id <= 20")).isEqualTo(20);
            }
            await("the restored server on timeline 2", WAIT, () -> {
                try (Connection c = f.direct()) {
                    return timeline(c) == 2;
                } catch (SQLException e) {
                    return false;
                }
            });

            await("a re-snapshot counted", WAIT, () -> resnapshots() >= 1);
            awaitInSync();
            assertThat(logs.lines(Level.WARN, "event=replication_resnapshot", "timeline changed from 1 to 2")).isNotEmpty();
        }
        assertThat(resnapshots()).isEqualTo(1);
        assertThat(v.state("public", "t_idx")).contains(IndexState.READY);
        assertThat(v.holds("public", "t_idx", 5050)).isFalse();
        assertThat(v.holds("public", "t_idx", 10)).isTrue();
        assertThat(knn("[5050,9,9,9]")).isNotEmpty().allSatisfy(id -> assertThat(id).isLessThan(5000L));
        assertThat(knn("[-500,-500,-500,-500]").getFirst()).isNotEqualTo(100L);
        try (Connection c = f.direct()) {
            assertThat(scalar(c, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '"
                    + v.replicationSlot().orElseThrow() + "'")).isEqualTo(1);
            // and it follows the restored server from now on
            exec(c, "INSERT INTO t VALUES (7000, ARRAY[7, 7, 7, 7]::real[])");
        }
        awaitInSync();
        assertThat(v.holds("public", "t_idx", 7000)).isTrue();
    }

    @Test
    @Order(2)
    void aDifferentClusterOnTheSamePortIsRebuilt() throws Exception {
        // Another cluster (its own initdb) with the same schema and index definition and other rows.
        LocalPostgres other = TestPostgres.startPrivate("restore-other");
        scratch.add(other.dataDir().getParent());
        try (Connection c = TestPostgres.superuser(other)) {
            exec(c, "CREATE DATABASE " + f.db);
        }
        try (ProxyUnderTest plain = ProxyUnderTest.start(other.port(), "", List.of());
             Connection c = plain.connectTo(f.db)) {
            exec(c, "CREATE EXTENSION neurondb", SCHEMA,
                    "INSERT INTO t SELECT g, ARRAY[g, 3, 3, 3]::real[] FROM generate_series(100000, 100149) g", INDEX);
        }
        other.stop();

        f.stopProxy(); // its checkpoints name the old cluster
        int port = f.pg.port();
        f.pg.stop("fast");
        LocalPostgres moved = LocalPostgres.builder(other.dataDir()).port(port).superuserPassword(TestPostgres.SUPERUSER_PASSWORD)
                .setting("max_connections=200").build();
        f.replaceServer(moved);
        startOrShowLog(moved);

        try (LogCapture logs = new LogCapture(LogCapture.INDEX_SYNC)) {
            start();
            await("a re-snapshot counted", WAIT, () -> resnapshots() >= 1);
            awaitInSync();
            assertThat(logs.lines(Level.WARN, "event=replication_resnapshot", "system identifier changed")).hasSize(1);
        }
        assertThat(tableIds()).hasSize(150);
        assertThat(v.holds("public", "t_idx", 100100)).isTrue();
        assertThat(v.holds("public", "t_idx", 50)).isFalse();
        assertThat(knn("[50,1,2,3]")).allSatisfy(id -> assertThat(id).isGreaterThanOrEqualTo(100000L));
    }
}
