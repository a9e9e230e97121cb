package io.neurondb.proxy.session;

/**
 * The recall-affecting search settings a session starts with, before any {@code SET}:
 * {@code hnsw.ef_search} and {@code ivfflat.probes} (pgvector's defaults). Read by the
 * per-index metrics, which show them beside each index's build settings.
 */
public final class SearchDefaults {

    private SearchDefaults() {
    }

    /** {@code hnsw.ef_search} of a new session (an engine search still looks at no fewer than k). */
    public static int efSearch() {
        return Integer.parseInt(SessionSettings.defaultOf("hnsw.ef_search"));
    }

    /** {@code ivfflat.probes} of a new session. */
    public static int probes() {
        return Integer.parseInt(SessionSettings.defaultOf("ivfflat.probes"));
    }
}
