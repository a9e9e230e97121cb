package io.neurondb.plugin.api;

import io.vertx.core.Future;

import java.util.List;

/** Live facts about the running proxy, for readiness checks and exporters. */
public interface ProxyStatus {

    /** Opens and closes a connection to the upstream server; succeeds when it answered. */
    Future<Void> pingUpstream();

    /** Every engine index the proxy serves or is building, in all databases it has seen. */
    List<IndexInfo> indexes();

    /**
     * Whether {@link #indexes()} covers every database: false while the proxy is still finding
     * the databases that have indexes after its start, when the list may be short.
     */
    default boolean indexesKnown() {
        return true;
    }

    /**
     * One engine index.
     *
     * @param state        building, ready (built and current: served), stale (rows written since the
     *                     build; rebuilding) or failed
     * @param buildSeconds how long the last (re)build took, 0 while building
     */
    record IndexInfo(String database, String name, String table, String column, String method,
                     String state, long rows, long memoryBytes, double buildSeconds) {

        public boolean ready() {
            return "ready".equals(state);
        }
    }
}
