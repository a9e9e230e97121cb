package io.neurondb.plugin.api;

import org.pf4j.ExtensionPoint;

import java.time.Duration;

/**
 * Work a plugin wants run on a schedule (backups, retention, restore checks). The host runs
 * tasks on a worker thread, never on an event loop, one run of a task at a time, and stops
 * a run that exceeds {@link #timeout()} by interrupting it.
 */
public interface ScheduledTask extends ExtensionPoint {

    /** Unique name, used in logs and metrics. */
    String name();

    /** Cron expression (5 fields, minute precision), or null to run only on demand. */
    String schedule();

    Duration timeout();

    void run(TaskContext context) throws Exception;

    /** What a task may use while it runs. */
    interface TaskContext {
        /** The upstream server as a JDBC-style URL without credentials. */
        String upstreamUrl();

        /** Whether the run was asked for on demand rather than by the schedule. */
        boolean onDemand();
    }
}
