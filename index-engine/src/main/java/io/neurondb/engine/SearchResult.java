package io.neurondb.engine;

import java.util.Arrays;

/**
 * Nearest rows of one query, nearest first: parallel arrays of caller row ids and distances in
 * pgvector's reported form (L2 is the real Euclidean distance, inner product is negated,
 * cosine is 1 - similarity).
 */
public record SearchResult(long[] rowIds, float[] distances) {

    public static final SearchResult EMPTY = new SearchResult(new long[0], new float[0]);

    public int size() {
        return rowIds.length;
    }

    @Override
    public String toString() {
        return "SearchResult" + Arrays.toString(rowIds);
    }
}
