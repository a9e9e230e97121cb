package io.neurondb.proxy.vectors;

import java.util.Map;

/**
 * One row of {@code neurondb.index_stats()}.
 *
 * @param tableName  schema-qualified
 * @param metric     l2, ip, cosine or l1
 * @param dims       the indexed dimension count, 0 when not known yet
 * @param error      the last build's error message when {@code state} is failed, else null
 * @param buildSettings the recall-affecting build settings in use: {@code m} and
 *                   {@code ef_construction} (HNSW) or {@code lists} (IVF), as given in
 *                   {@code WITH (...)} or their defaults
 * @param builds     builds of the index completed since the proxy opened it (the first one,
 *                   {@code REINDEX}, rebuilds after writes)
 */
public record IndexStatus(String indexName, String tableName, String columnName, String method, String metric,
                          int dims, long rows, long memoryBytes, double buildSeconds, IndexState state, String error,
                          Map<String, Integer> buildSettings, long builds) {

    public IndexStatus {
        buildSettings = buildSettings == null ? Map.of() : Map.copyOf(buildSettings);
    }

    /** Without build settings and counts (callers that do not know them). */
    public IndexStatus(String indexName, String tableName, String columnName, String method, String metric,
                       int dims, long rows, long memoryBytes, double buildSeconds, IndexState state, String error) {
        this(indexName, tableName, columnName, method, metric, dims, rows, memoryBytes, buildSeconds, state, error, Map.of(), 0);
    }
}
