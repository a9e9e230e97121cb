package io.neurondb.backup.run;

import io.neurondb.backup.store.DirectoryTarget;
import io.neurondb.backup.store.FileCipher;
import io.neurondb.backup.store.Manifest;
import io.neurondb.backup.store.Sha256;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Runs one backup of a kind, start to finish: a catalog row (running), the tool into a staging
 * directory under the repository's {@code .incomplete/}, encryption, SHA-256s and the manifest,
 * the copy to the off-host target and the rename into the repository, then the catalog row
 * (succeeded or failed), the meters, the log and retention. Only one run of a kind at a time;
 * a run that fails leaves nothing that looks complete anywhere.
 */
public final class BackupRunner {

    private static final Logger log = LoggerFactory.getLogger(BackupRunner.class);
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

    private final BackupSystem sys;
    /** Kind → id of the run in progress (0 while the run has no catalog row yet). */
    private final Map<String, AtomicLong> running = new ConcurrentHashMap<>();

    public BackupRunner(BackupSystem sys) {
        this.sys = sys;
    }

    /** What a finished run produced. */
    public record Result(long id, String kind, String location, long bytes, String sha256, Manifest manifest) {
    }

    /** Another run of the same kind is in progress. */
    public static final class BusyException extends RuntimeException {
        public BusyException(String message) {
            super(message);
        }
    }

    /** The run failed; its catalog row says so. */
    public static final class FailedException extends RuntimeException {
        public FailedException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * @param kind logical or physical
     * @throws BusyException   when a run of the kind is in progress (nothing was done)
     * @throws FailedException when the run failed (recorded as failed)
     */
    public Result run(String kind) {
        if (!kind.equals("logical") && !kind.equals("physical")) {
            throw new IllegalArgumentException("unknown backup kind '" + kind + "'; use logical or physical");
        }
        AtomicLong mine = new AtomicLong();
        AtomicLong other = running.putIfAbsent(kind, mine);
        if (other != null) {
            throw new BusyException("a " + kind + " backup is already running" + (other.get() > 0 ? " (id " + other.get() + ")" : "")
                    + "; wait for it to finish");
        }
        try {
            return runAlone(kind, mine);
        } finally {
            running.remove(kind, mine);
        }
    }

    private Result runAlone(String kind, AtomicLong idHolder) {
        Instant started = Instant.now();
        long id = sys.catalog().begin(kind);
        idHolder.set(id);
        log.info("event=backup_started id={} kind={} database={}", id, kind, sys.settings().database());
        Path staging = null;
        try {
            staging = sys.repository().newStagingDir(kind + "-" + id);
            Manifest manifest = Manifest.create(id, kind).put("started_at", started.toString())
                    .put("database", sys.settings().database());
            Duration timeout = sys.settings().timeout();
            if (kind.equals("logical")) {
                new LogicalBackup(sys).run(staging, manifest, timeout);
            } else {
                new PhysicalBackup(sys).run(staging, manifest, remaining(started, timeout), id);
            }
            sealFiles(staging, manifest);
            manifest.put("finished_at", Instant.now().toString());
            manifest.write(staging.resolve(Manifest.FILE));
            String name = kind + "/" + STAMP.format(started) + "-" + String.format("%08d", id);
            if (sys.offsite() != null) {
                try {
                    sys.offsite().storeSet(name, staging);
                } catch (IOException | RuntimeException e) {
                    throw new IOException("the copy to the off-host target " + sys.offsite().describe() + " failed ("
                            + e.getClass().getSimpleName() + ": " + e.getMessage() + "); the backup was kept nowhere", e);
                }
            }
            try {
                sys.repository().publish(staging, name);
            } catch (IOException | RuntimeException e) {
                if (sys.offsite() != null) {
                    sys.offsite().deleteSet(name);
                }
                throw e;
            }
            staging = null;
            Path location = sys.repository().root().resolve(name);
            String digest = manifestDigest(location);
            sys.catalog().succeeded(id, location.toString(), manifest.totalBytes(), digest, manifest.string("start_lsn"),
                    manifest.string("end_lsn"), indexLsns(manifest).encode());
            Duration took = Duration.between(started, Instant.now());
            sys.metrics().succeeded(kind, took);
            log.info("event=backup_succeeded id={} kind={} location={} bytes={} seconds={} start_lsn={} end_lsn={}", id, kind,
                    location, manifest.totalBytes(), took.toMillis() / 1000.0, manifest.string("start_lsn"), manifest.string("end_lsn"));
            applyRetention();
            return new Result(id, kind, location.toString(), manifest.totalBytes(), digest, manifest);
        } catch (Exception e) {
            DirectoryTarget.deleteTree(staging);
            String error = e.getMessage() == null ? e.toString() : e.getMessage();
            Duration took = Duration.between(started, Instant.now());
            sys.metrics().failed(kind, took);
            log.error("event=backup_failed id={} kind={} seconds={} error=\"{}\"", id, kind, took.toMillis() / 1000.0, error);
            try {
                sys.catalog().failed(id, error);
            } catch (RuntimeException c) {
                log.error("event=backup_catalog_update_failed id={} error=\"{}\"", id, c.getMessage());
            }
            throw new FailedException(kind + " backup " + id + " failed: " + error, e);
        }
    }

    private static Duration remaining(Instant started, Duration timeout) {
        Duration left = timeout.minus(Duration.between(started, Instant.now()));
        return left.isNegative() ? Duration.ofSeconds(1) : left;
    }

    /** Encrypts every file when a key is set, then records each file's size and SHA-256 as stored. */
    private void sealFiles(Path staging, Manifest manifest) throws IOException {
        manifest.put("encrypted", sys.key() != null).put("compression", sys.settings().compression());
        if (sys.key() != null) {
            manifest.put("key_id", sys.key().id()).put("cipher", "AES-256-GCM");
        }
        List<Path> files;
        try (Stream<Path> s = Files.list(staging)) {
            files = s.sorted().toList();
        }
        for (Path f : files) {
            Path stored = f;
            if (sys.key() != null) {
                stored = f.resolveSibling(f.getFileName() + ".enc");
                FileCipher.encrypt(f, stored, sys.key());
                Files.delete(f);
            }
            manifest.addFile(stored.getFileName().toString(), Files.size(stored), Sha256.of(stored));
        }
    }

    /** The catalog's sha256: of the manifest, which holds every file's own SHA-256. */
    private static String manifestDigest(Path location) throws IOException {
        return Sha256.of(location.resolve(Manifest.FILE));
    }

    /**
     * The LSN each vector index's rows and definition are as of: a dump's snapshot (its start
     * LSN), a base backup's consistency point (its end LSN). After a restore the engine
     * rebuilds from the tables as of there.
     */
    private static JsonObject indexLsns(Manifest m) {
        String lsn = "logical".equals(m.kind()) ? m.string("start_lsn") : m.string("end_lsn");
        JsonObject out = new JsonObject();
        JsonArray indexes = m.json().getJsonArray("indexes", new JsonArray());
        for (Object o : indexes) {
            JsonObject i = (JsonObject) o;
            out.put(i.getString("schema") + "." + i.getString("name"), lsn);
        }
        return out;
    }

    public void applyRetention() {
        Retention retention = new Retention(sys.settings());
        for (var target : sys.targets()) {
            try {
                retention.apply(target, Instant.now());
            } catch (IOException | RuntimeException e) {
                log.error("event=retention_failed target={} error=\"{}\"", target.describe(), e.getMessage());
            }
        }
    }
}
