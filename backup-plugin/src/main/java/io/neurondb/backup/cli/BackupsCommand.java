package io.neurondb.backup.cli;

import io.neurondb.backup.run.BackupSystem;
import io.neurondb.backup.run.Catalog;
import io.neurondb.backup.store.BackupTarget;
import io.neurondb.backup.store.Manifest;
import io.neurondb.plugin.api.CliCommand;
import io.neurondb.plugin.api.PluginContext;
import org.pf4j.Extension;

import java.io.PrintStream;
import java.util.List;

/** {@code neurondb-proxy backups list}: what the repository (and off-host copy) holds, and the catalog's runs. */
@Extension
public final class BackupsCommand implements CliCommand {

    @Override
    public String name() {
        return "backups";
    }

    @Override
    public String usage() {
        return """
                neurondb-proxy backups list
                    the complete backups in the repository and the off-host target, and the catalog's
                    record of every run (running, succeeded, failed)""";
    }

    @Override
    public int run(List<String> args, PluginContext context, PrintStream out, PrintStream err) throws Exception {
        if (!args.equals(List.of("list"))) {
            err.println("neurondb-proxy backups: use: backups list");
            return 2;
        }
        BackupSystem sys;
        try {
            sys = BackupSystem.open(context, false);
        } catch (IllegalArgumentException e) {
            err.println("neurondb-proxy backups: " + e.getMessage());
            return 2;
        }
        for (BackupTarget t : sys.targets()) {
            out.println("# " + t.describe());
            out.println(String.format("%-10s %-9s %-28s %14s %-9s %s", "id", "kind", "finished", "bytes", "encrypted", "name"));
            for (String kind : List.of("logical", "physical")) {
                for (String name : t.listSets(kind)) {
                    Manifest m = Manifest.read(t.fetch(name, Manifest.FILE));
                    out.println(String.format("%-10d %-9s %-28s %14d %-9s %s", m.id(), kind, m.string("finished_at"), m.totalBytes(),
                            m.json().getBoolean("encrypted", false), name));
                }
            }
            out.println("  WAL files: " + t.listWal().size());
        }
        try {
            List<Catalog.Entry> entries = sys.catalog().list();
            out.println("# catalog " + sys.catalog().table() + " in database " + sys.settings().database());
            for (Catalog.Entry e : entries) {
                out.println(String.format("%-10d %-9s %-10s %-32s %s", e.id(), e.kind(), e.status(), e.startedAt(),
                        e.error() != null ? "error: " + e.error() : (e.location() == null ? "" : e.location())));
            }
        } catch (RuntimeException e) {
            out.println("# catalog not readable in database " + sys.settings().database() + ": " + e.getMessage());
        }
        return 0;
    }
}
