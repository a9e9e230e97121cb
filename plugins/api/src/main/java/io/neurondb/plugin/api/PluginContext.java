package io.neurondb.plugin.api;

import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;

import java.nio.file.Path;
import java.util.Map;

/**
 * What the host gives a plugin's {@link PluginService} when it starts: its own configuration,
 * the shared Vert.x instance, the upstream server, the data directory, the host's meter
 * registry and the proxy's state.
 */
public interface PluginContext {

    /** The plugin's id from its manifest, e.g. {@code "metrics"}. */
    String pluginId();

    /**
     * This plugin's section of the configuration file ({@code plugins: <id>: ...}), empty when
     * the file has none. Values are as YAML read them: String, Integer, Long, Double, Boolean,
     * List and Map. A plugin rejects keys it does not know by throwing from
     * {@link PluginService#start}, with a message naming the key. After a reload it returns
     * the re-read section.
     */
    Map<String, Object> settings();

    /** The process environment (tests pass their own), for the plugin's {@code NEURONDB_*} overrides. */
    Map<String, String> environment();

    Vertx vertx();

    /** The upstream PostgreSQL server and the proxy's own login to it. */
    UpstreamServer upstream();

    /** The proxy's data directory; a plugin keeps its files under {@code dataDir()/<pluginId>}. */
    Path dataDir();

    /** Port for the metrics/admin HTTP endpoint ({@code metrics_port}); 0 means off. */
    int metricsPort();

    /**
     * The host's registry: the proxy's own meters and every plugin's. A plugin that exports
     * metrics adds its registry to it (it is a composite), one that records metrics registers
     * them here.
     */
    MeterRegistry meterRegistry();

    /** Live facts about the proxy: upstream reachability and the indexes it serves. */
    ProxyStatus status();

    /**
     * Asks the host to reload, as SIGHUP does: it re-reads its configuration file (when it was
     * started from one), and calls {@link PluginService#reload()} of every running service, after
     * which {@link #settings()} returns the new section. An admin console's RELOAD uses this.
     *
     * @return false when the file did not load or a service refused its new settings (the host
     *         logs why); the refusing services keep their running settings
     */
    boolean requestReload();

    /**
     * Lets go of {@code database} before the plugin drops it (a restore replacing it, a scratch
     * database of a restore test): PostgreSQL refuses {@code DROP DATABASE} while the proxy's own
     * connections or its logical replication slot use the database. The proxy stops following
     * it, keeping its indexes, until told the outcome through exactly one of the hold's methods.
     */
    default io.vertx.core.Future<DatabaseHold> releaseDatabase(String database) {
        return io.vertx.core.Future.succeededFuture(DatabaseHold.NONE);
    }

    /** The outcome of a drop {@link #releaseDatabase} prepared. */
    interface DatabaseHold {
        DatabaseHold NONE = new DatabaseHold() {
            @Override
            public void dropped() {
            }

            @Override
            public void kept() {
            }
        };

        /** The database was dropped: the proxy forgets it. */
        void dropped();

        /** The database is still there: the proxy follows it again. */
        void kept();
    }

    /**
     * Asks the host to stop the proxy, as an admin console's SHUTDOWN does (PgBouncer's
     * semantics: the process exits). Returns at once; the host stops on another thread, closing
     * listeners, sessions and every plugin service. An embedding host that cannot stop
     * throws {@link UnsupportedOperationException}.
     */
    default void requestShutdown() {
        throw new UnsupportedOperationException("this host does not let a plugin stop it");
    }
}
