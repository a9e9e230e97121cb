package io.neurondb.proxy.vectors;

/**
 * One row of {@code neurondb.index_stats()}.
 *
 * @param tableName  schema-qualified
 * @param metric     l2, ip, cosine or l1
 * @param dims       the indexed dimension count, 0 when not known yet
 * @param error      the last build's error message when {@code state} is failed, else null
 */
public record IndexStatus(String indexName, String tableName, String columnName, String method, String metric,
                          int dims, long rows, long memoryBytes, double buildSeconds, IndexState state, String error) {
}
