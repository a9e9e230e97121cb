package io.neurondb.backup.run;

import io.neurondb.backup.config.BackupSettings;
import io.neurondb.backup.store.BackupTarget;
import io.neurondb.backup.store.Manifest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Deletes old backups from every target: a set goes when it is not among the newest
 * {@code keep} of its kind or is older than {@code max_age_days}, but the newest set of a kind
 * (the last good backup: only complete sets are listed) always stays. WAL goes only when it is
 * older than the start of the oldest physical backup still kept; without a physical backup none
 * is deleted. Sealed ({@code .enc}) segments count as the segments they hold; {@code .partial}
 * and {@code .history} files always stay.
 */
public final class Retention {

    private static final Logger log = LoggerFactory.getLogger(Retention.class);

    private final BackupSettings settings;

    public Retention(BackupSettings settings) {
        this.settings = settings;
    }

    /** @return names of the sets deleted */
    public List<String> apply(BackupTarget target, Instant now) throws IOException {
        List<String> deleted = new ArrayList<>();
        for (String kind : List.of("logical", "physical")) {
            List<String> sets = target.listSets(kind);
            for (int i = 0; i < sets.size() - 1; i++) {
                String name = sets.get(i);
                boolean beyondCount = i < sets.size() - settings.keepCount();
                Instant finished = finishedAt(target, name);
                boolean tooOld = finished != null && Duration.between(finished, now).compareTo(settings.maxAge()) > 0;
                if (beyondCount || tooOld) {
                    target.deleteSet(name);
                    deleted.add(name);
                    log.info("event=backup_deleted target={} name={} reason={}", target.describe(), name, beyondCount ? "count" : "age");
                }
            }
        }
        pruneWal(target);
        return deleted;
    }

    /** Deletes archived WAL older than the start of the oldest kept base backup (nothing without one). */
    void pruneWal(BackupTarget target) throws IOException {
        List<String> physical = target.listSets("physical");
        if (physical.isEmpty()) {
            return;
        }
        Manifest oldest = Manifest.read(target.fetch(physical.getFirst(), Manifest.FILE));
        String startLsn = oldest.string("start_lsn");
        if (startLsn == null) {
            return;
        }
        long segSize = oldest.json().getLong("wal_segment_size", 16L << 20);
        String keepFrom = WalNames.segmentPosition(WalNames.parseLsn(startLsn), segSize);
        int n = 0;
        for (String f : target.listWal()) {
            String base = WalNames.plainName(f);   // sealed (.enc) or plain; .partial and .history never match
            if (WalNames.isSegment(base) && WalNames.position(base).compareTo(keepFrom) < 0) {
                target.deleteWal(f);
                n++;
            }
        }
        if (n > 0) {
            log.info("event=wal_pruned target={} segments={} kept_from={}", target.describe(), n, keepFrom);
        }
    }

    private static Instant finishedAt(BackupTarget target, String name) {
        try {
            Path m = target.fetch(name, Manifest.FILE);
            String at = Manifest.read(m).string("finished_at");
            return at != null ? Instant.parse(at) : Files.getLastModifiedTime(m).toInstant();
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
