package io.neurondb.backup.cli;

import io.neurondb.backup.restore.RestoreVerifier;
import io.neurondb.backup.run.BackupRunner;
import io.neurondb.backup.run.BackupSystem;
import io.neurondb.backup.run.WalArchiver;
import io.neurondb.plugin.api.CliCommand;
import io.neurondb.plugin.api.PluginContext;
import org.pf4j.Extension;

import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/** {@code neurondb-proxy backup logical|physical|verify}: one run now, from the command line. */
@Extension
public final class BackupCommand implements CliCommand {

    @Override
    public String name() {
        return "backup";
    }

    @Override
    public String usage() {
        return """
                neurondb-proxy backup logical|physical [--timeout-seconds N]
                    take a backup now (pg_dump -Fc / pg_basebackup), as configured under plugins: backup:
                neurondb-proxy backup verify
                    restore the latest logical backup into a scratch database, check it, drop it
                neurondb-proxy backup wal
                    copy finished WAL segments to the off-host target and apply retention""";
    }

    @Override
    public int run(List<String> argList, PluginContext context, PrintStream out, PrintStream err) throws Exception {
        BackupSystem sys;
        Args args;
        try {
            args = Args.parse(argList, Set.of("timeout-seconds"));
            if (args.positional().size() != 1) {
                throw new IllegalArgumentException("say which backup: logical, physical, verify or wal");
            }
            sys = BackupSystem.open(context, false);
        } catch (IllegalArgumentException e) {
            err.println("neurondb-proxy backup: " + e.getMessage());
            return 2;
        }
        String what = args.positional().getFirst();
        switch (what) {
            case "logical", "physical" -> {
                BackupRunner runner = new BackupRunner(args.option("timeout-seconds") == null ? sys
                        : sys.withTimeout(Duration.ofSeconds(Long.parseLong(args.option("timeout-seconds")))));
                try {
                    BackupRunner.Result r = runner.run(what);
                    out.println("backup " + r.id() + " (" + what + ") succeeded: " + r.location() + ", " + r.bytes() + " bytes, manifest sha256 " + r.sha256());
                    return 0;
                } catch (BackupRunner.FailedException | BackupRunner.BusyException e) {
                    err.println("neurondb-proxy backup: " + e.getMessage());
                    return 1;
                }
            }
            case "verify" -> {
                RestoreVerifier.Outcome o = new RestoreVerifier(sys).verify();
                if (o.passed()) {
                    out.println("restore test of backup " + o.backupId() + " passed: " + o.tables() + " tables, " + o.indexes() + " vector indexes");
                    return 0;
                }
                err.println("restore test of backup " + o.backupId() + " failed: " + String.join("; ", o.problems()));
                return 1;
            }
            case "wal" -> {
                int shipped = new WalArchiver(sys).ship();
                new BackupRunner(sys).applyRetention();
                out.println("shipped " + shipped + " WAL files to " + (sys.offsite() == null ? "(no off-host target)" : sys.offsite().describe()));
                return 0;
            }
            default -> {
                err.println("neurondb-proxy backup: unknown backup '" + what + "'; use logical, physical, verify or wal");
                return 2;
            }
        }
    }
}
