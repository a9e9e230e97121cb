package io.neurondb.backup.run;

import io.neurondb.backup.config.BackupSettings;
import io.neurondb.backup.pg.Pg;
import io.neurondb.backup.pg.ToolRun;
import io.neurondb.backup.store.Manifest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code pg_dump -Fc} of one database (whole, schema-only, data-only or selected tables) into a
 * staging directory. The dump runs on a snapshot exported by a transaction of the plugin's own,
 * which counts every table's rows on that same snapshot, so the manifest's counts are exactly
 * what the dump holds. The vector index definitions ({@code neurondb.indexes}) travel in the dump;
 * the manifest lists them too, for the restore test.
 */
final class LogicalBackup {

    static final String DUMP_FILE = "database.dump";

    private final BackupSystem sys;

    LogicalBackup(BackupSystem sys) {
        this.sys = sys;
    }

    /** Dumps into {@code staging}, fills {@code manifest}; returns the plain dump file. */
    Path run(Path staging, Manifest manifest, Duration timeout) throws IOException {
        BackupSettings s = sys.settings();
        try (Pg pg = sys.connect(s.database())) {
            pg.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
            String snapshot = pg.value("SELECT pg_export_snapshot()");
            manifest.put("database", s.database())
                    .put("mode", s.logicalMode())
                    .put("tables", new JsonArray(new ArrayList<>(s.logicalTables())))
                    .put("server_version_num", Integer.parseInt(pg.value("SHOW server_version_num")))
                    .put("start_lsn", pg.value("SELECT pg_current_wal_lsn()::text"));
            if (pg.value("SELECT to_regclass('neurondb.extension')::text") != null) {
                manifest.put("shim_version", pg.value("SELECT version FROM neurondb.extension"));
            }
            manifest.put("indexes", indexes(pg));
            List<String> cmd = new ArrayList<>(List.of(sys.tools().program("pg_dump"),
                    "-h", sys.upstream().host(), "-p", String.valueOf(sys.upstream().port()), "-U", sys.upstream().user(),
                    "-d", s.database(), "-Fc", "-Z", String.valueOf(s.compression()), "--snapshot=" + snapshot, "--no-password",
                    "--exclude-table-data=neurondb.backups", "--exclude-table-data=" + Catalog.FALLBACK_SCHEMA + ".backups",
                    "-f", staging.resolve(DUMP_FILE).toString()));
            if (s.logicalMode().equals("schema-only")) {
                cmd.add("--schema-only");
            } else if (s.logicalMode().equals("data-only")) {
                cmd.add("--data-only");
            }
            for (String t : s.logicalTables()) {
                cmd.add("-t");
                cmd.add(t);
            }
            ToolRun.run(cmd, sys.upstream(), timeout, staging);
            // Counted after the dump, on the same snapshot: the same rows, and no table lock of
            // ours held while pg_dump waits for its own.
            if (!s.logicalMode().equals("schema-only")) {
                manifest.put("row_counts", rowCounts(pg, s.logicalTables()));
            }
            pg.execute("COMMIT");
            manifest.put("end_lsn", pg.value("SELECT pg_current_wal_lsn()::text"));
        }
        return staging.resolve(DUMP_FILE);
    }

    /** Rows of every ordinary table (or the selected ones), on the exported snapshot. */
    private static JsonObject rowCounts(Pg pg, List<String> selected) {
        JsonObject counts = new JsonObject();
        List<Row> tables = pg.query("SELECT n.nspname::text, c.relname::text, c.oid::regclass::text FROM pg_class c "
                + "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') "
                + "AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' "
                + "AND NOT (c.relname = 'backups' AND n.nspname IN ('neurondb', '" + Catalog.FALLBACK_SCHEMA + "')) "
                + "ORDER BY 1, 2");
        for (Row t : tables) {
            String qualified = t.getString(0) + "." + t.getString(1);
            if (!selected.isEmpty() && !selected.contains(qualified) && !selected.contains(t.getString(1))) {
                continue;
            }
            String count = pg.value("SELECT count(*) FROM " + Pg.quoteIdent(t.getString(0)) + "." + Pg.quoteIdent(t.getString(1)));
            counts.put(qualified, Long.parseLong(count));
        }
        return counts;
    }

    /** neurondb.indexes, when the shim is installed. */
    private static JsonArray indexes(Pg pg) {
        JsonArray out = new JsonArray();
        if (pg.value("SELECT to_regclass('neurondb.indexes')::text") == null) {
            return out;
        }
        for (Row r : pg.query("SELECT schema_name::text, index_name::text, table_name::text, column_name::text, key_column::text, "
                + "method, opclass FROM neurondb.indexes ORDER BY 1, 2")) {
            out.add(new JsonObject().put("schema", r.getString(0)).put("name", r.getString(1)).put("table", r.getString(2))
                    .put("column", r.getString(3)).put("key_column", r.getString(4)).put("method", r.getString(5))
                    .put("opclass", r.getString(6)));
        }
        return out;
    }
}
