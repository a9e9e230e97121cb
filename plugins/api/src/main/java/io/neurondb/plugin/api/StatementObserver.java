package io.neurondb.plugin.api;

import org.pf4j.ExtensionPoint;

/**
 * Sees every statement a client ran through the proxy, once it has completed, with its
 * timing and outcome. Called on the connection's event-loop thread: implementations must
 * not block; hand slow work (writing to a table, say) to a queue of their own.
 */
public interface StatementObserver extends ExtensionPoint {

    void onStatement(StatementEvent event);
}
