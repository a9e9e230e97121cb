package io.neurondb.backup.restore;

import io.neurondb.backup.pg.Pg;
import io.neurondb.backup.run.BackupSystem;
import io.neurondb.plugin.api.ProxyStatus;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The playbook's "test restores regularly": restores the latest logical backup into a scratch
 * database, compares every table's row count with the manifest, checks that each vector index
 * the backup defines is rebuilt by the proxy and answers a kNN query through it (the nearest
 * neighbour of a stored vector is that row), then drops the scratch database. The outcome is a
 * catalog row of kind {@code verify} and, on success, the last-verified metric.
 */
public final class RestoreVerifier {

    private static final Logger log = LoggerFactory.getLogger(RestoreVerifier.class);
    private static final Duration INDEX_WAIT = Duration.ofMinutes(5);

    private final BackupSystem sys;

    public RestoreVerifier(BackupSystem sys) {
        this.sys = sys;
    }

    public record Outcome(long backupId, String scratchDatabase, int tables, int indexes, List<String> problems) {
        public boolean passed() {
            return problems.isEmpty();
        }
    }

    public Outcome verify() throws Exception {
        long row = sys.catalog().begin("verify");
        Instant started = Instant.now();
        String scratch = "neurondb_verify_" + row;
        LogicalRestore restore = new LogicalRestore(sys);
        List<String> problems = new ArrayList<>();
        long backupId = -1;
        int tables = 0;
        int indexes = 0;
        try {
            LogicalRestore.Outcome restored = restore.restore("latest", null, scratch);
            backupId = restored.backupId();
            var manifest = BackupSet.find(sys.repository(), "logical", String.valueOf(backupId)).manifest();
            try (Pg pg = sys.connect(scratch)) {
                for (Map.Entry<String, Long> t : manifest.rowCounts().entrySet()) {
                    tables++;
                    String[] parts = t.getKey().split("\\.", 2);
                    long actual = Long.parseLong(pg.value("SELECT count(*) FROM " + Pg.quoteIdent(parts[0]) + "." + Pg.quoteIdent(parts[1])));
                    if (actual != t.getValue()) {
                        problems.add("table " + t.getKey() + " has " + actual + " rows, the backup recorded " + t.getValue());
                    }
                }
            }
            JsonArray defs = manifest.json().getJsonArray("indexes", new JsonArray());
            for (Object o : defs) {
                indexes++;
                String problem = checkIndex(scratch, (JsonObject) o);
                if (problem != null) {
                    problems.add(problem);
                }
            }
        } catch (Exception e) {
            problems.add(e.getMessage() == null ? e.toString() : e.getMessage());
        } finally {
            restore.dropQuietly(scratch);
        }
        Duration took = Duration.between(started, Instant.now());
        if (problems.isEmpty()) {
            sys.catalog().succeeded(row, "backup " + backupId + " restored into " + scratch + " and dropped", 0, null, null, null, null);
            sys.metrics().verified();
            log.info("event=restore_verified backup_id={} tables={} indexes={} seconds={}", backupId, tables, indexes, took.toMillis() / 1000.0);
        } else {
            sys.catalog().failed(row, String.join("; ", problems));
            sys.metrics().failed("verify", took);
            log.error("event=restore_verification_failed backup_id={} problems=\"{}\"", backupId, String.join("; ", problems));
        }
        return new Outcome(backupId, scratch, tables, indexes, List.copyOf(problems));
    }

    /** @return null when the index is ready (where the proxy's state is visible) and answers kNN through the proxy */
    private String checkIndex(String scratch, JsonObject def) throws InterruptedException {
        String table = def.getString("table");
        String column = def.getString("column");
        String key = def.getString("key_column");
        String name = def.getString("name");
        String op = switch (def.getString("opclass", "vector_l2_ops")) {
            case "vector_cosine_ops" -> "<=>";
            case "vector_ip_ops" -> "<#>";
            case "vector_l1_ops" -> "<+>";
            default -> "<->";
        };
        String qualifiedTable = qualify(def.getString("schema"), table);
        String sampleKey;
        String sampleVector;
        try (Pg pg = sys.connect(scratch)) {
            var rows = pg.query("SELECT " + Pg.quoteIdent(key) + "::text, array_to_string(" + Pg.quoteIdent(column) + ", ',') FROM "
                    + qualifiedTable + " WHERE " + Pg.quoteIdent(column) + " IS NOT NULL ORDER BY 1 LIMIT 1");
            if (rows.isEmpty()) {
                return null;
            }
            sampleKey = rows.getFirst().getString(0);
            sampleVector = "[" + rows.getFirst().getString(1) + "]";
        }
        String answer;
        try (Pg proxy = Pg.connect(sys.vertx(), sys.upstream(), sys.settings().proxyHost(), sys.settings().proxyPort(), scratch)) {
            // The first session to a database makes the proxy build its indexes from neurondb.indexes.
            proxy.value("SELECT 1");
            if (!waitReady(scratch, name)) {
                return "vector index " + name + " was not rebuilt (ready) within " + INDEX_WAIT.toMinutes() + " min";
            }
            var rows = proxy.query("SELECT " + Pg.quoteIdent(key) + "::text FROM " + qualifiedTable + " ORDER BY "
                    + Pg.quoteIdent(column) + " " + op + " $1 LIMIT 5", sampleVector);
            if (rows.isEmpty()) {
                return "kNN query on " + name + " through the proxy returned no rows";
            }
            answer = rows.getFirst().getString(0);
        } catch (RuntimeException e) {
            return "kNN query on " + name + " through the proxy at " + sys.settings().proxyHost() + ":" + sys.settings().proxyPort()
                    + " failed: " + e.getMessage();
        }
        if (!op.equals("<#>") && !answer.equals(sampleKey)) {
            return "kNN query on " + name + ": the nearest neighbour of row " + sampleKey + "'s own vector was row " + answer;
        }
        return null;
    }

    /** Waits for the proxy to report the index ready; true at once when the proxy's state is not visible (the CLI). */
    private boolean waitReady(String database, String index) throws InterruptedException {
        ProxyStatus status = sys.status();
        if (status == null || !sys.insideProxy()) {
            // A CLI process sees no engine: the kNN query through the proxy is the check.
            return true;
        }
        Instant deadline = Instant.now().plus(INDEX_WAIT);
        while (Instant.now().isBefore(deadline)) {
            for (ProxyStatus.IndexInfo i : status.indexes()) {
                if (i.database().equals(database) && i.name().equals(index)) {
                    if (i.ready()) {
                        return true;
                    }
                    if (i.state().equals("failed")) {
                        return false;
                    }
                }
            }
            Thread.sleep(100);
        }
        return false;
    }

    private static String qualify(String schema, String table) {
        // neurondb.indexes keeps table_name as regclass text: already quoted where needed, maybe qualified
        return table.contains(".") || schema == null ? table : Pg.quoteIdent(schema) + "." + table;
    }
}
