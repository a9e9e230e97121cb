package io.neurondb.plugin.api;

import java.time.Instant;

/**
 * One completed statement. {@code sql} is the statement text as the client sent it, which
 * may hold literals: observers that persist or export it must use {@link #normalizedSql()}
 * instead. Bind parameter values are never included.
 *
 * @param connectionId   the proxy's id for the client connection
 * @param database       database from the startup packet
 * @param user           user from the startup packet
 * @param applicationName application_name as last reported by the server, may be empty
 * @param clientAddress  remote address of the client
 * @param protocol       how the statement arrived
 * @param route          how the proxy handled it
 * @param sql            statement text
 * @param startedAt      when the proxy received the Query or Execute
 * @param durationNanos  from receipt to the completion the client sees
 * @param rows           rows returned or affected from the command tag, -1 if none
 * @param sqlState       SQLSTATE of the error, or null on success
 * @param normalized     the text without literals and its fingerprint (worked out when first
 *                       asked), or null when the producer did not supply it
 * @param vector         for a statement on the vector route: the index, k and search
 *                       settings used; else null
 */
public record StatementEvent(
        long connectionId,
        String database,
        String user,
        String applicationName,
        String clientAddress,
        Protocol protocol,
        Route route,
        String sql,
        Instant startedAt,
        long durationNanos,
        long rows,
        String sqlState,
        NormalizedSql normalized,
        VectorSearch vector) {

    public enum Protocol { SIMPLE, EXTENDED }

    /**
     * The statement routes of the design: {@code PASSTHROUGH} (the client's statement as
     * sent), {@code VECTOR} (a kNN statement served with the engine), {@code REWRITTEN}
     * (vector SQL rewritten for stock PostgreSQL), {@code ADMIN} (answered by the proxy).
     */
    public enum Route { PASSTHROUGH, VECTOR, REWRITTEN, ADMIN }

    /**
     * How a kNN statement searched.
     *
     * @param index    the engine index, schema-qualified, or null when no index could serve
     *                 (PostgreSQL computed the exact answer)
     * @param k        rows asked for (LIMIT plus OFFSET)
     * @param efSearch the HNSW search list size used, or null (not an HNSW search)
     * @param probes   the IVF lists probed, or null (not an IVF search)
     */
    public record VectorSearch(String index, int k, Integer efSearch, Integer probes) {
    }

    /** Without the normalised text and vector details (producers other than the proxy, tests). */
    public StatementEvent(long connectionId, String database, String user, String applicationName, String clientAddress,
                          Protocol protocol, Route route, String sql, Instant startedAt, long durationNanos, long rows,
                          String sqlState) {
        this(connectionId, database, user, applicationName, clientAddress, protocol, route, sql, startedAt,
                durationNanos, rows, sqlState, null, null);
    }

    public boolean succeeded() {
        return sqlState == null;
    }

    public double durationMillis() {
        return durationNanos / 1_000_000.0;
    }

    /** The text with literals as {@code $n}, or null when not supplied. May tokenize on first call. */
    public String normalizedSql() {
        return normalized == null ? null : normalized.text();
    }

    /** 16 hex digits shared by statements differing only in literals, or null when not supplied. */
    public String fingerprint() {
        return normalized == null ? null : normalized.fingerprint();
    }

    /** The engine index of a vector statement, or null. */
    public String index() {
        return vector == null ? null : vector.index();
    }

    /** k of a vector statement, or null. */
    public Integer k() {
        return vector == null ? null : vector.k();
    }

    public Integer efSearch() {
        return vector == null ? null : vector.efSearch();
    }

    public Integer probes() {
        return vector == null ? null : vector.probes();
    }
}
