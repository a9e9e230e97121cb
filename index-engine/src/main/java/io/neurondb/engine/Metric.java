package io.neurondb.engine;

/**
 * Distance metrics the engine understands, named after pgvector's operator classes.
 * Every metric is expressed as a distance: smaller is closer.
 */
public enum Metric {
    /** Squared Euclidean distance internally; {@code <->} reports its square root. */
    L2,
    /** Negative inner product, as pgvector's {@code <#>}. */
    INNER_PRODUCT,
    /** 1 - cosine similarity, as pgvector's {@code <=>}. */
    COSINE,
    /** Manhattan distance, as pgvector's {@code <+>}. */
    L1
}
