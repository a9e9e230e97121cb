package io.neurondb.backup.restore;

import io.neurondb.backup.pg.Pg;
import io.neurondb.backup.pg.ToolRun;
import io.neurondb.backup.run.BackupSystem;
import io.neurondb.backup.store.DirectoryTarget;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Restores a logical backup into a new database, as the playbook does by hand (createdb,
 * pg_restore, then {@code SELECT neurondb.version()}), after checking the key, the files'
 * SHA-256s and that the database does not exist yet. The vector indexes come back by
 * themselves: their definitions are in the restored {@code neurondb.indexes}, and the proxy
 * builds a database's indexes when a session first connects to it.
 */
public final class LogicalRestore {

    private static final Logger log = LoggerFactory.getLogger(LogicalRestore.class);

    private final BackupSystem sys;

    public LogicalRestore(BackupSystem sys) {
        this.sys = sys;
    }

    /** @param check what the after-restore check ran and answered */
    public record Outcome(long backupId, String backupName, String database, String check) {
    }

    /**
     * @param backupId id or "latest"
     * @param from     repository or offsite
     * @throws IllegalArgumentException for bad input, before anything was changed
     */
    public Outcome restore(String backupId, String from, String database) throws IOException {
        if (database == null || database.isBlank()) {
            throw new IllegalArgumentException("name the new database: --database NAME");
        }
        String maintenance = maintenanceDatabase();
        try (Pg pg = sys.connect(maintenance)) {
            if (pg.value("SELECT datname::text FROM pg_database WHERE datname = $1", database) != null) {
                throw new IllegalArgumentException("database \"" + database + "\" already exists; restore into a new name with --database,"
                        + " or drop it first (DROP DATABASE)");
            }
        }
        BackupSet set = BackupSet.find(BackupSet.source(sys, from), "logical", backupId);
        if ("data-only".equals(set.manifest().string("mode"))) {
            throw new IllegalArgumentException("backup " + set.manifest().id() + " is data-only; a new database has no tables for it:"
                    + " restore it with pg_restore --data-only into a database that has the schema");
        }
        set.checkKey(sys.key());
        set.checkFiles();
        Path work = sys.repository().newStagingDir("restore");
        try {
            Path dump = set.plainFile("database.dump", sys.key(), work);
            log.info("event=restore_started kind=logical backup_id={} database={}", set.manifest().id(), database);
            try (Pg pg = sys.connect(maintenance)) {
                pg.execute("CREATE DATABASE " + Pg.quoteIdent(database));
            }
            try {
                ToolRun.run(List.of(sys.tools().program("pg_restore"), "-h", sys.upstream().host(),
                        "-p", String.valueOf(sys.upstream().port()), "-U", sys.upstream().user(), "--no-password",
                        "--exit-on-error", "-d", database, dump.toString()), sys.upstream(), sys.settings().timeout(), work);
            } catch (IOException | RuntimeException e) {
                dropQuietly(database);
                throw e;
            }
            String check = check(database);
            log.info("event=restore_succeeded kind=logical backup_id={} database={} check=\"{}\"", set.manifest().id(), database, check);
            return new Outcome(set.manifest().id(), set.name(), database, check);
        } finally {
            DirectoryTarget.deleteTree(work);
        }
    }

    /** The playbook's check: neurondb.version() through the proxy; directly on the server when the proxy is not reachable. */
    String check(String database) {
        try (Pg pg = Pg.connect(sys.vertx(), sys.upstream(), sys.settings().proxyHost(), sys.settings().proxyPort(), database)) {
            return "through the proxy at " + sys.settings().proxyHost() + ":" + sys.settings().proxyPort() + ": " + version(pg);
        } catch (RuntimeException e) {
            log.info("event=restore_check_direct reason=\"proxy at {}:{} not reachable: {}\"", sys.settings().proxyHost(),
                    sys.settings().proxyPort(), e.getMessage());
        }
        try (Pg pg = sys.connect(database)) {
            return "directly on the server: " + version(pg);
        }
    }

    private static String version(Pg pg) {
        if (pg.value("SELECT to_regclass('neurondb.extension')::text") == null) {
            return "no neurondb catalog in this database (the backup had no vector shim); tables: "
                    + pg.value("SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')");
        }
        return "neurondb.version() = " + pg.value("SELECT neurondb.version()") + ", vector indexes defined: "
                + pg.value("SELECT count(*) FROM neurondb.indexes");
    }

    void dropQuietly(String database) {
        io.neurondb.plugin.api.PluginContext.DatabaseHold hold = io.neurondb.plugin.api.PluginContext.DatabaseHold.NONE;
        try (Pg pg = sys.connect(maintenanceDatabase())) {
            // The proxy may follow the database (a restore test checks its indexes through the
            // proxy): its slot would make PostgreSQL refuse the drop, even WITH (FORCE).
            hold = sys.releaseForDrop(database);
            pg.execute("DROP DATABASE IF EXISTS " + Pg.quoteIdent(database) + " WITH (FORCE)");
            hold.dropped();
        } catch (RuntimeException e) {
            hold.kept();
            log.error("event=restore_cleanup_failed database={} error=\"{}\"", database, e.getMessage());
        }
    }

    /** The database restores connect to for CREATE/DROP DATABASE: the upstream URL's, else postgres. */
    private String maintenanceDatabase() {
        String db = sys.upstream().database();
        return db == null || db.equals(sys.settings().database()) ? "postgres" : db;
    }
}
