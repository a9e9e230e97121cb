package io.neurondb.proxy.vectors;

import io.neurondb.engine.SearchParams;
import io.neurondb.engine.SearchResult;
import io.neurondb.engine.VectorEngineException;
import io.neurondb.engine.VectorIndex;
import io.neurondb.proxy.route.IndexDefinition;

/** A ready engine index, as a kNN query uses it. Thread-safe. */
public final class ServedIndex {

    private final IndexDefinition definition;
    private final VectorIndex index;
    private final int keyTypeOid;

    ServedIndex(IndexDefinition definition, VectorIndex index, int keyTypeOid) {
        this.definition = definition;
        this.index = index;
        this.keyTypeOid = keyTypeOid;
    }

    /**
     * The {@code k} nearest rows, nearest first, distances as the operator reports them.
     *
     * @param efSearch {@code hnsw.ef_search} (ignored by IVF)
     * @param probes   {@code ivfflat.probes} (ignored by HNSW)
     * @throws VectorSqlException 22000 {@code expected n dimensions, not m}, 22023 for parameters out of range
     */
    public SearchResult search(float[] query, int k, int efSearch, int probes) {
        if (query.length != index.dims()) {
            throw new VectorSqlException(VectorSqlException.DATA_EXCEPTION,
                    String.format("expected %d dimensions, not %d", index.dims(), query.length));
        }
        try {
            return index.search(query, new SearchParams(k, efSearch, probes, SearchParams.DEFAULT_MAX_VISITED));
        } catch (VectorEngineException e) {
            throw VectorSqlException.from(e);
        }
    }

    /** The primary key's type OID: 20, 23 or 21. */
    public int keyTypeOid() {
        return keyTypeOid;
    }

    public IndexDefinition definition() {
        return definition;
    }

    public int dims() {
        return index.dims();
    }

    public int size() {
        return index.size();
    }
}
