package io.neurondb.tests.backup;

import io.neurondb.backup.config.BackupSettings;
import io.neurondb.backup.run.Retention;
import io.neurondb.backup.store.DirectoryTarget;
import io.neurondb.backup.store.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Retention on a real directory target: what goes, and what must stay. */
class RetentionTest {

    @TempDir
    Path dir;

    private static final Instant NOW = Instant.parse("2026-11-24T08:00:00Z");

    private BackupSettings settings(int keep, int days) {
        return BackupSettings.parse(Map.of("retention", Map.of("keep", keep, "max_age_days", days)), dir, "db", Map.of());
    }

    /** A complete set finished {@code ageDays} ago; physical ones start at the given LSN. */
    private void set(DirectoryTarget t, String kind, long id, int ageDays, String startLsn) throws IOException {
        Path staging = t.newStagingDir("t");
        Manifest m = Manifest.create(id, kind).put("finished_at", NOW.minus(Duration.ofDays(ageDays)).toString());
        if (startLsn != null) {
            m.put("start_lsn", startLsn).put("wal_segment_size", 16L << 20);
        }
        m.write(staging.resolve(Manifest.FILE));
        t.publish(staging, kind + "/2026" + String.format("%04d", 1000 - ageDays) + "T000000Z-" + String.format("%08d", id));
    }

    @Test
    void deletesBeyondCountAndAgeButKeepsTheNewest() throws IOException {
        DirectoryTarget t = new DirectoryTarget(dir.resolve("repo"));
        t.checkWritable();
        for (int i = 1; i <= 5; i++) {
            set(t, "logical", i, 10 - i, null);   // ages 9..5 days
        }
        new Retention(settings(3, 30)).apply(t, NOW);
        assertThat(t.listSets("logical")).hasSize(3).allMatch(n -> n.endsWith("3") || n.endsWith("4") || n.endsWith("5"));

        new Retention(settings(10, 6)).apply(t, NOW);   // 7 days old goes, 6 and 5 stay
        assertThat(t.listSets("logical")).hasSize(2);

        new Retention(settings(10, 1)).apply(t, NOW);   // all too old: the newest (last good) still stays
        assertThat(t.listSets("logical")).hasSize(1).first().asString().endsWith("00000005");
    }

    @Test
    void keepsTheWalTheOldestKeptBaseBackupNeeds() throws IOException {
        DirectoryTarget t = new DirectoryTarget(dir.resolve("repo"));
        t.checkWritable();
        Path wal = Files.createDirectories(dir.resolve("repo/wal"));
        for (String seg : new String[]{"000000010000000000000001", "000000010000000000000002", "000000010000000000000003",
                "000000010000000000000004", "000000010000000000000005.partial", "00000002.history"}) {
            Files.writeString(wal.resolve(seg), "x");
        }
        // no physical backup: no WAL is deletable
        new Retention(settings(1, 30)).apply(t, NOW);
        assertThat(t.listWal()).hasSize(6);

        set(t, "physical", 1, 3, "0/2000028");   // starts in segment 2
        set(t, "physical", 2, 1, "0/4000028");   // starts in segment 4
        new Retention(settings(2, 30)).apply(t, NOW);   // both kept: WAL from segment 2 on stays
        assertThat(t.listWal()).containsExactly("000000010000000000000002", "000000010000000000000003",
                "000000010000000000000004", "000000010000000000000005.partial", "00000002.history");

        new Retention(settings(1, 30)).apply(t, NOW);   // backup 1 goes: WAL before segment 4 goes with it
        assertThat(t.listSets("physical")).hasSize(1);
        assertThat(t.listWal()).containsExactly("000000010000000000000004", "000000010000000000000005.partial", "00000002.history");
    }

    /** Sealed WAL (encryption on) is kept and pruned by the segment it holds, like plain WAL. */
    @Test
    void keepsTheSealedWalTheOldestKeptBaseBackupNeeds() throws IOException {
        DirectoryTarget t = new DirectoryTarget(dir.resolve("repo"));
        t.checkWritable();
        Path wal = Files.createDirectories(dir.resolve("repo/wal"));
        for (String f : new String[]{"000000010000000000000001.enc", "000000010000000000000002.enc", "000000010000000000000003",
                "000000010000000000000004.enc", "000000010000000000000005.partial", "00000002.history.enc"}) {
            Files.writeString(wal.resolve(f), "x");
        }
        set(t, "physical", 1, 3, "0/3000028");   // starts in segment 3
        new Retention(settings(5, 30)).apply(t, NOW);
        assertThat(t.listWal()).containsExactly("000000010000000000000003", "000000010000000000000004.enc",
                "000000010000000000000005.partial", "00000002.history.enc");

        set(t, "physical", 2, 1, "0/5000028");   // starts in segment 5, which is still being written
        new Retention(settings(1, 1)).apply(t, NOW);   // backup 1 too old and beyond the count; backup 2 is the last good one
        assertThat(t.listSets("physical")).hasSize(1).first().asString().endsWith("00000002");
        assertThat(t.listWal()).containsExactly("000000010000000000000005.partial", "00000002.history.enc");
    }
}
