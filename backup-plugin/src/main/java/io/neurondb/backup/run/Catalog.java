package io.neurondb.backup.run;

import io.neurondb.backup.pg.Pg;
import io.neurondb.plugin.api.UpstreamServer;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Row;

import java.util.ArrayList;
import java.util.List;

/**
 * The {@code backups} catalog table in the backed-up database: one row per attempt, inserted as
 * running and finished as succeeded or failed. It is {@code neurondb.backups} where the SQL shim
 * 1.1 created it; in a database without the shim (or with shim 1.0) the plugin keeps the same
 * table in schema {@code neurondb_backup} instead, because creating schema {@code neurondb}
 * itself would make a later {@code CREATE EXTENSION vector} fail.
 */
public final class Catalog {

    public static final String FALLBACK_SCHEMA = "neurondb_backup";

    private final Vertx vertx;
    private final UpstreamServer upstream;
    private final String database;

    /** Which table each run of this process was inserted into, so its update goes to the same one. */
    private final java.util.Map<Long, String> tableOfRun = new java.util.concurrent.ConcurrentHashMap<>();

    public Catalog(Vertx vertx, UpstreamServer upstream, String database) {
        this.vertx = vertx;
        this.upstream = upstream;
        this.database = database;
    }

    /**
     * The table rows go to, creating the fallback one when the shim's is missing. Looked up every
     * time: the shim may be installed while the proxy runs.
     */
    public synchronized String table() {
        String table;
        try (Pg pg = Pg.connect(vertx, upstream, database)) {
            if (pg.value("SELECT to_regclass('neurondb.backups')::text") != null) {
                table = "neurondb.backups";
            } else {
                pg.execute("CREATE SCHEMA IF NOT EXISTS " + FALLBACK_SCHEMA);
                pg.execute("CREATE TABLE IF NOT EXISTS " + FALLBACK_SCHEMA + ".backups ("
                        + "id bigserial PRIMARY KEY, kind text NOT NULL, started_at timestamptz NOT NULL DEFAULT now(), "
                        + "finished_at timestamptz, status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')), "
                        + "error text, location text, bytes bigint, sha256 text, start_lsn pg_lsn, end_lsn pg_lsn, index_lsns jsonb)");
                table = FALLBACK_SCHEMA + ".backups";
            }
        }
        return table;
    }

    /** Inserts a running row; its id names the backup. */
    public long begin(String kind) {
        try (Pg pg = Pg.connect(vertx, upstream, database)) {
            String table = table();
            long id = Long.parseLong(pg.value("INSERT INTO " + table + " (kind, status) VALUES ($1, 'running') RETURNING id", kind));
            tableOfRun.put(id, table);
            return id;
        }
    }

    public void succeeded(long id, String location, long bytes, String sha256, String startLsn, String endLsn, String indexLsnsJson) {
        try (Pg pg = Pg.connect(vertx, upstream, database)) {
            pg.query("UPDATE " + tableOf(id) + " SET status = 'succeeded', finished_at = now(), location = $2, bytes = $3, sha256 = $4, "
                            + "start_lsn = $5::pg_lsn, end_lsn = $6::pg_lsn, index_lsns = $7::jsonb WHERE id = $1",
                    id, location, bytes, sha256, startLsn, endLsn, indexLsnsJson);
        }
    }

    public void failed(long id, String error) {
        try (Pg pg = Pg.connect(vertx, upstream, database)) {
            pg.query("UPDATE " + tableOf(id) + " SET status = 'failed', finished_at = now(), error = $2 WHERE id = $1", id, error);
        }
    }

    private String tableOf(long id) {
        String t = tableOfRun.remove(id);
        return t != null ? t : table();
    }

    /** One row of the catalog, as text. */
    public record Entry(long id, String kind, String status, String startedAt, String finishedAt, String location,
                        Long bytes, String error) {
    }

    public List<Entry> list() {
        List<Entry> entries = new ArrayList<>();
        try (Pg pg = Pg.connect(vertx, upstream, database)) {
            for (Row r : pg.query("SELECT id, kind, status, started_at::text, finished_at::text, location, bytes, error FROM "
                    + table() + " ORDER BY id")) {
                entries.add(new Entry(r.getLong(0), r.getString(1), r.getString(2), r.getString(3), r.getString(4),
                        r.getString(5), r.getLong(6), r.getString(7)));
            }
        }
        return entries;
    }

    /** Rows left running by a process that died (a crash, a kill): marked failed at start. */
    public int failAbandoned() {
        try (Pg pg = Pg.connect(vertx, upstream, database)) {
            return pg.query("UPDATE " + table() + " SET status = 'failed', finished_at = now(), "
                    + "error = 'abandoned: the process running it stopped' WHERE status = 'running' RETURNING id").size();
        }
    }
}
