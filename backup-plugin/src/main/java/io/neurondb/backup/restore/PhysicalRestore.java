package io.neurondb.backup.restore;

import io.neurondb.backup.pg.ToolRun;
import io.neurondb.backup.run.BackupSystem;
import io.neurondb.backup.run.WalNames;
import io.neurondb.backup.store.BackupTarget;
import io.neurondb.backup.store.DirectoryTarget;
import io.neurondb.backup.store.FileCipher;
import io.neurondb.backup.store.Manifest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Point-in-time restore into a new data directory: the base backup's tars unpacked, the archived
 * WAL from the base backup's start onwards copied into {@code neurondb_restore_wal/} inside it
 * (sealed segments decrypted; the newest segment from pg_receivewal's {@code .partial} file),
 * and {@code recovery.signal}
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

        boolean existedEmpty = Files.isDirectory(dataDir);
        Path work = sys.repository().newStagingDir("restore");
        boolean created = false;
        try {
            // Everything that can be refused (a damaged or wrongly keyed file, WAL that does not
            // reach the target) is read and checked in the staging directory first: the new data
            // directory is created only once all of it is in hand.
            Path base = set.plainFile("base.tar.gz", sys.key(), work);
            Path walTar = set.plainFile("pg_wal.tar.gz", sys.key(), work);
            Path wal = work.resolve("wal");
            int walFiles = collectArchivedWal(wal, m, source);
            if (lsn != null) {
                checkWalReaches(wal, lsn, m, source, targetLsn);
            }
            log.info("event=restore_started kind=physical backup_id={} data_dir={} target_lsn={} target_time={}", m.id(), dataDir,
                    targetLsn, targetTime);
            Files.createDirectories(dataDir);
            created = true;
            Duration timeout = sys.settings().timeout();
            ToolRun.run(List.of("tar", "-xzf", base.toString(), "-C", dataDir.toString()), null, timeout, work);
            Files.createDirectories(dataDir.resolve("pg_wal"));
            ToolRun.run(List.of("tar", "-xzf", walTar.toString(), "-C", dataDir.resolve("pg_wal").toString()), null, timeout, work);
            Path restoreWal = Files.createDirectories(dataDir.resolve(WAL_DIR));
            try (Stream<Path> files = Files.list(wal)) {
                for (Path f : files.toList()) {
                    Files.move(f, restoreWal.resolve(f.getFileName().toString()));
                }
            }
            writeRecoverySettings(dataDir, targetLsn, time);
            handToServerUser(dataDir);
            String target = lsn != null ? "lsn " + targetLsn : time != null ? "time " + recoveryTime(time) : "end of archived WAL";
            log.info("event=restore_prepared kind=physical backup_id={} data_dir={} target=\"{}\" wal_files={}", m.id(), dataDir, target, walFiles);
            return new Outcome(m.id(), set.name(), dataDir, target, walFiles);
        } catch (IOException | RuntimeException e) {
            if (created) {
                DirectoryTarget.deleteTree(dataDir);
                if (existedEmpty) {
                    try {
                        Files.createDirectories(dataDir);   // the operator's empty directory, as it was
                    } catch (IOException again) {
                        e.addSuppressed(again);
                    }
                }
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

    /**
     * Copies the archived WAL from the base backup's start segment on into {@code into}, under
     * the names PostgreSQL asks for: sealed ({@code .enc}) files decrypted, and the newest, still
     * open segment from its {@code .partial} file when it has no finished copy.
     *
     * @throws IllegalArgumentException when a sealed file fails its integrity check or no key is set
     */
    private int collectArchivedWal(Path into, Manifest m, BackupTarget source) throws IOException {
        Files.createDirectories(into);
        long segSize = m.json().getLong("wal_segment_size", 16L << 20);
        String from = m.string("start_lsn") == null ? "" : WalNames.segmentPosition(WalNames.parseLsn(m.string("start_lsn")), segSize);
        List<String> names = source.listWal();
        Set<String> finished = new HashSet<>();
        for (String name : names) {
            if (WalNames.isSegment(WalNames.plainName(name))) {
                finished.add(WalNames.plainName(name));
            }
        }
        int n = 0;
        for (String name : names) {
            String plain = WalNames.plainName(name);
            String dest;
            if (WalNames.isHistory(plain)) {
                dest = plain;
            } else if (WalNames.isSegment(plain) && WalNames.position(plain).compareTo(from) >= 0) {
                dest = plain;
            } else if (WalNames.isPartial(name) && WalNames.position(plain).compareTo(from) >= 0
                    && !finished.contains(plain.substring(0, 24))) {
                dest = plain.substring(0, 24);
            } else {
                continue;
            }
            Path out = into.resolve(dest);
            if (Files.exists(out)) {
                continue;   // the plain and the sealed copy of the same file
            }
            Path file = source.fetchWal(name);
            if (WalNames.isSealed(name)) {
                if (sys.key() == null) {
                    throw new IllegalArgumentException("archived WAL file " + name + " in " + source.describe() + " is encrypted;"
                            + " set plugins.backup.encryption.key_file or key_env to the key it was sealed with");
                }
                try {
                    FileCipher.decrypt(file, out, sys.key());
                } catch (IOException e) {
                    Files.deleteIfExists(out);
                    throw new IllegalArgumentException("archived WAL in " + source.describe() + ": " + e.getMessage()
                            + "; nothing was restored: restore from the other copy (--from offsite or --from repository)"
                            + " or choose a target before this segment");
                }
            } else {
                Files.copy(file, out);
            }
            n++;
        }
        return n;
    }

    /** Refuses a target LSN the archived WAL does not reach: recovery would stop short of it. */
    private static void checkWalReaches(Path wal, long lsn, Manifest m, BackupTarget source, String targetLsn) throws IOException {
        long segSize = m.json().getLong("wal_segment_size", 16L << 20);
        String needed = WalNames.segmentPosition(lsn, segSize);
        String last = "";
        try (Stream<Path> s = Files.list(wal)) {
            for (Path f : s.toList()) {
                String name = f.getFileName().toString();
                if (WalNames.isSegment(name) && WalNames.position(name).compareTo(last) > 0) {
                    last = WalNames.position(name);
                }
            }
        }
        if (last.compareTo(needed) < 0) {
            throw new IllegalArgumentException("the archived WAL in " + source.describe() + " does not reach the target LSN " + targetLsn
                    + (last.isEmpty() ? " (no WAL after the backup's start)" : " (it ends in segment " + last + ")")
                    + "; wait for WAL archiving to catch up (neurondb-proxy backup wal copies it off-host) or choose an earlier target");
        }
    }

    private static void writeRecoverySettings(Path dataDir, String targetLsn, OffsetDateTime time) throws IOException {
        Files.writeString(dataDir.resolve("recovery.signal"), "");
        StringBuilder conf = new StringBuilder("\n# written by neurondb-proxy restore physical\n");
        conf.append("restore_command = 'cp \"").append(escape(dataDir.resolve(WAL_DIR).toString())).append("/%f\" \"%p\"'\n");
        if (targetLsn != null) {
            conf.append("recovery_target_lsn = '").append(escape(targetLsn)).append("'\n");
        } else if (time != null) {
            conf.append("recovery_target_time = '").append(escape(recoveryTime(time))).append("'\n");
        }
        conf.append("recovery_target_action = 'promote'\n");
        Files.writeString(dataDir.resolve("postgresql.auto.conf"), conf.toString(), StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    /** A numeric UTC offset, never a zone abbreviation: PostgreSQL reads those only with its abbreviation tables. */
    private static final DateTimeFormatter RECOVERY_TIME = DateTimeFormatter.ofPattern("uuuu-MM-dd HH:mm:ss.SSSSSSxxx");

    static String recoveryTime(OffsetDateTime time) {
        return RECOVERY_TIME.format(time);
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
