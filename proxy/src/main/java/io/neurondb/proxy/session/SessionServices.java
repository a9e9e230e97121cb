package io.neurondb.proxy.session;

import io.neurondb.plugin.api.AdminCommand;
import io.neurondb.plugin.api.BackendConnectionProvider;
import io.neurondb.plugin.api.StatementEvent;
import io.neurondb.plugin.api.StatementObserver;
import io.neurondb.proxy.metrics.SessionMeters;
import io.neurondb.proxy.net.CancelRegistry;
import io.neurondb.proxy.plugin.PluginFunctions;
import io.neurondb.proxy.net.ClientTlsUpgrade;
import io.neurondb.proxy.net.UpstreamConnector;
import io.neurondb.proxy.protocol.FrameLimits;
import io.neurondb.proxy.route.StatementRouter;
import io.neurondb.proxy.vectors.VectorDatabases;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What sessions on one event loop share: the upstream connector of that loop, and the
 * process-wide cancel registry, observers and connection counter.
 *
 * @param clientLoginTimeout how long a client may take from connect to logged in; zero = no limit
 * @param clientTls how to answer SSLRequest with 'S' and go TLS, or null when client TLS is off
 * @param router    plans statements (shared cache)
 * @param vectors   the engine side of the databases behind the proxy, or null when vector routing is off
 * @param functions the neurondb.* functions plugins answer
 * @param meters    connections, bytes and engine searches, counted for the metrics endpoint
 * @param pool      the active pooling provider, or null for 1:1 sessions
 * @param adminCommands the admin console's commands (database {@code neurondb} / {@code pgbouncer} with a pool)
 */
public record SessionServices(
        UpstreamConnector upstream,
        CancelRegistry cancels,
        FrameLimits clientLimits,
        Duration clientLoginTimeout,
        ClientTlsUpgrade clientTls,
        List<StatementObserver> observers,
        AtomicLong connectionIds,
        StatementRouter router,
        VectorDatabases vectors,
        ProxyFacts facts,
        PluginFunctions functions,
        SessionMeters meters,
        BackendConnectionProvider pool,
        List<AdminCommand> adminCommands) {

    /** Without a pooling provider: every session is 1:1. */
    public SessionServices(UpstreamConnector upstream, CancelRegistry cancels, FrameLimits clientLimits, Duration clientLoginTimeout,
                           ClientTlsUpgrade clientTls, List<StatementObserver> observers, AtomicLong connectionIds,
                           StatementRouter router, VectorDatabases vectors, ProxyFacts facts, PluginFunctions functions,
                           SessionMeters meters) {
        this(upstream, cancels, clientLimits, clientLoginTimeout, clientTls, observers, connectionIds, router, vectors, facts, functions,
                meters, null, List.of());
    }

    private static final Logger log = LoggerFactory.getLogger(SessionServices.class);

    public boolean observing() {
        return !observers.isEmpty();
    }

    /** One misbehaving observer must not break the session or hide the event from others. */
    void publish(StatementEvent event) {
        for (StatementObserver o : observers) {
            try {
                o.onStatement(event);
            } catch (RuntimeException e) {
                log.warn("event=observer_failed observer={} error=\"{}\"", o.getClass().getName(), e.toString());
            }
        }
    }
}
