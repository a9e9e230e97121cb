package io.neurondb.tests.backup;

import io.neurondb.proxy.embedded.LocalPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Physical backup + continuous WAL archiving (pg_receivewal on the plugin's slot) on a cluster
 * of this class's own, with encryption on: archived WAL is sealed at rest, point-in-time
 * restores to an LSN and to a time between two known commits give exactly the rows committed
 * before the target, a tampered WAL file is refused before anything is written, and a killed
 * pg_receivewal is restarted without a hole in the archive.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PointInTimeRestoreTest {

    private static final byte[] SEALED_MAGIC = "NDBGCM01".getBytes(StandardCharsets.US_ASCII);

    private static BackupFixture fx;
    private static Path keyDir;

    @BeforeAll
    static void start() throws Exception {
        keyDir = Files.createTempDirectory("neurondb-test-pitr-key-");
        Path key = Files.writeString(keyDir.resolve("k"),
                "8f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0");
        fx = new BackupFixture("pitr", """
                    database: app
                    schedule: {logical: "off", physical: "off", wal: "off", verify: "off"}
                    wal:
                      slot: neurondb_test_wal
                    encryption:
                      key_file: %s
                """.formatted(key));
        try (Connection c = fx.direct("postgres"); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE app");
        }
        fx.startProxy();
        try (Connection c = fx.viaProxy("app"); Statement s = c.createStatement()) {
            s.execute("CREATE EXTENSION vector");
            s.execute("CREATE TABLE orders (id int PRIMARY KEY, batch int NOT NULL)");
            s.execute("CREATE TABLE events (id int PRIMARY KEY, batch int NOT NULL)");
            s.execute("CREATE TABLE receiver_check (id int PRIMARY KEY)");   // each test writes a table of its own
        }
    }

    @AfterAll
    static void stop() {
        if (fx != null) {
            fx.close();
        }
        LocalPostgres.deleteTree(keyDir);
    }

    private static String value(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    /** backup_now('physical') through the proxy; its id. */
    private static String physicalBackupNow() throws Exception {
        try (Connection c = fx.viaProxy("postgres"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT * FROM neurondb.backup_now('physical')")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString("status")).isEqualTo("succeeded");
            Path location = Path.of(rs.getString("location"));
            assertThat(location.resolve("base.tar.gz.enc")).exists();
            assertThat(location.resolve("pg_wal.tar.gz.enc")).exists();
            assertThat(Files.readString(location.resolve("manifest.json"))).contains("\"start_lsn\"", "\"end_lsn\"", "system_identifier");
            String id = rs.getString("id");
            // the catalog row carries what the manifest says: size, the manifest's SHA-256, the LSN range
            try (Connection app = fx.direct("app"); Statement q = app.createStatement();
                 ResultSet row = q.executeQuery("SELECT status, bytes, sha256, start_lsn::text, end_lsn::text, start_lsn <= end_lsn, "
                         + "location FROM neurondb.backups WHERE id = " + id)) {
                assertThat(row.next()).isTrue();
                assertThat(row.getString(1)).isEqualTo("succeeded");
                assertThat(row.getLong(2)).isEqualTo(Long.parseLong(rs.getString("bytes"))).isPositive();
                assertThat(row.getString(3)).isEqualTo(sha256(location.resolve("manifest.json")));
                assertThat(row.getString(4)).isNotBlank();
                assertThat(row.getBoolean(6)).isTrue();
                assertThat(row.getString(7)).isEqualTo(location.toString());
            }
            return id;
        }
    }

    private static String sha256(Path file) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }

    private static Path sealed(Path walDir, String segment) {
        return walDir.resolve(segment + ".enc");
    }

    /** Waits until the archiver has sealed {@code segment} in the repository and removed its plain copy. */
    private static Path awaitSealed(String segment) throws InterruptedException {
        Path wal = fx.repository.resolve("wal");
        BackupFixture.await("pg_receivewal to finish and the archiver to seal segment " + segment, Duration.ofSeconds(60),
                () -> Files.exists(sealed(wal, segment)) && !Files.exists(wal.resolve(segment)));
        return sealed(wal, segment);
    }

    private static byte[] head(Path file, int n) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return in.readNBytes(n);
        }
    }

    /** Finished segments lying in {@code walDir} unencrypted (24 hex digits, no suffix). */
    private static List<String> plainSegments(Path walDir) throws IOException {
        try (Stream<Path> s = Files.list(walDir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.matches("[0-9A-F]{24}")).toList();
        }
    }

    /** Starts a server on a prepared data directory (as postgres when root), waits for recovery to end, runs {@code check}. */
    private static void onRestoredServer(Path dataDir, SqlCheck check) throws Exception {
        LocalPostgres server;
        try {
            // recovery needs max_connections etc. at least as on the backed-up server (200 in tests)
            server = LocalPostgres.builder(dataDir).port(LocalPostgres.freePort()).setting("max_connections=200").build().start();
        } catch (RuntimeException e) {
            Path log = dataDir.resolve("server.log");
            throw new AssertionError("the restored server did not start:\n" + (Files.exists(log) ? Files.readString(log) : "(no log)"), e);
        }
        try {
            Properties p = new Properties();
            p.setProperty("user", "postgres");
            p.setProperty("password", "postgres");
            try (Connection c = DriverManager.getConnection(server.jdbcUrl("app"), p)) {
                BackupFixture.await("the restored server to finish recovery", Duration.ofSeconds(60), () -> {
                    try {
                        return "f".equals(value(c, "SELECT pg_is_in_recovery()"));
                    } catch (SQLException e) {
                        return false;
                    }
                });
                check.run(c);
                assertThat(value(c, "SELECT neurondb.version()")).isNotBlank();   // the playbook's check
            }
        } finally {
            server.destroy();
        }
    }

    private interface SqlCheck {
        void run(Connection c) throws Exception;
    }

    @Test
    void restoresExactlyTheRowsCommittedBeforeTheTargetLsnFromSealedWal() throws Exception {
        try (Connection c = fx.direct("app")) {
            assertThat(value(c, "SELECT slot_name FROM pg_replication_slots WHERE slot_type = 'physical'")).isEqualTo("neurondb_test_wal");
        }
        String backupId = physicalBackupNow();

        String target;
        String targetSegment;
        try (Connection c = fx.direct("app"); Statement s = c.createStatement()) {
            s.execute("INSERT INTO orders SELECT i, 1 FROM generate_series(1, 50) i");      // committed before the target
            target = value(c, "SELECT pg_current_wal_lsn()::text");
            targetSegment = value(c, "SELECT pg_walfile_name('" + target + "')");
            s.execute("INSERT INTO orders SELECT i, 2 FROM generate_series(51, 100) i");    // committed after it
            s.execute("UPDATE orders SET batch = 3 WHERE id <= 10");
            value(c, "SELECT pg_switch_wal()::text");
        }
        // encrypted at rest: the finished segment exists only sealed
        Path archived = awaitSealed(targetSegment);
        assertThat(head(archived, SEALED_MAGIC.length)).isEqualTo(SEALED_MAGIC);
        assertThat(Files.size(archived)).isGreaterThan(16L << 20);
        BackupFixture.await("no finished segment left unencrypted in the repository", Duration.ofSeconds(30), () -> {
            try {
                return plainSegments(fx.repository.resolve("wal")).isEmpty();
            } catch (IOException e) {
                return false;
            }
        });

        // the wal job's work, from the CLI: finished (sealed) segments copied to the off-host directory
        BackupFixture.CliResult shipped = fx.cli("backup", "wal");
        assertThat(shipped.code()).as(shipped.err()).isZero();
        assertThat(sealed(fx.offsite.resolve("wal"), targetSegment)).hasSameBinaryContentAs(archived);
        assertThat(plainSegments(fx.offsite.resolve("wal"))).isEmpty();
        assertThat(fx.offsite.resolve("physical")).isNotEmptyDirectory();

        // bad targets are refused before a directory is made
        Path never = fx.work.resolve("never-restored");
        BackupFixture.CliResult badLsn = fx.cli("restore", "physical", "--target-dir", never.toString(), "--target-lsn", "12345");
        assertThat(badLsn.code()).isEqualTo(2);
        assertThat(badLsn.err()).contains("'12345' is not an LSN").contains("e.g. 0/3000148");
        BackupFixture.CliResult badTime = fx.cli("restore", "physical", "--target-dir", never.toString(), "--target-time", "yesterday");
        assertThat(badTime.code()).isEqualTo(2);
        assertThat(badTime.err()).contains("--target-time 'yesterday' is not a time with offset");
        BackupFixture.CliResult beyond = fx.cli("restore", "physical", "--target-dir", never.toString(), "--target-lsn", "FF/0");
        assertThat(beyond.code()).isEqualTo(2);
        assertThat(beyond.err()).contains("does not reach the target LSN FF/0");
        assertThat(never).doesNotExist();

        Path restored = fx.work.resolve("restored-pgdata");
        BackupFixture.CliResult r = fx.cli("restore", "physical", "--target-dir", restored.toString(), "--target-lsn", target);
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("from backup " + backupId).contains("recovering to lsn " + target);
        assertThat(restored.resolve("recovery.signal")).exists();
        assertThat(Files.readString(restored.resolve("postgresql.auto.conf"))).contains("recovery_target_lsn = '" + target + "'");
        // the restored directory holds the WAL decrypted: PostgreSQL's restore_command copies it as is
        assertThat(restored.resolve("neurondb_restore_wal").resolve(targetSegment)).exists();
        assertThat(head(restored.resolve("neurondb_restore_wal").resolve(targetSegment), SEALED_MAGIC.length)).isNotEqualTo(SEALED_MAGIC);

        onRestoredServer(restored, c -> {
            assertThat(value(c, "SELECT count(*) FROM orders")).isEqualTo("50");
            assertThat(value(c, "SELECT count(*) FROM orders WHERE batch = 1")).isEqualTo("50");
        });

        // an existing target directory is refused, untouched
        Files.createDirectories(restored);
        Files.writeString(restored.resolve("keep.txt"), "mine");
        BackupFixture.CliResult again = fx.cli("restore", "physical", "--target-dir", restored.toString(), "--target-lsn", target);
        assertThat(again.code()).isEqualTo(2);
        assertThat(again.err()).contains("already exists and is not empty");
        assertThat(restored.resolve("keep.txt")).hasContent("mine");

        // a tampered sealed segment in the off-host copy: refused (GCM tag) before anything is written
        Path offsiteSegment = sealed(fx.offsite.resolve("wal"), targetSegment);
        byte[] bytes = Files.readAllBytes(offsiteSegment);
        bytes[8 + 12 + 5 + 1000] ^= 0x01;   // inside the first chunk's ciphertext (magic, nonce, chunk header)
        Files.write(offsiteSegment, bytes);
        Path fromTampered = fx.work.resolve("restored-from-tampered");
        BackupFixture.CliResult tampered = fx.cli("restore", "physical", "--from", "offsite", "--target-dir", fromTampered.toString(),
                "--target-lsn", target);
        assertThat(tampered.code()).isEqualTo(2);
        assertThat(tampered.err()).contains(targetSegment + ".enc").contains("failed the AES-GCM integrity check")
                .contains("nothing was restored");
        assertThat(fromTampered).doesNotExist();
        try (Stream<Path> staging = Files.list(fx.repository.resolve(".incomplete"))) {
            assertThat(staging.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("restore-"));
        }
    }

    @Test
    void restoresExactlyTheRowsCommittedBeforeTheTargetTime() throws Exception {
        String backupId = physicalBackupNow();
        String target;
        String lastSegment;
        try (Connection c = fx.direct("app"); Statement s = c.createStatement()) {
            s.execute("INSERT INTO events SELECT i, 1 FROM generate_series(1, 40) i");      // committed before the target
            String epoch;
            try (ResultSet rs = s.executeQuery("SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
                    + "extract(epoch FROM t)::text FROM (SELECT clock_timestamp() AS t) x")) {
                rs.next();
                target = rs.getString(1);
                epoch = rs.getString(2);
            }
            // the next commit must carry a later timestamp than the target: the server's clock has to move past it
            BackupFixture.await("the server clock to pass the target time", Duration.ofSeconds(10), () -> {
                try {
                    return "t".equals(value(c, "SELECT extract(epoch FROM clock_timestamp()) > " + epoch + " + 0.05"));
                } catch (SQLException e) {
                    return false;
                }
            });
            s.execute("INSERT INTO events SELECT i, 2 FROM generate_series(41, 80) i");    // committed after it
            s.execute("UPDATE events SET batch = 3 WHERE id <= 5");
            lastSegment = value(c, "SELECT pg_walfile_name(pg_current_wal_lsn())");
            value(c, "SELECT pg_switch_wal()::text");
        }
        awaitSealed(lastSegment);

        Path restored = fx.work.resolve("restored-pgdata-time");
        BackupFixture.CliResult r = fx.cli("restore", "physical", "--target-dir", restored.toString(), "--target-time", target);
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("from backup " + backupId).contains("recovering to time ");
        assertThat(Files.readString(restored.resolve("postgresql.auto.conf"))).contains("recovery_target_time = '")
                .contains("+00:00'");

        onRestoredServer(restored, c -> {
            assertThat(value(c, "SELECT count(*) FROM events")).isEqualTo("40");
            assertThat(value(c, "SELECT count(*) FROM events WHERE batch = 1")).isEqualTo("40");
        });
    }

    @Test
    void aKilledWalReceiverIsRestartedAndTheArchiveHasNoHole() throws Exception {
        BackupFixture.await("pg_receivewal running", Duration.ofSeconds(30), () -> !receivers().isEmpty());
        ProcessHandle receiver = receivers().getFirst();
        receiver.destroyForcibly();
        BackupFixture.await("pg_receivewal to die", Duration.ofSeconds(10), () -> !receiver.isAlive());

        // WAL written and finished while nothing receives it: the restarted receiver must fetch it from the slot
        String first;
        String second;
        try (Connection c = fx.direct("app"); Statement s = c.createStatement()) {
            s.execute("INSERT INTO receiver_check SELECT generate_series(1, 10)");
            first = value(c, "SELECT pg_walfile_name(pg_current_wal_lsn())");
            value(c, "SELECT pg_switch_wal()::text");
            s.execute("INSERT INTO receiver_check SELECT generate_series(11, 20)");
            second = value(c, "SELECT pg_walfile_name(pg_current_wal_lsn())");
            value(c, "SELECT pg_switch_wal()::text");
        }
        BackupFixture.await("a new pg_receivewal", Duration.ofSeconds(60),
                () -> receivers().stream().anyMatch(p -> p.pid() != receiver.pid() && p.isAlive()));
        awaitSealed(first);
        awaitSealed(second);
        assertThat(second).isNotEqualTo(first);
    }

    /**
     * Retention with {@code keep: 1} after a new base backup (run last: it deletes what the other
     * tests restore from): one physical set stays in each target, no WAL before its start, and
     * what is left restores — the kept backup's WAL was not touched.
     */
    @Test
    @Order(Integer.MAX_VALUE)
    void retentionKeepsTheLastBackupAndTheWalItNeeds() throws Exception {
        try (Connection c = fx.direct("app"); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE kept (id int PRIMARY KEY)");
        }
        physicalBackupNow();   // at least two physical backups in each target before retention
        Path keepOne = fx.writeConfig("keep-one.yaml", fx.backupYaml + "    retention: {keep: 1}\n");
        BackupFixture.CliResult kept = fx.cli(keepOne, "backup", "physical");
        assertThat(kept.code()).as(kept.err()).isZero();
        String keptName = Path.of(kept.out().replaceAll("(?s).*succeeded: (\\S+),.*", "$1")).getFileName().toString();
        for (Path root : List.of(fx.repository, fx.offsite)) {
            try (Stream<Path> sets = Files.list(root.resolve("physical"))) {
                assertThat(sets.map(p -> p.getFileName().toString()).toList()).as("physical sets in %s", root).containsExactly(keptName);
            }
        }
        String startLsn = new io.vertx.core.json.JsonObject(Files.readString(fx.repository.resolve("physical").resolve(keptName)
                .resolve("manifest.json"))).getString("start_lsn");
        String startSegment;
        try (Connection c = fx.direct("app"); Statement s = c.createStatement()) {
            startSegment = value(c, "SELECT pg_walfile_name('" + startLsn + "')");
            s.execute("INSERT INTO kept SELECT generate_series(1, 30)");
            String last = value(c, "SELECT pg_walfile_name(pg_current_wal_lsn())");
            value(c, "SELECT pg_switch_wal()::text");
            awaitSealed(last);
        }
        try (Stream<Path> wal = Files.list(fx.repository.resolve("wal"))) {
            List<String> segments = wal.map(p -> p.getFileName().toString()).filter(n -> n.matches("[0-9A-F]{24}\\.enc")).sorted().toList();
            assertThat(segments).isNotEmpty().allMatch(n -> n.substring(8, 24).compareTo(startSegment.substring(8, 24)) >= 0);
            assertThat(segments.getFirst()).isEqualTo(startSegment + ".enc");
        }

        Path restored = fx.work.resolve("restored-after-retention");
        BackupFixture.CliResult r = fx.cli("restore", "physical", "--target-dir", restored.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("recovering to end of archived WAL");
        onRestoredServer(restored, c -> assertThat(value(c, "SELECT count(*) FROM kept")).isEqualTo("30"));
    }

    /** The pg_receivewal processes this JVM (the proxy under test) started. */
    private static List<ProcessHandle> receivers() {
        return ProcessHandle.current().descendants().filter(p -> p.info().command().orElse("").endsWith("pg_receivewal")).toList();
    }
}
