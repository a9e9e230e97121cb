package io.neurondb.backup;

import io.neurondb.backup.config.BackupSettings;
import io.neurondb.backup.restore.RestoreVerifier;
import io.neurondb.backup.run.BackupRunner;
import io.neurondb.backup.run.BackupScheduler;
import io.neurondb.backup.run.BackupSystem;
import io.neurondb.backup.run.WalArchiver;
import io.neurondb.plugin.api.PluginContext;
import io.neurondb.plugin.api.PluginService;
import io.neurondb.plugin.api.SqlFunction;
import io.neurondb.plugin.api.SqlFunctionException;
import io.neurondb.plugin.api.TextResult;
import org.pf4j.Extension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * The backup plugin inside the proxy: checks its settings at start (a bad one keeps the plugin
 * out, with the reason in the log), starts WAL archiving and the schedules, and answers
 * {@code SELECT neurondb.backup_now('logical'|'physical')} for superusers. The call runs the
 * backup to the end and returns its catalog row.
 */
@Extension
public final class BackupPlugin implements PluginService, SqlFunction {

    private static final Logger log = LoggerFactory.getLogger(BackupPlugin.class);
    static final List<String> COLUMNS = List.of("id", "kind", "status", "location", "bytes", "sha256");

    private volatile BackupSystem system;
    private volatile BackupRunner runner;
    private WalArchiver wal;
    private BackupScheduler scheduler;

    @Override
    public void start(PluginContext context) throws Exception {
        BackupSystem sys = BackupSystem.open(context, true);
        BackupRunner r = new BackupRunner(sys);
        try {
            int abandoned = sys.catalog().failAbandoned();
            if (abandoned > 0) {
                log.warn("event=backup_abandoned_runs count={}; marked failed", abandoned);
            }
        } catch (RuntimeException e) {
            log.warn("event=backup_catalog_unavailable database={} error=\"{}\"", sys.settings().database(), e.getMessage());
        }
        sys.metrics().declare(List.of("logical", "physical", "wal"));
        BackupSettings s = sys.settings();
        WalArchiver archiver = new WalArchiver(sys);
        if (s.walEnabled()) {
            try {
                archiver.ensureRunning();
            } catch (RuntimeException e) {
                log.error("event=wal_receiver_start_failed error=\"{}\"; retried by the wal job", e.getMessage());
            }
        } else if (sys.key() != null) {
            archiver.startWatcher();   // seals what an archive_command writes into the WAL directory
        }
        BackupScheduler sched = new BackupScheduler();
        s.schedules().forEach((job, cron) -> sched.schedule(job, cron, switch (job) {
            case "logical", "physical" -> () -> r.run(job);
            case "wal" -> () -> walJob(sys, archiver);
            case "verify" -> () -> new RestoreVerifier(sys).verify();
            default -> throw new IllegalStateException(job);
        }));
        system = sys;
        runner = r;
        wal = archiver;
        scheduler = sched;
    }

    /** The hourly WAL job: pg_receivewal running, finished segments copied off-host. */
    private static void walJob(BackupSystem sys, WalArchiver archiver) throws Exception {
        Instant started = Instant.now();
        try {
            if (sys.settings().walEnabled()) {
                archiver.ensureRunning();
            }
            int shipped = archiver.ship();
            sys.metrics().succeeded("wal", Duration.between(started, Instant.now()));
            log.info("event=wal_job_done receiver_running={} shipped={}", archiver.running(), shipped);
        } catch (Exception e) {
            sys.metrics().failed("wal", Duration.between(started, Instant.now()));
            throw e;
        }
    }

    @Override
    public void stop() {
        if (scheduler != null) {
            scheduler.close();
        }
        if (wal != null) {
            wal.stop();
        }
    }

    @Override
    public String name() {
        return "backup_now";
    }

    @Override
    public List<String> columns() {
        return COLUMNS;
    }

    @Override
    public TextResult call(List<String> arguments, Caller caller) {
        if (!caller.superuser()) {
            throw new SqlFunctionException("42501", "permission denied for function backup_now: only a superuser may take backups");
        }
        if (arguments.size() != 1 || arguments.getFirst() == null) {
            throw new SqlFunctionException("22023", "neurondb.backup_now takes one argument: 'logical', 'physical' or 'verify' (the restore test)");
        }
        String kind = arguments.getFirst();
        BackupRunner r = runner;
        if (r == null) {
            throw new SqlFunctionException("55000", "the backup plugin is not running");
        }
        if (kind.equals("verify")) {
            return verifyNow();
        }
        try {
            BackupRunner.Result res = r.run(kind);
            return TextResult.rows(COLUMNS, List.of(List.of(String.valueOf(res.id()), kind, "succeeded", res.location(),
                    String.valueOf(res.bytes()), res.sha256())));
        } catch (IllegalArgumentException e) {
            throw new SqlFunctionException("22023", e.getMessage() + "");
        } catch (BackupRunner.BusyException e) {
            throw new SqlFunctionException("55006", e.getMessage());
        } catch (BackupRunner.FailedException e) {
            throw new SqlFunctionException("58000", e.getMessage());
        }
    }

    /** {@code backup_now('verify')}: the restore test, now; its outcome in the same columns. */
    private TextResult verifyNow() {
        try {
            RestoreVerifier.Outcome o = new RestoreVerifier(system).verify();
            if (!o.passed()) {
                throw new SqlFunctionException("XX000", "restore test of backup " + o.backupId() + " failed: " + String.join("; ", o.problems()));
            }
            return TextResult.rows(COLUMNS, List.of(java.util.Arrays.asList(String.valueOf(o.backupId()), "verify", "succeeded",
                    o.tables() + " tables and " + o.indexes() + " vector indexes checked in " + o.scratchDatabase() + " (dropped)", null, null)));
        } catch (SqlFunctionException e) {
            throw e;
        } catch (Exception e) {
            throw new SqlFunctionException("XX000", "restore test failed: " + e.getMessage());
        }
    }
}
