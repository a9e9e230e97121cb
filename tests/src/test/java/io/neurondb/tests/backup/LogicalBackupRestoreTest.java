package io.neurondb.tests.backup;

import io.neurondb.tests.support.ProxyJvm;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Logical backups end to end on a real PostgreSQL 15 with real pg_dump/pg_restore, through the
 * proxy with the built plugin jar: encrypted backup with an off-host copy, drop, restore through
 * the CLI, identical kNN answers; the restore test; a tool killed midway and a run that times
 * out; tampered files and the bad-input refusals. Replication sync is on, as in production, so
 * every DROP DATABASE goes through the proxy (the playbook's dropdb against the proxy's port),
 * which lets go of the database's slot first.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class LogicalBackupRestoreTest {

    private static final String KNN = "SELECT id FROM items ORDER BY embedding <-> '[0.5,0.25,0.75]' LIMIT 10";

    private static BackupFixture fx;
    private static Path keyFile;

    @BeforeAll
    static void start() throws Exception {
        Path dir = Files.createTempDirectory("neurondb-test-backup-key-");
        keyFile = Files.writeString(dir.resolve("backup.key"), "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n");
        fx = new BackupFixture("logical", true, """
                    database: shop
                    wal:
                      enabled: false
                    schedule: {logical: "off", physical: "off", wal: "off", verify: "off"}
                    encryption:
                      key_file: %s
                """.formatted(keyFile));
        try (Connection c = fx.direct("postgres"); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE shop");
        }
        fx.startProxy();
        try (Connection c = fx.viaProxy("shop"); Statement s = c.createStatement()) {
            s.execute("CREATE EXTENSION vector");
            s.execute("CREATE TABLE items (id bigserial PRIMARY KEY, embedding vector(3))");
            // vector(3) is stored as real[] on stock PostgreSQL
            s.execute("INSERT INTO items (embedding) SELECT ARRAY[(i % 17) / 17.0, (i % 11) / 11.0, (i % 7) / 7.0]::real[] "
                    + "FROM generate_series(1, 300) i");
            s.execute("CREATE INDEX items_hnsw ON items USING hnsw (embedding vector_l2_ops)");
            s.execute("CREATE TABLE notes (id int PRIMARY KEY, body text)");
            s.execute("INSERT INTO notes SELECT i, 'note ' || i FROM generate_series(1, 7) i");
        }
    }

    @AfterAll
    static void stop() {
        if (fx != null) {
            fx.close();
        }
        io.neurondb.proxy.embedded.LocalPostgres.deleteTree(keyFile.getParent());
    }

    private static List<Long> knn(String database) throws SQLException {
        try (Connection c = fx.viaProxy(database); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(KNN)) {
            List<Long> ids = new ArrayList<>();
            while (rs.next()) {
                ids.add(rs.getLong(1));
            }
            return ids;
        }
    }

    private static List<String> backupNow(String kind) throws SQLException {
        try (Connection c = fx.viaProxy("postgres"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT * FROM neurondb.backup_now('" + kind + "')")) {
            assertThat(rs.next()).isTrue();
            List<String> row = new ArrayList<>();
            for (int i = 1; i <= 6; i++) {
                row.add(rs.getString(i));
            }
            return row;
        }
    }

    private static List<String> sets(Path root) throws IOException {
        Path dir = root.resolve("logical");
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static boolean databaseExists(String name) throws SQLException {
        try (Connection c = fx.direct("postgres"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + name + "'")) {
            return rs.next();
        }
    }

    private static String catalogStatus(long id) throws SQLException {
        try (Connection c = fx.direct("shop"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT status || coalesce(': ' || error, '') FROM neurondb.backups WHERE id = " + id)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    @Test
    void backupDropRestoreThroughTheCliGivesTheSameKnnAnswers() throws Exception {
        List<Long> before = knn("shop");
        assertThat(before).hasSize(10);

        List<String> row = backupNow("logical");
        assertThat(row.get(1)).isEqualTo("logical");
        assertThat(row.get(2)).isEqualTo("succeeded");
        Path location = Path.of(row.get(3));
        assertThat(location.resolve("manifest.json")).exists();
        assertThat(location.resolve("database.dump.enc")).exists();
        assertThat(location.resolve("database.dump")).doesNotExist();
        String manifest = Files.readString(location.resolve("manifest.json"));
        assertThat(manifest).contains("\"public.items\" : 300", "\"public.notes\" : 7", "items_hnsw", "\"encrypted\" : true")
                .doesNotContain("00112233445566778899");
        assertThat(fx.offsite.resolve("logical").resolve(location.getFileName()).resolve("database.dump.enc")).exists();
        assertThat(catalogStatus(Long.parseLong(row.get(0)))).isEqualTo("succeeded");

        try (Connection c = fx.viaProxy("postgres"); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE shop WITH (FORCE)");
        }
        BackupFixture.CliResult restored = fx.cli("restore", "logical", "--database", "shop");
        assertThat(restored.code()).as(restored.err()).isZero();
        assertThat(restored.out()).contains("restored backup " + row.get(0)).contains("through the proxy").contains("neurondb.version() = ");

        BackupFixture.await("kNN through the proxy after the restore", Duration.ofSeconds(60), () -> {
            try {
                return knn("shop").equals(before);
            } catch (SQLException e) {
                return false;
            }
        });
        assertThat(knn("shop")).isEqualTo(before);
        assertThat(fx.proxy.plugins().startedPluginIds()).contains("backup");
        assertThat(fx.proxy.vectors().stats().get("shop")).anySatisfy(i -> assertThat(i.indexName()).isEqualTo("items_hnsw"));
    }

    @Test
    void restoreTestRestoresChecksAndDropsTheScratchDatabase() throws Exception {
        backupNow("logical");
        SimpleMeterRegistry exporter = new SimpleMeterRegistry();
        ((CompositeMeterRegistry) fx.proxy.meters()).add(exporter);
        try {
            List<String> row = backupNow("verify");
            assertThat(row.get(2)).isEqualTo("succeeded");
            assertThat(row.get(3)).contains("1 vector indexes").contains("(dropped)");
            double verified = exporter.get("neurondb_backup_last_verified_timestamp_seconds").gauge().value();
            assertThat(verified).isGreaterThan(System.currentTimeMillis() / 1000.0 - 600);
            assertThat(exporter.get("neurondb_backup_last_success_timestamp_seconds").tag("kind", "logical").gauge().value()).isPositive();
        } finally {
            ((CompositeMeterRegistry) fx.proxy.meters()).remove(exporter);
        }
        try (Connection c = fx.direct("postgres"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_database WHERE datname LIKE 'neurondb_verify_%'")) {
            rs.next();
            assertThat(rs.getInt(1)).isZero();
        }
    }

    @Test
    void aToolKilledMidwayOrTimingOutLeavesAFailedRunAndNothingComplete() throws Exception {
        backupNow("logical");
        List<String> setsBefore = sets(fx.repository);
        List<String> offsiteBefore = sets(fx.offsite);
        try (Connection locker = fx.direct("shop"); Statement ls = locker.createStatement()) {
            locker.setAutoCommit(false);
            ls.execute("LOCK TABLE notes IN ACCESS EXCLUSIVE MODE");   // pg_dump waits for it

            CompletableFuture<List<String>> run = CompletableFuture.supplyAsync(() -> {
                try {
                    return backupNow("logical");
                } catch (SQLException e) {
                    throw new RuntimeException(e);
                }
            });
            BackupFixture.await("pg_dump waiting for the table lock", Duration.ofSeconds(60), () -> pgDumpWaiting());
            // one run of a kind at a time: a second is refused while this one waits
            assertThatThrownBy(() -> backupNow("logical")).isInstanceOfSatisfying(SQLException.class, e -> {
                assertThat(e.getSQLState()).isEqualTo("55006");
                assertThat(e.getMessage()).contains("a logical backup is already running (id ");
            });
            List<ProcessHandle> dumps = ProcessHandle.current().descendants()
                    .filter(p -> p.info().command().orElse("").endsWith("pg_dump")).toList();
            assertThat(dumps).hasSize(1);
            dumps.getFirst().destroyForcibly();
            assertThatThrownBy(run::join).hasRootCauseInstanceOf(SQLException.class)
                    .rootCause().hasMessageContaining("failed").hasMessageContaining("pg_dump");
            assertNothingNewAndNoStaging(setsBefore, offsiteBefore);

            // the same through the CLI with a 2-second timeout: the tool is stopped, the run failed
            BackupFixture.CliResult timedOut = fx.cli("backup", "logical", "--timeout-seconds", "2");
            assertThat(timedOut.code()).isEqualTo(1);
            assertThat(timedOut.err()).contains("did not finish within the timeout of 2 s");
            assertNothingNewAndNoStaging(setsBefore, offsiteBefore);
            locker.rollback();
        }
        try (Connection c = fx.direct("shop"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT status, error FROM neurondb.backups ORDER BY id DESC LIMIT 2")) {
            for (int i = 0; i < 2; i++) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("failed");
                assertThat(rs.getString(2)).contains("pg_dump");
            }
        }
        List<String> next = backupNow("logical");
        assertThat(next.get(2)).isEqualTo("succeeded");
        assertThat(sets(fx.repository)).hasSize(Math.min(setsBefore.size() + 1, 7));
    }

    private static boolean pgDumpWaiting() {
        try (Connection c = fx.direct("postgres"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'neurondb-backup' "
                     + "AND wait_event_type = 'Lock' AND query ILIKE 'LOCK TABLE%'")) {
            rs.next();
            return rs.getInt(1) > 0;
        } catch (SQLException e) {
            return false;
        }
    }

    private static void assertNothingNewAndNoStaging(List<String> setsBefore, List<String> offsiteBefore) throws IOException {
        assertThat(sets(fx.repository)).isEqualTo(setsBefore);
        assertThat(sets(fx.offsite)).isEqualTo(offsiteBefore);
        for (Path root : List.of(fx.repository, fx.offsite)) {
            try (Stream<Path> s = Files.list(root.resolve(".incomplete"))) {
                assertThat(s.toList()).as("staging left in %s", root).isEmpty();
            }
        }
    }

    /** The off-host directory on a 4 KiB tmpfs: the copy runs out of space midway (root only). */
    @Test
    void aFullOffHostDiskFailsTheRunCleanlyAndTheNextRunSucceeds() throws Exception {
        backupNow("logical");
        List<String> setsBefore = sets(fx.repository);
        Assumptions.assumeTrue(run("mount", "-t", "tmpfs", "-o", "size=4k", "tmpfs", fx.offsite.toString()) == 0,
                "mounting a tmpfs needs root");
        try {
            List<String> offsiteBefore = sets(fx.offsite);
            assertThatThrownBy(() -> backupNow("logical")).isInstanceOfSatisfying(SQLException.class, e -> {
                assertThat(e.getSQLState()).isEqualTo("58000");
                assertThat(e.getMessage()).contains("failed");
            });
            assertNothingNewAndNoStaging(setsBefore, offsiteBefore);
        } finally {
            assertThat(run("umount", fx.offsite.toString())).isZero();
        }
        try (Connection c = fx.direct("shop"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT status FROM neurondb.backups WHERE kind = 'logical' ORDER BY id DESC LIMIT 1")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualTo("failed");
        }
        assertThat(backupNow("logical").get(2)).isEqualTo("succeeded");
    }

    /**
     * The off-host target fails on every write (its mount went away and a file took its place):
     * works without root, unlike the tmpfs case. The run is failed, nothing new is complete in
     * the repository either, and once the target is back the next run succeeds in both.
     */
    @Test
    void aFailingOffHostTargetFailsTheRunAndTheNextRunSucceeds() throws Exception {
        backupNow("logical");
        List<String> setsBefore = sets(fx.repository);
        List<String> offsiteBefore = sets(fx.offsite);
        Path aside = fx.work.resolve("offsite-aside");
        Files.move(fx.offsite, aside);
        Files.writeString(fx.offsite, "not a directory");
        SimpleMeterRegistry exporter = new SimpleMeterRegistry();
        ((CompositeMeterRegistry) fx.proxy.meters()).add(exporter);
        try {
            assertThatThrownBy(() -> backupNow("logical")).isInstanceOfSatisfying(SQLException.class, e -> {
                assertThat(e.getSQLState()).isEqualTo("58000");
                assertThat(e.getMessage()).contains("the copy to the off-host target dir:" + fx.offsite + " failed")
                        .contains("kept nowhere");
            });
            assertThat(exporter.get("neurondb_backup_failures").tag("kind", "logical").counter().count()).isEqualTo(1.0);
            assertThat(exporter.get("neurondb_backup_duration").tag("kind", "logical").tag("status", "failed").timer().count()).isEqualTo(1);
            assertThat(sets(fx.repository)).isEqualTo(setsBefore);
            try (Stream<Path> staging = Files.list(fx.repository.resolve(".incomplete"))) {
                assertThat(staging.toList()).as("staging left in the repository").isEmpty();
            }
        } finally {
            ((CompositeMeterRegistry) fx.proxy.meters()).remove(exporter);
            Files.delete(fx.offsite);
            Files.move(aside, fx.offsite);
        }
        try (Connection c = fx.direct("shop"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT status, error FROM neurondb.backups WHERE kind = 'logical' ORDER BY id DESC LIMIT 1")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualTo("failed");
            assertThat(rs.getString(2)).contains("off-host target");
        }
        assertThat(sets(fx.offsite)).isEqualTo(offsiteBefore);
        List<String> next = backupNow("logical");
        assertThat(next.get(2)).isEqualTo("succeeded");
        String name = Path.of(next.get(3)).getFileName().toString();
        assertThat(sets(fx.repository)).contains(name);
        assertThat(sets(fx.offsite)).contains(name);
    }

    private static int run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor();
    }

    /**
     * The schedules inside a running proxy (a second proxy on the same server, with a repository
     * of its own and every-minute cron for the dump and the restore test): both run by
     * themselves within about a minute.
     */
    @Test
    void scheduledBackupAndRestoreTestRunInsideTheProxy() throws Exception {
        Path repo = fx.work.resolve("repo-scheduled");
        int port = io.neurondb.proxy.embedded.LocalPostgres.freePort();
        String settings = fx.baseYaml.replace("repository: " + fx.repository, "repository: " + repo)
                .replace("offsite: " + fx.offsite, "offsite: " + fx.work.resolve("offsite-scheduled"))
                .replace("proxy_address: 127.0.0.1:" + fx.proxyPort, "proxy_address: 127.0.0.1:" + port)
                + "    database: shop\n    wal: {enabled: false}\n"
                + "    schedule: {logical: \"* * * * *\", physical: \"off\", wal: \"off\", verify: \"* * * * *\"}\n";
        Path config = fx.writeConfig("scheduled.yaml", settings);
        // a backup for the first scheduled restore test to find, should it start before the scheduled dump ends
        BackupFixture.CliResult seed = fx.cli(config, "backup", "logical");
        assertThat(seed.code()).as(seed.err()).isZero();
        int before = sets(repo).size();
        String yaml = Files.readString(config).replace("listen: 127.0.0.1:" + fx.proxyPort, "listen: 127.0.0.1:" + port);
        try (var proxy = io.neurondb.proxy.NeuronDbProxy.start(
                new io.neurondb.proxy.config.ConfigLoader(java.util.Map.of(), fx.work).loadFromString(yaml), List.of())) {
            assertThat(proxy.plugins().startedPluginIds()).contains("backup");
            SimpleMeterRegistry exporter = new SimpleMeterRegistry();
            ((CompositeMeterRegistry) proxy.meters()).add(exporter);
            BackupFixture.await("a scheduled dump and a scheduled restore test", Duration.ofSeconds(150), () -> {
                try {
                    return sets(repo).size() > before
                            && exporter.get("neurondb_backup_last_verified_timestamp_seconds").gauge().value() > 0;
                } catch (IOException e) {
                    return false;
                }
            });
        }
        try (Connection c = fx.direct("shop"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM neurondb.backups WHERE kind = 'logical' AND status = 'succeeded' "
                     + "AND location LIKE '" + repo + "/%'")) {
            rs.next();
            assertThat(rs.getInt(1)).isGreaterThanOrEqualTo(2);   // the seed and at least one scheduled run
        }
    }

    /**
     * A key from an environment variable, in a CLI process of its own (the environment is the
     * process's): the backup is sealed with it, nothing it prints contains the key, and the same
     * key from a file restores it.
     */
    @Test
    void aKeyFromTheEnvironmentSealsTheBackupAndIsNeverPrinted() throws Exception {
        String hex = "5a4b3c2d1e0f11223344556677889900aabbccddeeff00112233445566778899";
        String ownRepo = fx.baseYaml.replace("repository: " + fx.repository, "repository: " + fx.work.resolve("repo-env-key"))
                .replace("offsite: " + fx.offsite, "offsite: " + fx.work.resolve("offsite-env-key"));
        Path envConfig = fx.writeConfig("env-key.yaml", ownRepo + "    database: shop\n    wal: {enabled: false}\n"
                + "    encryption: {key_env: NEURONDB_TEST_BACKUP_KEY}\n");
        ProcessBuilder pb = new ProcessBuilder(ProxyJvm.command("--config", envConfig.toString(), "backup", "logical")).redirectErrorStream(true);
        pb.environment().put("NEURONDB_TEST_BACKUP_KEY", hex);
        Process p = pb.start();
        String printed = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(printed).isZero();
        assertThat(printed).contains("(logical) succeeded").doesNotContain(hex).doesNotContain(hex.substring(0, 16));

        Path set;
        try (Stream<Path> sets = Files.list(fx.work.resolve("repo-env-key").resolve("logical"))) {
            set = sets.findFirst().orElseThrow();
        }
        assertThat(set.resolve("database.dump.enc")).exists();
        assertThat(set.resolve("database.dump")).doesNotExist();
        assertThat(Files.readString(set.resolve("manifest.json"))).contains("\"encrypted\" : true").doesNotContain(hex);

        Path keyFile = Files.writeString(fx.work.resolve("env-key-as-file.key"), hex + "\n");
        Path fileConfig = fx.writeConfig("env-key-file.yaml", ownRepo + "    database: shop\n    encryption: {key_file: " + keyFile + "}\n");
        BackupFixture.CliResult restored = fx.cli(fileConfig, "restore", "logical", "--database", "shop_env_key");
        assertThat(restored.code()).as(restored.err()).isZero();
        try (Connection c = fx.direct("shop_env_key"); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM notes")) {
            rs.next();
            assertThat(rs.getInt(1)).isEqualTo(7);
        }
        try (Connection c = fx.viaProxy("postgres"); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE shop_env_key WITH (FORCE)");
        }
    }

    @Test
    void theProxyLeavesOutAPluginWithBadSettings() throws Exception {
        Path bad = fx.writeConfig("bad-at-start.yaml",
                fx.baseYaml + "    database: shop\n    wal: {enabled: false}\n    schedule: {verify: \"0 25 * * *\"}\n");
        String yaml = Files.readString(bad).replace("listen: 127.0.0.1:" + fx.proxyPort, "listen: 127.0.0.1:" + io.neurondb.proxy.embedded.LocalPostgres.freePort());
        try (var proxy = io.neurondb.proxy.NeuronDbProxy.start(new io.neurondb.proxy.config.ConfigLoader(java.util.Map.of(), fx.work).loadFromString(yaml), List.of())) {
            assertThat(proxy.plugins().startedPluginIds()).doesNotContain("backup");
            assertThat(proxy.plugins().notStartedPluginIds()).contains("backup");
        }
    }

    @Test
    void tamperedFileAndWrongKeyAreRefusedBeforeAnythingChanges() throws Exception {
        List<String> row = backupNow("logical");
        Path dump = Path.of(row.get(3)).resolve("database.dump.enc");
        byte[] bytes = Files.readAllBytes(dump);
        bytes[bytes.length / 2] ^= 0x40;
        Files.write(dump, bytes);

        BackupFixture.CliResult tampered = fx.cli("restore", "logical", "--database", "shop_copy", "--backup", row.get(0));
        assertThat(tampered.code()).isEqualTo(2);
        assertThat(tampered.err()).contains("does not match its SHA-256").contains("--from offsite");
        assertThat(databaseExists("shop_copy")).isFalse();

        Path otherKey = fx.work.resolve("other.key");
        Files.writeString(otherKey, "ff112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
        Path wrongKeyConfig = fx.writeConfig("wrong-key.yaml", fx.baseYaml + "    database: shop\n    encryption:\n      key_file: " + otherKey + "\n");
        BackupFixture.CliResult wrongKey = fx.cli(wrongKeyConfig, "restore", "logical", "--database", "shop_copy", "--from", "offsite");
        assertThat(wrongKey.code()).isEqualTo(2);
        assertThat(wrongKey.err()).contains("is not the key backup").contains("was encrypted with");
        assertThat(databaseExists("shop_copy")).isFalse();

        // the off-host copy is intact and restores
        BackupFixture.CliResult fromOffsite = fx.cli("restore", "logical", "--database", "shop_copy", "--backup", row.get(0), "--from", "offsite");
        assertThat(fromOffsite.code()).as(fromOffsite.err()).isZero();
        try (Connection c = fx.direct("shop_copy"); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM items")) {
            rs.next();
            assertThat(rs.getInt(1)).isEqualTo(300);
        }
        try (Connection c = fx.viaProxy("postgres"); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE shop_copy WITH (FORCE)");
        }
    }

    @Test
    void badInputIsRefusedWithWhatToFix() throws Exception {
        BackupFixture.CliResult badCron = fx.cli(fx.writeConfig("bad-cron.yaml", fx.baseYaml + "    database: shop\n    schedule: {logical: \"61 * * * *\"}\n"),
                "backup", "logical");
        assertThat(badCron.code()).isEqualTo(2);
        assertThat(badCron.err()).contains("plugins.backup.schedule.logical").contains("minute").contains("out of range");

        BackupFixture.CliResult noTools = fx.cli(fx.writeConfig("no-tools.yaml", fx.baseYaml + "    database: shop\n    bin_dir: /nonexistent/bin\n"),
                "backup", "logical");
        assertThat(noTools.code()).isEqualTo(2);
        assertThat(noTools.err()).contains("plugins.backup.bin_dir").contains("no executable pg_dump");

        Path aFile = Files.writeString(fx.work.resolve("not-a-dir"), "x");
        String unwritable = fx.baseYaml.replace("repository: " + fx.repository, "repository: " + aFile.resolve("repo"));
        BackupFixture.CliResult badRepo = fx.cli(fx.writeConfig("bad-repo.yaml", unwritable + "    database: shop\n"), "backup", "logical");
        assertThat(badRepo.code()).isEqualTo(2);
        assertThat(badRepo.err()).contains("plugins.backup.repository").contains("not writable");

        // missing tools are found before any directory is made
        Path freshRepo = fx.work.resolve("repo-never-made");
        String fresh = fx.baseYaml.replace("repository: " + fx.repository, "repository: " + freshRepo)
                .replace("offsite: " + fx.offsite, "offsite: " + fx.work.resolve("offsite-never-made"));
        BackupFixture.CliResult noToolsFresh = fx.cli(fx.writeConfig("no-tools-fresh.yaml", fresh + "    database: shop\n    bin_dir: /nonexistent/bin\n"),
                "backup", "physical");
        assertThat(noToolsFresh.code()).isEqualTo(2);
        assertThat(noToolsFresh.err()).contains("no executable pg_dump");
        assertThat(freshRepo).doesNotExist();
        assertThat(fx.work.resolve("offsite-never-made")).doesNotExist();

        Path shortKey = Files.writeString(fx.work.resolve("short.key"), "00112233");
        BackupFixture.CliResult badKey = fx.cli(fx.writeConfig("short-key.yaml", fresh + "    database: shop\n    encryption: {key_file: " + shortKey + "}\n"),
                "backup", "logical");
        assertThat(badKey.code()).isEqualTo(2);
        assertThat(badKey.err()).contains("does not hold a 256-bit key").contains("openssl rand -hex 32").doesNotContain("00112233");
        assertThat(freshRepo).doesNotExist();

        BackupFixture.CliResult noKey = fx.cli(fx.writeConfig("no-key.yaml", fx.baseYaml + "    database: shop\n    encryption: {key_env: NEURONDB_TEST_NO_SUCH_KEY}\n"),
                "backup", "logical");
        assertThat(noKey.code()).isEqualTo(2);
        assertThat(noKey.err()).contains("NEURONDB_TEST_NO_SUCH_KEY").contains("is not set");

        backupNow("logical");
        BackupFixture.CliResult existingDb = fx.cli("restore", "logical", "--database", "shop");
        assertThat(existingDb.code()).isEqualTo(2);
        assertThat(existingDb.err()).contains("database \"shop\" already exists");

        Path nonEmpty = Files.createDirectories(fx.work.resolve("pgdata-existing"));
        Files.writeString(nonEmpty.resolve("PG_VERSION"), "15\n");
        BackupFixture.CliResult existingDir = fx.cli("restore", "physical", "--target-dir", nonEmpty.toString());
        assertThat(existingDir.code()).isEqualTo(2);
        assertThat(existingDir.err()).contains("already exists and is not empty");
        assertThat(nonEmpty.resolve("PG_VERSION")).hasContent("15\n");

        BackupFixture.CliResult list = fx.cli("backups", "list");
        assertThat(list.code()).as(list.err()).isZero();
        assertThat(list.out()).contains("dir:" + fx.repository).contains("dir:" + fx.offsite).contains("logical");
    }

    @Test
    void schemaOnlyAndSelectedTableDumpsRestoreWhatTheySay() throws Exception {
        String ownRepo = fx.baseYaml.replace("repository: " + fx.repository, "repository: " + fx.work.resolve("repo-modes"))
                .replace("offsite: " + fx.offsite, "offsite: " + fx.work.resolve("offsite-modes"));
        Path schemaOnly = fx.writeConfig("schema-only.yaml", ownRepo + "    database: shop\n    logical: {mode: schema-only}\n");
        assertThat(fx.cli(schemaOnly, "backup", "logical").code()).isZero();
        BackupFixture.CliResult r1 = fx.cli(schemaOnly, "restore", "logical", "--database", "shop_schema");
        assertThat(r1.code()).as(r1.err()).isZero();
        Path notesOnly = fx.writeConfig("notes-only.yaml", ownRepo + "    database: shop\n    logical: {tables: [public.notes]}\n");
        assertThat(fx.cli(notesOnly, "backup", "logical").code()).isZero();
        BackupFixture.CliResult r2 = fx.cli(notesOnly, "restore", "logical", "--database", "shop_notes");
        assertThat(r2.code()).as(r2.err()).isZero();
        // a data-only dump has no tables to go into a new database: refused, nothing created
        Path dataOnly = fx.writeConfig("data-only.yaml", ownRepo + "    database: shop\n    logical: {mode: data-only}\n");
        assertThat(fx.cli(dataOnly, "backup", "logical").code()).isZero();
        BackupFixture.CliResult r3 = fx.cli(dataOnly, "restore", "logical", "--database", "shop_data");
        assertThat(r3.code()).isEqualTo(2);
        assertThat(r3.err()).contains("is data-only").contains("pg_restore --data-only");
        assertThat(databaseExists("shop_data")).isFalse();
        try (Connection c = fx.direct("shop_schema"); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT (SELECT count(*) FROM items), (SELECT count(*) FROM notes)")) {
                rs.next();
                assertThat(rs.getInt(1)).isZero();
                assertThat(rs.getInt(2)).isZero();
            }
        }
        try (Connection c = fx.direct("shop_notes"); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT count(*), to_regclass('public.items') IS NULL FROM notes")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(7);
                assertThat(rs.getBoolean(2)).isTrue();
            }
        }
        try (Connection c = fx.viaProxy("postgres"); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE shop_schema WITH (FORCE)");
            s.execute("DROP DATABASE shop_notes WITH (FORCE)");
        }
    }

    @Test
    void onlySuperusersMayCallBackupNow() throws Exception {
        try (Connection c = fx.direct("postgres"); Statement s = c.createStatement()) {
            s.execute("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'app') THEN CREATE ROLE app LOGIN PASSWORD 'apppass'; END IF; END $$");
        }
        java.util.Properties p = new java.util.Properties();
        p.setProperty("user", "app");
        p.setProperty("password", "apppass");
        try (Connection c = java.sql.DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + fx.proxyPort + "/postgres", p);
             Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.executeQuery("SELECT neurondb.backup_now('logical')"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
        }
        try (Connection c = fx.viaProxy("postgres"); Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.executeQuery("SELECT neurondb.backup_now('incremental')"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("22023"));
        }
    }
}
