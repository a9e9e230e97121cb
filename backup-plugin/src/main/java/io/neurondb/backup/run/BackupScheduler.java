package io.neurondb.backup.run;

import io.neurondb.backup.config.CronExpression;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.ZonedDateTime;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Fires each job at the times its cron expression names (server-local time zone of the proxy's
 * JVM). The host has no scheduler, so the plugin keeps this one: one timer thread, and each job
 * run on a virtual thread of its own so a long backup does not hold back the hourly WAL job.
 * A job still running when it is due again is skipped (the runner allows one run per kind).
 */
public final class BackupScheduler implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(BackupScheduler.class);

    /** A job's work; exceptions are logged (the job records its own outcome). */
    public interface Job {
        void run() throws Exception;
    }

    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("neurondb-backup-scheduler").daemon(true).factory());
    private final ExecutorService workers = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("neurondb-backup-", 0).factory());

    public void schedule(String name, CronExpression cron, Job job) {
        scheduleAfter(name, cron, job, ZonedDateTime.now());
    }

    /**
     * Arms the job for its first time after {@code after}. A run reschedules from the time it
     * was due, not from the clock: the timer may fire a millisecond early (the delay is whole
     * milliseconds), and "next after now" was then the same minute again, run twice.
     */
    private void scheduleAfter(String name, CronExpression cron, Job job, ZonedDateTime after) {
        ZonedDateTime now = ZonedDateTime.now();
        ZonedDateTime next = cron.next(after.isAfter(now) ? after : now);
        long delay = Math.max(0, Duration.between(now, next).toMillis());
        log.info("event=backup_job_scheduled job={} cron=\"{}\" next={}", name, cron, next);
        timer.schedule(() -> {
            workers.submit(() -> {
                try {
                    job.run();
                } catch (Exception e) {
                    log.error("event=backup_job_failed job={} error=\"{}\"", name, e.getMessage() == null ? e.toString() : e.getMessage());
                }
            });
            scheduleAfter(name, cron, job, next);
        }, delay, TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        timer.shutdownNow();
        workers.shutdownNow();
    }
}
