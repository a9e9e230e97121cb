package io.neurondb.plugins.slowquery;

import io.vertx.sqlclient.Tuple;

import java.time.ZoneOffset;

/**
 * The SQL of {@code neurondb.slow_queries}: the playbook's columns ({@code id}, {@code query},
 * {@code duration_ms}, {@code created_at}) and the capture's own. Created on first write,
 * schema included, so a database without the NeuronDB extension gets one too; the shim
 * creates its schema only if it is missing, and {@code DROP EXTENSION neurondb} drops the
 * table with the schema's other tables (it is created again on the next write).
 */
final class SlowQueryTable {

    private SlowQueryTable() {
    }

    static final String CREATE = """
            CREATE SCHEMA IF NOT EXISTS neurondb;
            CREATE TABLE IF NOT EXISTS neurondb.slow_queries (
                id               bigserial PRIMARY KEY,
                query            text NOT NULL,
                duration_ms      double precision NOT NULL,
                created_at       timestamptz NOT NULL DEFAULT now(),
                fingerprint      text NOT NULL,
                raw_query        text,
                rows             bigint,
                database         text,
                user_name        text,
                application_name text,
                client_addr      text,
                route            text,
                protocol         text,
                sqlstate         text,
                index_name       text,
                k                integer,
                ef_search        integer,
                probes           integer
            );
            COMMENT ON TABLE neurondb.slow_queries IS 'Statements slower than slow_query_threshold_ms, written by the NeuronDB proxy''s slow-query plugin (query text normalised: literals as $n)';
            CREATE INDEX IF NOT EXISTS slow_queries_created_at_idx ON neurondb.slow_queries (created_at);
            CREATE INDEX IF NOT EXISTS slow_queries_fingerprint_idx ON neurondb.slow_queries (fingerprint)
            """;

    static final String INSERT = """
            INSERT INTO neurondb.slow_queries (created_at, query, raw_query, fingerprint, duration_ms, rows, database,
                user_name, application_name, client_addr, route, protocol, sqlstate, index_name, k, ef_search, probes)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)""";

    /** Deletes records older than $1 days. */
    static final String RETENTION = "DELETE FROM neurondb.slow_queries WHERE created_at < now() - make_interval(days => $1)";

    static Tuple values(SlowQueryRecord r) {
        return Tuple.tuple()
                .addValue(r.createdAt().atOffset(ZoneOffset.UTC))
                .addValue(r.query())
                .addValue(r.rawQuery())
                .addValue(r.fingerprint())
                .addValue(r.durationMs())
                .addValue(r.rows() < 0 ? null : Long.valueOf(r.rows()))
                .addValue(r.database())
                .addValue(r.user())
                .addValue(r.applicationName())
                .addValue(r.clientAddress())
                .addValue(r.route())
                .addValue(r.protocol())
                .addValue(r.sqlState())
                .addValue(r.index())
                .addValue(r.k())
                .addValue(r.efSearch())
                .addValue(r.probes());
    }

    /** Errors after which the table is created again before the next write: no schema, no table. */
    static boolean missing(Throwable t) {
        return t instanceof io.vertx.pgclient.PgException pg && ("42P01".equals(pg.getSqlState()) || "3F000".equals(pg.getSqlState()));
    }
}
