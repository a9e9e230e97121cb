package io.neurondb.proxy.cli;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * SIGHUP means "reload", as for PostgreSQL and PgBouncer. One handler runs every registered
 * reload action in turn (the logging's, the pooling's, ...); the JVM's own handler, which
 * would shut the process down, is replaced.
 */
public final class Sighup {

    private static final Logger log = LoggerFactory.getLogger(Sighup.class);
    private static final List<Runnable> ACTIONS = new CopyOnWriteArrayList<>();
    private static boolean installed;

    private Sighup() {
    }

    /** Adds a reload action. False when the JVM does not let SIGHUP be handled (run with -Xrs). */
    @SuppressWarnings("removal")
    public static synchronized boolean register(Runnable action) {
        if (!installed) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal("HUP"), signal -> runAll());
                installed = true;
            } catch (IllegalArgumentException | UnsupportedOperationException e) {
                log.warn("event=sighup_unavailable error=\"{}\"", e.getMessage());
                return false;
            }
        }
        ACTIONS.add(action);
        return true;
    }

    private static void runAll() {
        log.info("event=sighup actions={}", ACTIONS.size());
        for (Runnable action : ACTIONS) {
            try {
                action.run();
            } catch (RuntimeException e) {
                log.warn("event=reload_action_failed error=\"{}\"", e.toString().replace('"', '\''));
            }
        }
    }
}
