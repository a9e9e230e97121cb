package io.neurondb.backup.run;

import io.neurondb.backup.pg.Pg;
import io.neurondb.backup.pg.ToolRun;
import io.neurondb.backup.store.BackupKey;
import io.neurondb.backup.store.DirectoryTarget;
import io.neurondb.backup.store.FileCipher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Continuous WAL archiving without touching the server's {@code archive_command}: a
 * {@code pg_receivewal} process streams WAL into {@code <repository>/wal} from a dedicated
 * physical replication slot (created on first start, so the server keeps WAL the archive has not
 * received yet). Inside the proxy a watcher checks every second: it restarts pg_receivewal when
 * it has exited (with a growing pause when it keeps exiting) and, when backups are encrypted,
 * seals every finished segment and history file into {@code <name>.enc} (AES-256-GCM) and
 * removes the plain file. Only the segment pg_receivewal is still writing ({@code .partial}) is
 * ever plain on disk. A restarted pg_receivewal finds where to go on from its {@code .partial}
 * file or, when every finished file is sealed, from the slot's restart LSN (PostgreSQL 15 tools),
 * so killing it loses no WAL. The hourly {@code wal} job copies finished files off-host.
 */
public final class WalArchiver {

    private static final Logger log = LoggerFactory.getLogger(WalArchiver.class);
    private static final Duration WATCH_INTERVAL = Duration.ofSeconds(1);
    private static final Duration FIRST_RESTART_PAUSE = Duration.ofSeconds(2);
    private static final Duration LONGEST_RESTART_PAUSE = Duration.ofMinutes(5);
    /** A receiver that ran this long before exiting was healthy: the next restart pause starts small again. */
    private static final Duration HEALTHY_RUN = Duration.ofMinutes(1);

    private final BackupSystem sys;
    /** Sealing and shipping work on the same files: one at a time. */
    private final Object files = new Object();
    private Process process;
    private Instant startedAt;
    private Instant exitedAt;
    private Duration restartPause = FIRST_RESTART_PAUSE;
    private Thread watcher;
    private volatile boolean stopping;
    private volatile String lastWatchError;

    public WalArchiver(BackupSystem sys) {
        this.sys = sys;
    }

    public Path walDir() {
        return sys.repository().root().resolve("wal");
    }

    /** Creates the slot if missing and starts pg_receivewal if it is not running; starts the watcher. */
    public synchronized void ensureRunning() throws IOException {
        startWatcher();
        if (process != null && process.isAlive()) {
            return;
        }
        if (process != null) {
            log.warn("event=wal_receiver_exited exit_code={}; restarting", process.exitValue());
        }
        String slot = sys.settings().walSlot();
        try (Pg pg = sys.connect(sys.settings().database())) {
            if (pg.value("SELECT slot_name::text FROM pg_replication_slots WHERE slot_name = $1", slot) == null) {
                pg.query("SELECT pg_create_physical_replication_slot($1, true)", slot);
                log.info("event=wal_slot_created slot={}", slot);
            }
        }
        Files.createDirectories(walDir());
        ProcessBuilder pb = new ProcessBuilder(sys.tools().program("pg_receivewal"),
                "-h", sys.upstream().host(), "-p", String.valueOf(sys.upstream().port()), "-U", sys.upstream().user(),
                "-D", walDir().toString(), "-S", slot, "--no-password", "-v").redirectErrorStream(true);
        ToolRun.loginEnvironment(pb.environment(), sys.upstream());
        Process p = pb.start();
        Thread.ofVirtual().name("neurondb-backup-pg_receivewal").start(() -> drain(p));
        process = p;
        startedAt = Instant.now();
        exitedAt = null;
        log.info("event=wal_receiver_started pid={} dir={} slot={}", p.pid(), walDir(), slot);
    }

    public synchronized boolean running() {
        return process != null && process.isAlive();
    }

    /**
     * Starts the once-a-second watcher (idempotent): {@link #ensureRunning()} does; with
     * {@code wal.enabled} off it still seals what an {@code archive_command} puts into the WAL directory.
     */
    public synchronized void startWatcher() {
        if (watcher != null || stopping) {
            return;
        }
        watcher = Thread.ofVirtual().name("neurondb-backup-wal-watcher").start(this::watch);
    }

    private void watch() {
        while (!stopping) {
            try {
                Thread.sleep(WATCH_INTERVAL);
                seal();
                restartIfExited();
                lastWatchError = null;
            } catch (InterruptedException e) {
                return;
            } catch (Exception e) {
                String error = e.getMessage() == null ? e.toString() : e.getMessage();
                if (!error.equals(lastWatchError)) {   // once per distinct problem, not every second
                    log.error("event=wal_watch_failed error=\"{}\"", error);
                }
                lastWatchError = error;
            }
        }
    }

    private synchronized void restartIfExited() throws IOException {
        if (stopping || process == null || process.isAlive()) {
            return;
        }
        Instant now = Instant.now();
        if (exitedAt == null) {
            exitedAt = now;
            boolean healthy = Duration.between(startedAt, now).compareTo(HEALTHY_RUN) >= 0;
            restartPause = healthy ? FIRST_RESTART_PAUSE : min(restartPause.multipliedBy(2), LONGEST_RESTART_PAUSE);
            log.warn("event=wal_receiver_exited exit_code={} restart_in_seconds={}", process.exitValue(), restartPause.toSeconds());
            return;
        }
        if (Duration.between(exitedAt, now).compareTo(restartPause) >= 0) {
            // should the start fail (server unreachable), the next try waits a longer pause
            exitedAt = now;
            restartPause = min(restartPause.multipliedBy(2), LONGEST_RESTART_PAUSE);
            ensureRunning();
        }
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    /**
     * Encrypts every finished segment and history file in the WAL directory into
     * {@code <name>.enc} and deletes the plain file; nothing when backups are not encrypted.
     * The sealed file is written under {@code .incomplete/}, flushed to disk and renamed into
     * place before the plain one goes, so a crash leaves one or the other complete.
     *
     * @return files sealed
     */
    public int seal() throws IOException {
        BackupKey key = sys.key();
        if (key == null || !Files.isDirectory(walDir())) {
            return 0;
        }
        synchronized (files) {
            int sealed = 0;
            List<Path> plain;
            try (Stream<Path> s = Files.list(walDir())) {
                plain = s.filter(f -> WalNames.isSegment(f.getFileName().toString()) || WalNames.isHistory(f.getFileName().toString()))
                        .sorted().toList();
            }
            for (Path f : plain) {
                Path target = f.resolveSibling(f.getFileName() + WalNames.SEALED);
                if (!Files.exists(target)) {
                    Path tmp = sys.repository().root().resolve(DirectoryTarget.INCOMPLETE)
                            .resolve(f.getFileName() + "-" + UUID.randomUUID() + WalNames.SEALED);
                    Files.createDirectories(tmp.getParent());
                    try {
                        FileCipher.encrypt(f, tmp, key);
                        force(tmp);
                        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
                        force(walDir());
                    } catch (NoSuchFileException gone) {
                        continue;   // sealed and removed meanwhile by another process (the CLI's wal job)
                    } finally {
                        Files.deleteIfExists(tmp);
                    }
                }
                // pg_receivewal may write a segment again after a restart: the sealed copy holds the same WAL
                Files.deleteIfExists(f);
                sealed++;
            }
            if (sealed > 0) {
                log.info("event=wal_sealed files={} dir={}", sealed, walDir());
                // A retention pass of another process (the CLI's backup) can run while a segment it
                // would delete is being sealed here, and the sealed copy outlives it: prune again.
                new Retention(sys.settings()).pruneWal(sys.repository());
            }
            return sealed;
        }
    }

    private static void force(Path p) {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // best effort (some file systems refuse fsync on a directory)
        }
    }

    /** Seals what is finished, then copies finished segments and timeline histories to the off-host target. */
    public int ship() throws IOException {
        seal();
        if (sys.offsite() == null || !Files.isDirectory(walDir())) {
            return 0;
        }
        synchronized (files) {
            int shipped = 0;
            List<String> there = sys.offsite().listWal();
            try (Stream<Path> listed = Files.list(walDir())) {
                for (Path f : listed.sorted().toList()) {
                    String name = f.getFileName().toString();
                    // with a key only sealed files leave: a segment finished since seal() waits for the next round
                    boolean shippable = WalNames.isArchived(name) && (sys.key() == null || WalNames.isSealed(name));
                    if (shippable && !there.contains(name)) {
                        sys.offsite().storeWal(f);
                        shipped++;
                    }
                }
            }
            return shipped;
        }
    }

    public void stop() {
        Thread w;
        synchronized (this) {
            stopping = true;
            w = watcher;
        }
        if (w != null) {
            w.interrupt();
        }
        synchronized (this) {
            if (process == null) {
                return;
            }
            // SIGTERM: pg_receivewal flushes what it has and exits
            process.destroy();
            try {
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
            log.info("event=wal_receiver_stopped");
            process = null;
        }
    }

    private static void drain(Process p) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                log.debug("event=wal_receiver_output line=\"{}\"", line);
            }
        } catch (IOException e) {
            // process ended
        }
    }
}
