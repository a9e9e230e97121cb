package io.neurondb.backup.restore;

import io.neurondb.backup.pg.ToolRun;
import io.neurondb.backup.run.BackupSystem;
import io.neurondb.backup.run.WalNames;
import io.neurondb.backup.store.BackupTarget;
import io.neurondb.backup.store.DirectoryTarget;
import io.neurondb.backup.store.Manifest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Point-in-time restore into a new data directory: the base backup's tars unpacked, the archived
 * WAL from the base backup's start onwards copied into {@code neurondb_restore_wal/} inside it
 * (the newest segment from pg_receivewal's {@code .partial} file), and {@code recovery.signal}
 * with {@code restore_command} and {@code recovery_target_lsn} or {@code recovery_target_time}
 * (action promote). Starting the server then replays to the target and opens read-write on a
 * new timeline. The directory is self-contained: it needs neither the repository nor the key.
 */
public final class PhysicalRestore {

    private static final Logger log = LoggerFactory.getLogger(PhysicalRestore.class);
    public static final String WAL_DIR = "neurondb_restore_wal";

    private final BackupSystem sys;

    public PhysicalRestore(BackupSystem sys) {
        this.sys = sys;
    }

    public record Outcome(long backupId, String backupName, Path dataDir, String target, int walFiles) {
    }

    /**
     * @param backupId   id, "latest", or null: the newest backup that ends before the target
     * @param targetLsn  recovery_target_lsn, or null
     * @param targetTime recovery_target_time (ISO-8601 with offset), or null
     */
    public Outcome restore(String backupId, String from, Path dataDir, String targetLsn, String targetTime) throws IOException {
        if (dataDir == null) {
            throw new IllegalArgumentException("name the new data directory: --target-dir DIR");
        }
        if (targetLsn != null && targetTime != null) {
            throw new IllegalArgumentException("give --target-lsn or --target-time, not both");
        }
        dataDir = dataDir.toAbsolutePath();
        if (Files.exists(dataDir) && (!Files.isDirectory(dataDir) || !isEmpty(dataDir))) {
            throw new IllegalArgumentException("restore target " + dataDir + " already exists and is not empty; choose a new directory"
                    + " (a restore never overwrites a data directory)");
        }
        Long lsn = targetLsn == null ? null : WalNames.parseLsn(targetLsn);
        OffsetDateTime time = null;
        if (targetTime != null) {
            try {
                time = OffsetDateTime.parse(targetTime);
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException("--target-time '" + targetTime + "' is not a time with offset, e.g. 2026-11-24T08:15:00Z");
            }
        }
        BackupTarget source = BackupSet.source(sys, from);
        BackupSet set = backupId != null ? BackupSet.find(source, "physical", backupId) : chooseBackup(source, lsn, time);
        Manifest m = set.manifest();
        if (lsn != null && m.string("end_lsn") != null && Long.compareUnsigned(lsn, WalNames.parseLsn(m.string("end_lsn"))) < 0) {
            throw new IllegalArgumentException("backup " + m.id() + " ends at LSN " + m.string("end_lsn") + ", after the target "
                    + targetLsn + "; choose an older backup (--backup) or a later target");
        }
        set.checkKey(sys.key());
        set.checkFiles();

        Path work = sys.repository().newStagingDir("restore");
        boolean created = false;
        try {
            Path base = set.plainFile("base.tar.gz", sys.key(), work);
            Path walTar = set.plainFile("pg_wal.tar.gz", sys.key(), work);
            log.info("event=restore_started kind=physical backup_id={} data_dir={} target_lsn={} target_time={}", m.id(), dataDir,
                    targetLsn, targetTime);
            Files.createDirectories(dataDir);
            created = true;
            Duration timeout = sys.settings().timeout();
            ToolRun.run(List.of("tar", "-xzf", base.toString(), "-C", dataDir.toString()), null, timeout, work);
            Files.createDirectories(dataDir.resolve("pg_wal"));
            ToolRun.run(List.of("tar", "-xzf", walTar.toString(), "-C", dataDir.resolve("pg_wal").toString()), null, timeout, work);
            int walFiles = copyArchivedWal(dataDir.resolve(WAL_DIR), m, source);
            writeRecoverySettings(dataDir, targetLsn, time);
            handToServerUser(dataDir);
            String target = lsn != null ? "lsn " + targetLsn : time != null ? "time " + time : "end of archived WAL";
            log.info("event=restore_prepared kind=physical backup_id={} data_dir={} target=\"{}\" wal_files={}", m.id(), dataDir, target, walFiles);
            return new Outcome(m.id(), set.name(), dataDir, target, walFiles);
        } catch (IOException | RuntimeException e) {
            if (created) {
                DirectoryTarget.deleteTree(dataDir);
            }
            throw e;
        } finally {
            DirectoryTarget.deleteTree(work);
        }
    }

    private BackupSet chooseBackup(BackupTarget source, Long lsn, OffsetDateTime time) throws IOException {
        List<String> sets = source.listSets("physical");
        for (int i = sets.size() - 1; i >= 0; i--) {
            Manifest m = Manifest.read(source.fetch(sets.get(i), Manifest.FILE));
            boolean fits = true;
            if (lsn != null && m.string("end_lsn") != null) {
                fits = Long.compareUnsigned(WalNames.parseLsn(m.string("end_lsn")), lsn) <= 0;
            } else if (time != null && m.string("finished_at") != null) {
                fits = !java.time.Instant.parse(m.string("finished_at")).isAfter(time.toInstant());
            }
            if (fits) {
                return new BackupSet(source, sets.get(i), m);
            }
        }
        if (sets.isEmpty()) {
            return BackupSet.find(source, "physical", "latest");
        }
        throw new IllegalArgumentException("every physical backup in " + source.describe() + " ends after the target;"
                + " there is none to start recovery from");
    }

    /** WAL from the base backup's start segment on; the newest, still open segment from its .partial file. */
    private int copyArchivedWal(Path into, Manifest m, BackupTarget source) throws IOException {
        Files.createDirectories(into);
        Path walDir = source == sys.repository() ? sys.repository().root().resolve("wal")
                : ((DirectoryTarget) source).root().resolve("wal");
        if (!Files.isDirectory(walDir)) {
            return 0;
        }
        long segSize = m.json().getLong("wal_segment_size", 16L << 20);
        String from = m.string("start_lsn") == null ? "" : WalNames.segmentPosition(WalNames.parseLsn(m.string("start_lsn")), segSize);
        List<Path> files;
        try (Stream<Path> s = Files.list(walDir)) {
            files = new ArrayList<>(s.sorted().toList());
        }
        int n = 0;
        for (Path f : files) {
            String name = f.getFileName().toString();
            if (WalNames.isHistory(name)) {
                Files.copy(f, into.resolve(name));
                n++;
            } else if (WalNames.isSegment(name) && WalNames.position(name).compareTo(from) >= 0) {
                Files.copy(f, into.resolve(name));
                n++;
            } else if (WalNames.isPartial(name)) {
                String full = name.substring(0, 24);
                if (WalNames.position(full).compareTo(from) >= 0 && !Files.exists(walDir.resolve(full))) {
                    Files.copy(f, into.resolve(full), StandardCopyOption.REPLACE_EXISTING);
                    n++;
                }
            }
        }
        return n;
    }

    private static void writeRecoverySettings(Path dataDir, String targetLsn, OffsetDateTime time) throws IOException {
        Files.writeString(dataDir.resolve("recovery.signal"), "");
        StringBuilder conf = new StringBuilder("\n# written by neurondb-proxy restore physical\n");
        conf.append("restore_command = 'cp \"").append(escape(dataDir.resolve(WAL_DIR).toString())).append("/%f\" \"%p\"'\n");
        if (targetLsn != null) {
            conf.append("recovery_target_lsn = '").append(escape(targetLsn)).append("'\n");
        } else if (time != null) {
            conf.append("recovery_target_time = '").append(escape(time.toString())).append("'\n");
        }
        conf.append("recovery_target_action = 'promote'\n");
        Files.writeString(dataDir.resolve("postgresql.auto.conf"), conf.toString(), StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    private static String escape(String s) {
        return s.replace("'", "''");
    }

    /** PostgreSQL refuses a data directory others can read, and as root the server runs as the postgres OS user. */
    private static void handToServerUser(Path dataDir) throws IOException {
        Files.setPosixFilePermissions(dataDir, PosixFilePermissions.fromString("rwx------"));
        if ("root".equals(System.getProperty("user.name"))) {
            try {
                ToolRun.run(List.of("chown", "-R", "postgres:postgres", dataDir.toString()), null, Duration.ofMinutes(10), null);
            } catch (IOException e) {
                log.warn("event=restore_chown_skipped data_dir={} error=\"{}\"", dataDir, e.getMessage());
            }
        }
    }

    private static boolean isEmpty(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        }
    }
}
