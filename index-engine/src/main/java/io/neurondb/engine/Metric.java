package io.neurondb.engine;

import io.neurondb.engine.VectorEngineException.InvalidParameterException;

import java.util.Locale;

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
    L1;

    /**
     * Parses a metric from a user-facing name: the enum name or pgvector's opclass suffix
     * ({@code l2}, {@code ip}, {@code cosine}, {@code l1}, {@code vector_l2_ops}, ...).
     */
    public static Metric fromName(String name) {
        if (name == null) {
            throw new InvalidParameterException("unknown distance metric: null");
        }
        String n = name.strip().toLowerCase(Locale.ROOT);
        if (n.startsWith("vector_") && n.endsWith("_ops")) {
            n = n.substring("vector_".length(), n.length() - "_ops".length());
        }
        return switch (n) {
            case "l2", "euclidean" -> L2;
            case "ip", "inner_product" -> INNER_PRODUCT;
            case "cosine" -> COSINE;
            case "l1", "manhattan" -> L1;
            default -> throw new InvalidParameterException("unknown distance metric: \"" + name + "\"");
        };
    }

    /**
     * Converts an internal distance to the value pgvector's operator reports: internal L2 is
     * squared (saves a sqrt per comparison; order is the same), the others are already final.
     */
    public float reported(float internal) {
        return this == L2 ? (float) Math.sqrt(internal) : internal;
    }
}
