package io.neurondb.backup.run;

import io.neurondb.backup.pg.Pg;
import io.neurondb.backup.pg.ToolRun;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Continuous WAL archiving without touching the server's {@code archive_command}: a
 * {@code pg_receivewal} process streams WAL into {@code <repository>/wal} from a dedicated
 * physical replication slot (created on first start, so the server keeps WAL the archive has not
 * received yet). The hourly {@code wal} job restarts it if it died and copies finished segments
 * to the off-host target.
 */
public final class WalArchiver {

    private static final Logger log = LoggerFactory.getLogger(WalArchiver.class);

    private final BackupSystem sys;
    private Process process;

    public WalArchiver(BackupSystem sys) {
        this.sys = sys;
    }

    public Path walDir() {
        return sys.repository().root().resolve("wal");
    }

    /** Creates the slot if missing and starts pg_receivewal if it is not running. */
    public synchronized void ensureRunning() throws IOException {
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
        log.info("event=wal_receiver_started pid={} dir={} slot={}", p.pid(), walDir(), slot);
    }

    public synchronized boolean running() {
        return process != null && process.isAlive();
    }

    /** Copies finished segments and timeline histories to the off-host target. */
    public int ship() throws IOException {
        if (sys.offsite() == null || !Files.isDirectory(walDir())) {
            return 0;
        }
        int shipped = 0;
        List<String> there = sys.offsite().listWal();
        try (Stream<Path> files = Files.list(walDir())) {
            for (Path f : files.sorted().toList()) {
                String name = f.getFileName().toString();
                if ((WalNames.isSegment(name) || WalNames.isHistory(name)) && !there.contains(name)) {
                    sys.offsite().storeWal(f);
                    shipped++;
                }
            }
        }
        return shipped;
    }

    public synchronized void stop() {
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
