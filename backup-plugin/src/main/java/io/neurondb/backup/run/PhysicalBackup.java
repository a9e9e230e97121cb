package io.neurondb.backup.run;

import io.neurondb.backup.pg.Pg;
import io.neurondb.backup.pg.ToolRun;
import io.neurondb.backup.store.Manifest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * {@code pg_basebackup -Ft -z -X stream} of the whole cluster into a staging directory:
 * {@code base.tar.gz}, {@code pg_wal.tar.gz} (the WAL the backup needs to be consistent) and
 * PostgreSQL's own {@code backup_manifest}, whose WAL range gives the start and end LSN.
 */
final class PhysicalBackup {

    private final BackupSystem sys;

    PhysicalBackup(BackupSystem sys) {
        this.sys = sys;
    }

    void run(Path staging, Manifest manifest, Duration timeout, long id) throws IOException {
        try (Pg pg = sys.connect(sys.settings().database())) {
            manifest.put("server_version_num", Integer.parseInt(pg.value("SHOW server_version_num")))
                    .put("system_identifier", pg.value("SELECT system_identifier::text FROM pg_control_system()"))
                    .put("wal_segment_size", walSegmentSize(pg));
        }
        int level = Math.max(1, sys.settings().compression());
        ToolRun.run(List.of(sys.tools().program("pg_basebackup"),
                "-h", sys.upstream().host(), "-p", String.valueOf(sys.upstream().port()), "-U", sys.upstream().user(),
                "-D", staging.toString(), "-Ft", "-z", "-Z", String.valueOf(level), "-X", "stream", "-c", "fast",
                "--no-password", "-l", "neurondb backup " + id), sys.upstream(), timeout, staging);
        Path pgManifest = staging.resolve("backup_manifest");
        if (Files.exists(pgManifest)) {
            JsonArray ranges = new JsonObject(Files.readString(pgManifest)).getJsonArray("WAL-Ranges", new JsonArray());
            if (!ranges.isEmpty()) {
                JsonObject r = ranges.getJsonObject(0);
                manifest.put("timeline", r.getInteger("Timeline")).put("start_lsn", r.getString("Start-LSN"))
                        .put("end_lsn", ranges.getJsonObject(ranges.size() - 1).getString("End-LSN"));
            }
        }
    }

    private static long walSegmentSize(Pg pg) {
        return Long.parseLong(pg.value("SELECT setting FROM pg_settings WHERE name = 'wal_segment_size'"))
                * ("8kB".equals(pg.value("SELECT unit FROM pg_settings WHERE name = 'wal_segment_size'")) ? 8192 : 1);
    }
}
