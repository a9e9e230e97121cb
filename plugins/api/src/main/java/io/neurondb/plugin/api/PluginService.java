package io.neurondb.plugin.api;

import org.pf4j.ExtensionPoint;

/**
 * A plugin's long-lived part (an HTTP endpoint, a writer queue, a scheduler). The host calls
 * {@link #start} once, after loading plugins and before accepting clients, and {@link #stop}
 * at shutdown. A service whose start throws is logged and its plugin's other extensions are
 * not used; the proxy serves on without it.
 *
 * <p>An extension class may implement several extension points (say {@code PluginService} and
 * {@link StatementObserver}); the host creates one instance per class, so they share state.
 */
public interface PluginService extends ExtensionPoint {

    /** Called on a worker thread; may block (bind a port, create a table). */
    void start(PluginContext context) throws Exception;

    /**
     * The configuration was reloaded (SIGHUP, or a console's RELOAD): {@code context.settings()}
     * now returns the re-read section. Apply what can change without a restart; throw to keep
     * the running settings (the host logs the message). Clients stay connected.
     */
    default void reload() {
    }

    /** Releases what start took. Called on a worker thread. */
    default void stop() {
    }
}
