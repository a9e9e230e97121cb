package io.neurondb.plugin.api;

import java.time.Instant;

/**
 * One completed statement. {@code sql} is the statement text as the client sent it, which
 * may hold literals: observers that persist or export it must normalise it first. Bind
 * parameter values are never included.
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
        String sqlState) {

    public enum Protocol { SIMPLE, EXTENDED }

    /** The statement routes of the design: passed through, served from the engine, and so on. */
    public enum Route { PASSTHROUGH, VECTOR, REWRITTEN, ADMIN }

    public boolean succeeded() {
        return sqlState == null;
    }

    public double durationMillis() {
        return durationNanos / 1_000_000.0;
    }
}
