package io.neurondb.backup.cli;

import io.neurondb.backup.restore.LogicalRestore;
import io.neurondb.backup.restore.PhysicalRestore;
import io.neurondb.backup.run.BackupSystem;
import io.neurondb.plugin.api.CliCommand;
import io.neurondb.plugin.api.PluginContext;
import org.pf4j.Extension;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/** {@code neurondb-proxy restore logical|physical}: into a new database or a new data directory. */
@Extension
public final class RestoreCommand implements CliCommand {

    @Override
    public String name() {
        return "restore";
    }

    @Override
    public String usage() {
        return """
                neurondb-proxy restore logical --database NEW_DB [--backup ID|latest] [--from repository|offsite]
                    create NEW_DB and pg_restore the backup into it, then check SELECT neurondb.version()
                    (through the proxy when it runs; it rebuilds the vector indexes on first connect)
                neurondb-proxy restore physical --target-dir NEW_DIR [--target-lsn LSN | --target-time TIME]
                                                [--backup ID|latest] [--from repository|offsite]
                    unpack a base backup and the archived WAL into NEW_DIR, set up recovery to the target
                    (default: the end of the archived WAL); then start a server on it with pg_ctl""";
    }

    @Override
    public int run(List<String> argList, PluginContext context, PrintStream out, PrintStream err) throws Exception {
        try {
            Args args = Args.parse(argList, Set.of("database", "backup", "from", "target-dir", "target-lsn", "target-time"));
            if (args.positional().size() != 1) {
                throw new IllegalArgumentException("say which restore: logical or physical (see --help)");
            }
            BackupSystem sys = BackupSystem.open(context, false);
            switch (args.positional().getFirst()) {
                case "logical" -> {
                    LogicalRestore.Outcome o = new LogicalRestore(sys).restore(args.option("backup"), args.option("from"), args.option("database"));
                    out.println("restored backup " + o.backupId() + " (" + o.backupName() + ") into database " + o.database());
                    out.println("check " + o.check());
                }
                case "physical" -> {
                    String dir = args.option("target-dir");
                    PhysicalRestore.Outcome o = new PhysicalRestore(sys).restore(args.option("backup"), args.option("from"),
                            dir == null ? null : Path.of(dir), args.option("target-lsn"), args.option("target-time"));
                    out.println("prepared " + o.dataDir() + " from backup " + o.backupId() + " (" + o.backupName() + ") with "
                            + o.walFiles() + " WAL files, recovering to " + o.target());
                    out.println("next: pg_ctl -D " + o.dataDir() + " -o '-p PORT' start   (as the postgres OS user);"
                            + " it replays WAL and promotes; then check: psql -p PORT -c 'SELECT neurondb.version()'");
                }
                default -> throw new IllegalArgumentException("unknown restore '" + args.positional().getFirst() + "'; use logical or physical");
            }
            return 0;
        } catch (IllegalArgumentException e) {
            err.println("neurondb-proxy restore: " + e.getMessage());
            return 2;
        }
    }
}
