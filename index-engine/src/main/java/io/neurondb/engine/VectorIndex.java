package io.neurondb.engine;

/**
 * A searchable set of float32 vectors keyed by caller row ids (table primary keys).
 * Implementations are thread-safe: inserts, deletes and searches may run concurrently.
 */
public interface VectorIndex {

    /**
     * Adds or replaces the vector of {@code rowId}; replacing is a delete followed by an insert.
     *
     * @throws VectorEngineException.InvalidVectorException on a wrong dimension count, NaN,
     *         infinity, or a zero vector under cosine
     */
    void insert(long rowId, float[] vector);

    /** Removes {@code rowId}; returns false if it was not present. */
    boolean delete(long rowId);

    /** The nearest rows to {@code query} among those {@code filter} accepts. */
    SearchResult search(float[] query, SearchParams params, RowFilter filter);

    default SearchResult search(float[] query, SearchParams params) {
        return search(query, params, RowFilter.ALL);
    }

    /** Whether {@code rowId} is present (inserted and not deleted). */
    boolean contains(long rowId);

    /** Number of live (not deleted) rows. */
    int size();

    /** Heap bytes held by this index, vectors included. */
    long memoryBytes();

    int dims();

    Metric metric();
}
