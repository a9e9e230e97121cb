package io.neurondb.plugins.slowquery;

import java.time.Instant;

/**
 * One slow statement, as it goes into {@code neurondb.slow_queries}.
 *
 * @param createdAt   when the statement completed
 * @param query       the normalised text (literals as $n)
 * @param rawQuery    the text as sent, only with {@code log_raw_text: true}; else null
 * @param rows        rows returned or affected, -1 when the command reports none
 * @param sqlState    SQLSTATE of the error, null on success
 * @param index       engine index of a vector statement, null otherwise or when none served it
 */
record SlowQueryRecord(Instant createdAt, String query, String rawQuery, String fingerprint, double durationMs, long rows,
                       String database, String user, String applicationName, String clientAddress, String route,
                       String protocol, String sqlState, String index, Integer k, Integer efSearch, Integer probes) {
}
