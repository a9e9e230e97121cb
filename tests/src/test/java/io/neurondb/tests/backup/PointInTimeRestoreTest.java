package io.neurondb.tests.backup;

import io.neurondb.proxy.embedded.LocalPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Physical backup + continuous WAL archiving (pg_receivewal on the plugin's slot) on a cluster
 * of this class's own, then a point-in-time restore to an LSN between two known commits: the
 * restored server has exactly the rows committed before that LSN.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class PointInTimeRestoreTest {

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

    @Test
    void restoresExactlyTheRowsCommittedBeforeTheTargetLsn() throws Exception {
        try (Connection c = fx.direct("app")) {
            assertThat(value(c, "SELECT slot_name FROM pg_replication_slots WHERE slot_type = 'physical'")).isEqualTo("neurondb_test_wal");
        }
        String backupId;
        try (Connection c = fx.viaProxy("postgres"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT * FROM neurondb.backup_now('physical')")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString("status")).isEqualTo("succeeded");
            backupId = rs.getString("id");
            Path location = Path.of(rs.getString("location"));
            assertThat(location.resolve("base.tar.gz.enc")).exists();
            assertThat(location.resolve("pg_wal.tar.gz.enc")).exists();
            assertThat(Files.readString(location.resolve("manifest.json"))).contains("\"start_lsn\"", "\"end_lsn\"", "system_identifier");
        }

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
        Path archived = fx.repository.resolve("wal").resolve(targetSegment);
        BackupFixture.await("pg_receivewal to finish segment " + targetSegment, Duration.ofSeconds(60), () -> Files.exists(archived));

        // the wal job's work, from the CLI: finished segments copied to the off-host directory
        BackupFixture.CliResult shipped = fx.cli("backup", "wal");
        assertThat(shipped.code()).as(shipped.err()).isZero();
        assertThat(fx.offsite.resolve("wal").resolve(targetSegment)).hasSameBinaryContentAs(archived);
        assertThat(fx.offsite.resolve("physical")).isNotEmptyDirectory();

        Path restored = fx.work.resolve("restored-pgdata");
        BackupFixture.CliResult r = fx.cli("restore", "physical", "--target-dir", restored.toString(), "--target-lsn", target);
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("from backup " + backupId).contains("recovering to lsn " + target);
        assertThat(restored.resolve("recovery.signal")).exists();
        assertThat(Files.readString(restored.resolve("postgresql.auto.conf"))).contains("recovery_target_lsn = '" + target + "'");

        LocalPostgres server;
        try {
            // recovery needs max_connections etc. at least as on the backed-up server (200 in tests)
            server = LocalPostgres.builder(restored).port(LocalPostgres.freePort()).setting("max_connections=200").build().start();
        } catch (RuntimeException e) {
            Path log = restored.resolve("server.log");
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
                assertThat(value(c, "SELECT count(*) FROM orders")).isEqualTo("50");
                assertThat(value(c, "SELECT count(*) FROM orders WHERE batch = 1")).isEqualTo("50");
                assertThat(value(c, "SELECT neurondb.version()")).isNotBlank();   // the playbook's check
            }
        } finally {
            server.destroy();
        }

        // an existing target directory is refused, untouched
        Files.createDirectories(restored);
        Files.writeString(restored.resolve("keep.txt"), "mine");
        BackupFixture.CliResult again = fx.cli("restore", "physical", "--target-dir", restored.toString(), "--target-lsn", target);
        assertThat(again.code()).isEqualTo(2);
        assertThat(again.err()).contains("already exists and is not empty");
        assertThat(restored.resolve("keep.txt")).hasContent("mine");
    }
}
