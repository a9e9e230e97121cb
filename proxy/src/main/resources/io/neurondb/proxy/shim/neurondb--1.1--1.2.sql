-- NeuronDB SQL shim: migration 1.1 -> 1.2.
--
-- Run by ShimScripts.install (fresh installs run the base script, then every migration) and
-- by ShimScripts.update (ALTER EXTENSION neurondb UPDATE), inside the caller's transaction.
-- The version row is set by the caller after this script. The extschema placeholder is not used.

-- index_stats() gains the replication sync's position and lag (issue 5, item 6). A function's
-- result columns cannot be changed in place, so both forms are dropped and created again.
-- applied_lsn is text in pg_lsn form ('0/16B3748'; cast with ::pg_lsn); it and the lag
-- columns are NULL when the database's indexes do not follow the tables through replication.
DROP FUNCTION neurondb.index_stats();
DROP FUNCTION neurondb.index_stats(jsonb);

CREATE FUNCTION neurondb.index_stats()
RETURNS TABLE (index_name text, table_name text, column_name text, method text, metric text, dims integer,
               "rows" bigint, memory_bytes bigint, build_seconds double precision, state text,
               applied_lsn text, lag_bytes bigint, lag_seconds double precision)
LANGUAGE plpgsql VOLATILE AS $fn$
BEGIN
    RAISE EXCEPTION 'neurondb.index_stats() is answered by the NeuronDB proxy, not by PostgreSQL'
        USING ERRCODE = '0A000', HINT = 'Connect through the NeuronDB proxy and run it there.';
END
$fn$;

-- Statements that do more with index_stats() than SELECT * run in PostgreSQL: the proxy
-- passes its current figures as one jsonb parameter and calls this.
CREATE FUNCTION neurondb.index_stats(stats jsonb)
RETURNS TABLE (index_name text, table_name text, column_name text, method text, metric text, dims integer,
               "rows" bigint, memory_bytes bigint, build_seconds double precision, state text,
               applied_lsn text, lag_bytes bigint, lag_seconds double precision)
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT * FROM pg_catalog.jsonb_to_recordset(stats)
        AS s(index_name text, table_name text, column_name text, method text, metric text, dims integer,
             "rows" bigint, memory_bytes bigint, build_seconds double precision, state text,
             applied_lsn text, lag_bytes bigint, lag_seconds double precision)
$fn$;
