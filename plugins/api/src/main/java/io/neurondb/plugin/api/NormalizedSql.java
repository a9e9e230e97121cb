package io.neurondb.plugin.api;

/**
 * A statement's text with its literals replaced by {@code $n}, and a fingerprint shared by
 * every statement that differs from it only in literals, spacing, comments or keyword case.
 * The proxy works both out when first asked (caching them for texts without literals), so an
 * observer that never asks pays nothing and one that asks should do so off the event loop.
 */
public interface NormalizedSql {

    /** The statement with literals as {@code $n}, comments dropped and runs of space as one. */
    String text();

    /** 16 lower-case hex digits (a 64-bit hash of the normalised token stream). */
    String fingerprint();
}
