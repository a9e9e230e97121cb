package io.neurondb.engine;

/**
 * Per-query knobs. {@code efSearch} is read by HNSW, {@code probes} by IVF; each index ignores
 * the other's. {@code maxVisited} bounds how far a filtered search keeps exploring when few
 * rows pass the filter (pgvector's {@code hnsw.max_scan_tuples}).
 */
public record SearchParams(int k, int efSearch, int probes, int maxVisited) {

    public static final int DEFAULT_EF_SEARCH = 40;
    public static final int DEFAULT_PROBES = 1;
    public static final int DEFAULT_MAX_VISITED = 20_000;

    public SearchParams {
        VectorValidation.checkK(k);
        VectorValidation.checkRange("ef_search", efSearch, 1, 1000);
        VectorValidation.checkRange("probes", probes, 1, 32768);
        VectorValidation.checkRange("max_scan_tuples", maxVisited, 1, Integer.MAX_VALUE);
    }

    public static SearchParams of(int k) {
        return new SearchParams(k, DEFAULT_EF_SEARCH, DEFAULT_PROBES, DEFAULT_MAX_VISITED);
    }

    public SearchParams withEfSearch(int ef) {
        return new SearchParams(k, ef, probes, maxVisited);
    }

    public SearchParams withProbes(int p) {
        return new SearchParams(k, efSearch, p, maxVisited);
    }

    public SearchParams withMaxVisited(int max) {
        return new SearchParams(k, efSearch, probes, max);
    }
}
