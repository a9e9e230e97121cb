-- NeuronDB SQL shim, version 1.0: the base install.
--
-- Sent by the proxy, in place of CREATE EXTENSION neurondb / vector, as part of one
-- simple-protocol Query (one implicit transaction: no BEGIN/COMMIT here, all or nothing).
-- Everything is an ordinary schema object, so pg_dump carries it.
--
-- Two placeholders, each the word between at-signs, are substituted by
-- io.neurondb.proxy.shim.ShimScripts before sending (never written in a comment here: a
-- schema name may contain a newline):
--   extschema          the target schema, quoted as an identifier
--   extschema_literal  the target schema's name as a string literal
-- The catalog always lives in schema neurondb; the pgvector-compatible functions and
-- operators live in the target schema (pgvector applications call them unqualified).
--
-- Every reference to another object of the shim is schema-qualified: pg_dump restores with
-- an empty search_path, and CHECK constraints call neurondb.vector_check while it does.

-- IF NOT EXISTS: the slow-query plugin may have made the schema for neurondb.slow_queries first.
CREATE SCHEMA IF NOT EXISTS neurondb;
COMMENT ON SCHEMA neurondb IS 'NeuronDB catalog and helpers (installed by the NeuronDB proxy)';
-- Like an extension's objects: every role may call the functions (CHECK constraints on
-- vector columns call neurondb.vector_check for whoever inserts) and read the catalog.
GRANT USAGE ON SCHEMA neurondb TO PUBLIC;

-- ---------------------------------------------------------------------------------------
-- Catalog
-- ---------------------------------------------------------------------------------------

CREATE TABLE neurondb.extension (
    version       text        NOT NULL,
    target_schema name        NOT NULL,
    installed_at  timestamptz NOT NULL DEFAULT now()
);
-- At most one row.
CREATE UNIQUE INDEX extension_singleton ON neurondb.extension ((true));
COMMENT ON TABLE neurondb.extension IS 'The installed shim: catalog version (drives migrations) and the schema holding its functions and operators';

INSERT INTO neurondb.extension (version, target_schema) VALUES ('1.0', @extschema_literal@);

-- Functions and operators the install created in the target schema, so DROP EXTENSION
-- removes exactly those (and works for any target schema).
CREATE TABLE neurondb.objects (
    kind  text NOT NULL CHECK (kind IN ('function', 'operator', 'type')),
    name  name NOT NULL,
    args  text NOT NULL,
    PRIMARY KEY (kind, name, args)
);
COMMENT ON TABLE neurondb.objects IS 'Functions, operators and types of the shim in the target schema (dropped with the shim)';

CREATE TABLE neurondb.vector_columns (
    table_name  regclass NOT NULL,
    column_name name     NOT NULL,
    dims        integer  NULL,  -- NULL: any number of dimensions
    PRIMARY KEY (table_name, column_name)
);
COMMENT ON TABLE neurondb.vector_columns IS 'Columns declared vector(n), stored as real[]';

CREATE TABLE neurondb.indexes (
    schema_name name        NOT NULL,
    index_name  name        NOT NULL,
    table_name  regclass    NOT NULL,
    column_name name        NOT NULL,
    key_column  name        NOT NULL,
    method      text        NOT NULL CHECK (method IN ('hnsw', 'ivfflat')),
    opclass     text        NOT NULL CHECK (opclass IN ('vector_l2_ops', 'vector_ip_ops', 'vector_cosine_ops', 'vector_l1_ops')),
    options     jsonb       NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (schema_name, index_name)
);
COMMENT ON TABLE neurondb.indexes IS 'Vector index definitions served by the NeuronDB proxy (rebuilt from the tables after a restore)';

GRANT SELECT ON neurondb.extension, neurondb.objects, neurondb.vector_columns, neurondb.indexes TO PUBLIC;

-- The proxy records vector columns and indexes on the client's own connection, in the
-- client's transaction, whatever role the client logs in as. Roles get no write access to
-- the catalog: they go through these functions, which run as the catalog's owner and accept
-- only tables the calling role owns (as PostgreSQL requires for CREATE INDEX / ALTER TABLE).
-- Rows of dropped tables (their regclass no longer resolves) are cleared on the way.
CREATE FUNCTION neurondb.check_table_owner(t regclass) RETURNS void
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c
                    WHERE c.oid = t AND pg_catalog.pg_has_role(current_user, c.relowner, 'USAGE')) THEN
        RAISE EXCEPTION 'must be owner of table %', t USING ERRCODE = '42501';
    END IF;
END
$$;

CREATE FUNCTION neurondb.register_vector_column(t regclass, col name, dims integer) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
    PERFORM neurondb.check_table_owner(t);
    DELETE FROM neurondb.vector_columns v
     WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = v.table_name);
    INSERT INTO neurondb.vector_columns (table_name, column_name, dims) VALUES (t, col, dims)
        ON CONFLICT (table_name, column_name) DO UPDATE SET dims = EXCLUDED.dims;
END
$$;

CREATE FUNCTION neurondb.register_index(schema_name name, index_name name, t regclass, col name, key_column name,
                                        method text, opclass text, options jsonb) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
    PERFORM neurondb.check_table_owner(t);
    DELETE FROM neurondb.indexes i
     WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = i.table_name);
    INSERT INTO neurondb.indexes (schema_name, index_name, table_name, column_name, key_column, method, opclass, options)
        VALUES (register_index.schema_name, register_index.index_name, t, col, register_index.key_column,
                register_index.method, register_index.opclass, register_index.options);
EXCEPTION WHEN unique_violation THEN
    RAISE EXCEPTION 'relation "%" already exists', register_index.index_name USING ERRCODE = '42P07';
END
$$;

CREATE FUNCTION neurondb.unregister_index(schema_name name, index_name name) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
    t regclass;
BEGIN
    SELECT i.table_name INTO t FROM neurondb.indexes i
     WHERE i.schema_name = unregister_index.schema_name AND i.index_name = unregister_index.index_name;
    IF t IS NULL THEN
        RETURN;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = t) THEN
        PERFORM neurondb.check_table_owner(t);
    END IF;
    DELETE FROM neurondb.indexes i
     WHERE i.schema_name = unregister_index.schema_name AND i.index_name = unregister_index.index_name;
END
$$;

-- DROP TABLE through the proxy: its catalog rows go in the same transaction (NULL, from
-- to_regclass of a table that does not exist, is a no-op).
CREATE FUNCTION neurondb.unregister_table(t regclass) RETURNS void
    LANGUAGE plpgsql VOLATILE STRICT SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
    PERFORM neurondb.check_table_owner(t);
    DELETE FROM neurondb.indexes i WHERE i.table_name = t;
    DELETE FROM neurondb.vector_columns v WHERE v.table_name = t;
END
$$;

REVOKE ALL ON FUNCTION neurondb.check_table_owner(regclass),
    neurondb.unregister_table(regclass),
    neurondb.register_vector_column(regclass, name, integer),
    neurondb.register_index(name, name, regclass, name, name, text, text, jsonb),
    neurondb.unregister_index(name, name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION neurondb.register_vector_column(regclass, name, integer),
    neurondb.unregister_table(regclass),
    neurondb.register_index(name, name, regclass, name, name, text, text, jsonb),
    neurondb.unregister_index(name, name) TO PUBLIC;

-- ---------------------------------------------------------------------------------------
-- Validation helpers (errors read like pgvector's)
-- ---------------------------------------------------------------------------------------

-- Raises the error pgvector would for a value that cannot be a vector; returns true otherwise.
CREATE FUNCTION neurondb.check_vector(v real[]) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
DECLARE
    n integer := pg_catalog.cardinality(v);
BEGIN
    IF n = 0 THEN
        RAISE EXCEPTION 'vector must have at least 1 dimension' USING ERRCODE = '22000';
    END IF;
    IF pg_catalog.array_ndims(v) <> 1 THEN
        RAISE EXCEPTION 'array must be 1-D' USING ERRCODE = '22000',
            DETAIL = pg_catalog.format('A vector is a one-dimensional real[]; this one has %s dimensions.', pg_catalog.array_ndims(v));
    END IF;
    IF pg_catalog.array_position(v, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'array must not contain nulls' USING ERRCODE = '22000',
            DETAIL = pg_catalog.format('Element %s of the vector is NULL.', pg_catalog.array_position(v, NULL));
    END IF;
    IF 'NaN'::real = ANY (v) THEN
        RAISE EXCEPTION 'NaN not allowed in vector' USING ERRCODE = '22000';
    END IF;
    IF 'Infinity'::real = ANY (v) OR '-Infinity'::real = ANY (v) THEN
        RAISE EXCEPTION 'infinite value not allowed in vector' USING ERRCODE = '22000';
    END IF;
    IF n > 16000 THEN
        RAISE EXCEPTION 'vector cannot have more than 16000 dimensions' USING ERRCODE = '54000';
    END IF;
    RETURN true;
END
$fn$;

-- For distance functions, on their slow path only: raises for operands that are not two
-- vectors of the same dimensions.
CREATE FUNCTION neurondb.check_pair(a real[], b real[]) RETURNS void
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
BEGIN
    PERFORM neurondb.check_vector(a);
    PERFORM neurondb.check_vector(b);
    IF pg_catalog.cardinality(a) <> pg_catalog.cardinality(b) THEN
        RAISE EXCEPTION 'different vector dimensions % and %', pg_catalog.cardinality(a), pg_catalog.cardinality(b)
            USING ERRCODE = '22000';
    END IF;
END
$fn$;

-- For CHECK constraints on vector(n) columns stored as real[]:
--   CHECK (neurondb.vector_check(embedding, 3))
-- NULL is accepted (like any CHECK); dims NULL means any number of dimensions.
CREATE FUNCTION neurondb.vector_check(v real[], dims integer) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
BEGIN
    IF v IS NULL THEN
        RETURN true;
    END IF;
    PERFORM neurondb.check_vector(v);
    IF dims IS NOT NULL AND pg_catalog.cardinality(v) <> dims THEN
        RAISE EXCEPTION 'expected % dimensions, not %', dims, pg_catalog.cardinality(v) USING ERRCODE = '22000';
    END IF;
    RETURN true;
END
$fn$;

-- A pgvector text literal '[1,2,3]' as real[], validated the way pgvector's vector_in does.
-- The cost is set high so that the planner prefers plans where a constant or parameter
-- literal is converted once (custom plans fold it) over converting it on every row.
CREATE FUNCTION neurondb.to_vector(lit text) RETURNS real[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 10000 AS $fn$
DECLARE
    inner_text text;
    elems text[];
    e text;
    x numeric;
    result real[] := '{}';
BEGIN
    IF lit !~ '^[ \t\n\r\v\f]*\[.*\][ \t\n\r\v\f]*$' THEN
        RAISE EXCEPTION 'invalid input syntax for type vector: "%"', lit USING ERRCODE = '22P02';
    END IF;
    inner_text := substring(lit FROM '^[ \t\n\r\v\f]*\[(.*)\][ \t\n\r\v\f]*$');
    IF inner_text ~ '^[ \t\n\r\v\f]*$' THEN
        RAISE EXCEPTION 'vector must have at least 1 dimension' USING ERRCODE = '22000';
    END IF;
    -- Fast path: plain decimals (no exponent, no special values, nothing long enough to
    -- overflow or underflow a real), converted in one go by the array input function.
    IF inner_text ~ '^[ \t\n\r\v\f]*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([ \t\n\r\v\f]*,[ \t\n\r\v\f]*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+))*[ \t\n\r\v\f]*$'
       AND inner_text !~ '[0-9]{39}' THEN
        result := ('{' || inner_text || '}')::real[];
    ELSE
        elems := pg_catalog.string_to_array(inner_text, ',');
        FOREACH e IN ARRAY elems LOOP
            e := pg_catalog.btrim(e, E' \t\n\r\v\f');
            IF e !~* '^[+-]?(([0-9]+\.?[0-9]*|\.[0-9]+)(e[+-]?[0-9]+)?|nan|inf|infinity)$' THEN
                RAISE EXCEPTION 'invalid input syntax for type vector: "%"', lit USING ERRCODE = '22P02';
            END IF;
            IF e ~* 'nan' THEN
                RAISE EXCEPTION 'NaN not allowed in vector' USING ERRCODE = '22000';
            END IF;
            IF e ~* 'inf' THEN
                RAISE EXCEPTION 'infinite value not allowed in vector' USING ERRCODE = '22000';
            END IF;
            x := e::numeric;
            IF pg_catalog.abs(x) > 3.4028234664e38 THEN
                RAISE EXCEPTION '"%" is out of range for type vector', e USING ERRCODE = '22003';
            END IF;
            IF pg_catalog.abs(x) < 1e-45 THEN
                x := 0;  -- underflows to zero, as strtof does
            END IF;
            result := result || x::float8::real;
        END LOOP;
    END IF;
    PERFORM neurondb.check_vector(result);
    RETURN result;
END
$fn$;

-- ---------------------------------------------------------------------------------------
-- Distance functions (pgvector semantics, computed in double precision)
--
-- One-accumulator PL/pgSQL loops: measured faster than the SQL form
--   SELECT sqrt(sum((x::float8 - y) * (x::float8 - y))) FROM unnest(a, b) t(x, y)
-- (20,000 rows x 384 dims, exact ORDER BY ... LIMIT 5 on one idle core: inner product and
-- L1 about 0.65-0.7 s, L2 0.9 s, against 1.2 s for that SQL form of L2; interleaved runs on
-- 5,000 rows under load: L2 loop 272 ms, SQL 329 ms, best of five).
-- The fast path assumes two vectors of equal length indexed from 1; anything else (other
-- lower bounds, other lengths, more dimensions, empty) takes the slow path, which raises
-- pgvector's errors or rebases the arrays. A NULL element makes the sum NULL, which is
-- caught after the loop, so the fast path pays nothing for it.
-- ---------------------------------------------------------------------------------------

CREATE FUNCTION neurondb.impl_l2_distance(a real[], b real[]) RETURNS float8
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 1000 AS $fn$
DECLARE
    n integer := pg_catalog.cardinality(a);
    s float8 := 0;
    d float8;
BEGIN
    IF pg_catalog.array_upper(a, 1) IS DISTINCT FROM n OR pg_catalog.array_upper(b, 1) IS DISTINCT FROM n THEN
        PERFORM neurondb.check_pair(a, b);
        a := a[pg_catalog.array_lower(a, 1):pg_catalog.array_upper(a, 1)];
        b := b[pg_catalog.array_lower(b, 1):pg_catalog.array_upper(b, 1)];
    END IF;
    FOR i IN 1..n LOOP
        d := a[i]::float8 - b[i];  -- two statements, two element fetches: faster than one with four
        s := s + d * d;
    END LOOP;
    IF s IS NULL THEN
        PERFORM neurondb.check_pair(a, b);
    END IF;
    RETURN pg_catalog.sqrt(s);
END
$fn$;

CREATE FUNCTION neurondb.impl_inner_product(a real[], b real[]) RETURNS float8
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 1000 AS $fn$
DECLARE
    n integer := pg_catalog.cardinality(a);
    s float8 := 0;
BEGIN
    IF pg_catalog.array_upper(a, 1) IS DISTINCT FROM n OR pg_catalog.array_upper(b, 1) IS DISTINCT FROM n THEN
        PERFORM neurondb.check_pair(a, b);
        a := a[pg_catalog.array_lower(a, 1):pg_catalog.array_upper(a, 1)];
        b := b[pg_catalog.array_lower(b, 1):pg_catalog.array_upper(b, 1)];
    END IF;
    FOR i IN 1..n LOOP
        s := s + a[i]::float8 * b[i];
    END LOOP;
    IF s IS NULL THEN
        PERFORM neurondb.check_pair(a, b);
    END IF;
    RETURN s;
END
$fn$;

-- pgvector's vector_negative_inner_product: what <#> computes (smaller is closer).
CREATE FUNCTION neurondb.impl_negative_inner_product(a real[], b real[]) RETURNS float8
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 1000 AS $fn$
DECLARE
    n integer := pg_catalog.cardinality(a);
    s float8 := 0;
BEGIN
    IF pg_catalog.array_upper(a, 1) IS DISTINCT FROM n OR pg_catalog.array_upper(b, 1) IS DISTINCT FROM n THEN
        PERFORM neurondb.check_pair(a, b);
        a := a[pg_catalog.array_lower(a, 1):pg_catalog.array_upper(a, 1)];
        b := b[pg_catalog.array_lower(b, 1):pg_catalog.array_upper(b, 1)];
    END IF;
    FOR i IN 1..n LOOP
        s := s + a[i]::float8 * b[i];
    END LOOP;
    IF s IS NULL THEN
        PERFORM neurondb.check_pair(a, b);
    END IF;
    RETURN -s;
END
$fn$;

-- 1 - cos(a, b), clamped to [0, 2] like pgvector; NaN when either norm is 0 (pgvector divides
-- by zero in floating point and returns NaN; PostgreSQL's float8 division would raise).
-- Three sums in one pass: here the SQL aggregate over unnest(a, b) measured faster than a
-- PL/pgSQL loop with three accumulators (1.2-1.3 s against 1.9 s for 20,000 x 384 dims).
-- Operands that are not two equal-length, NULL-free vectors indexed from 1 go to
-- cosine_distance_slow, which raises pgvector's error or rebases them.
CREATE FUNCTION neurondb.cosine_distance_slow(a real[], b real[]) RETURNS float8
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
BEGIN
    PERFORM neurondb.check_pair(a, b);
    RETURN neurondb.impl_cosine_distance(a[pg_catalog.array_lower(a, 1):pg_catalog.array_upper(a, 1)],
                                         b[pg_catalog.array_lower(b, 1):pg_catalog.array_upper(b, 1)]);
END
$fn$;

CREATE FUNCTION neurondb.impl_cosine_distance(a real[], b real[]) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 1000 AS $fn$
SELECT CASE
    WHEN pg_catalog.array_upper(a, 1) IS DISTINCT FROM pg_catalog.cardinality(a)
      OR pg_catalog.array_upper(b, 1) IS DISTINCT FROM pg_catalog.cardinality(a)
      OR pg_catalog.array_position(a, NULL) IS NOT NULL
      OR pg_catalog.array_position(b, NULL) IS NOT NULL
    THEN neurondb.cosine_distance_slow(a, b)
    ELSE (SELECT CASE WHEN s.na = 0 OR s.nb = 0 THEN 'NaN'::float8
                      ELSE 1 - GREATEST(-1::float8, LEAST(1::float8, s.dot / pg_catalog.sqrt(s.na * s.nb))) END
          FROM (SELECT pg_catalog.sum(x::float8 * y) AS dot, pg_catalog.sum(x::float8 * x) AS na, pg_catalog.sum(y::float8 * y) AS nb
                FROM unnest(a, b) AS t(x, y)) AS s)
END
$fn$;

CREATE FUNCTION neurondb.impl_l1_distance(a real[], b real[]) RETURNS float8
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 1000 AS $fn$
DECLARE
    n integer := pg_catalog.cardinality(a);
    s float8 := 0;
BEGIN
    IF pg_catalog.array_upper(a, 1) IS DISTINCT FROM n OR pg_catalog.array_upper(b, 1) IS DISTINCT FROM n THEN
        PERFORM neurondb.check_pair(a, b);
        a := a[pg_catalog.array_lower(a, 1):pg_catalog.array_upper(a, 1)];
        b := b[pg_catalog.array_lower(b, 1):pg_catalog.array_upper(b, 1)];
    END IF;
    FOR i IN 1..n LOOP
        s := s + pg_catalog.abs(a[i]::float8 - b[i]);
    END LOOP;
    IF s IS NULL THEN
        PERFORM neurondb.check_pair(a, b);
    END IF;
    RETURN s;
END
$fn$;

CREATE FUNCTION neurondb.impl_vector_dims(v real[]) RETURNS integer
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
BEGIN
    PERFORM neurondb.check_vector(v);
    RETURN pg_catalog.cardinality(v);
END
$fn$;

CREATE FUNCTION neurondb.impl_vector_norm(v real[]) RETURNS float8
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 1000 AS $fn$
DECLARE
    s float8 := 0;
    x float8;
BEGIN
    FOREACH x IN ARRAY v LOOP
        s := s + x * x;
    END LOOP;
    IF s IS NULL OR pg_catalog.array_ndims(v) IS DISTINCT FROM 1 THEN
        PERFORM neurondb.check_vector(v);
    END IF;
    RETURN pg_catalog.sqrt(s);
END
$fn$;

-- v / |v|; a zero vector stays zero (as in pgvector).
CREATE FUNCTION neurondb.impl_l2_normalize(v real[]) RETURNS real[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 1000 AS $fn$
DECLARE
    s float8 := 0;
    x float8;
    result real[] := '{}';
BEGIN
    PERFORM neurondb.check_vector(v);
    FOREACH x IN ARRAY v LOOP
        s := s + x * x;
    END LOOP;
    IF s = 0 THEN
        FOREACH x IN ARRAY v LOOP
            result := result || 0::real;
        END LOOP;
        RETURN result;
    END IF;
    s := pg_catalog.sqrt(s);
    FOREACH x IN ARRAY v LOOP
        result := result || (x / s)::real;
    END LOOP;
    RETURN result;
END
$fn$;

-- ---------------------------------------------------------------------------------------
-- The pgvector functions, in the target schema. They are one-line SQL wrappers that the
-- planner inlines (no call overhead), and they reference only neurondb.* objects, so the
-- target schema's name appears in no function body.
-- ---------------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.l2_distance(a real[], b real[]) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS 'SELECT neurondb.impl_l2_distance(a, b)';
CREATE FUNCTION @extschema@.inner_product(a real[], b real[]) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS 'SELECT neurondb.impl_inner_product(a, b)';
CREATE FUNCTION @extschema@.cosine_distance(a real[], b real[]) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS 'SELECT neurondb.impl_cosine_distance(a, b)';
CREATE FUNCTION @extschema@.l1_distance(a real[], b real[]) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS 'SELECT neurondb.impl_l1_distance(a, b)';
CREATE FUNCTION @extschema@.vector_dims(v real[]) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS 'SELECT neurondb.impl_vector_dims(v)';
CREATE FUNCTION @extschema@.vector_norm(v real[]) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS 'SELECT neurondb.impl_vector_norm(v)';
CREATE FUNCTION @extschema@.l2_normalize(v real[]) RETURNS real[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS 'SELECT neurondb.impl_l2_normalize(v)';

-- Text overloads: pgvector applications pass vector literals, l2_distance(embedding, '[1,2,3]').
-- An untyped literal resolves to the text overload (PostgreSQL prefers the string category).
CREATE FUNCTION @extschema@.l2_distance(a real[], b text) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
'SELECT neurondb.impl_l2_distance(a, neurondb.to_vector(b))';
CREATE FUNCTION @extschema@.l2_distance(a text, b real[]) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
'SELECT neurondb.impl_l2_distance(neurondb.to_vector(a), b)';
CREATE FUNCTION @extschema@.l2_distance(a text, b text) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
'SELECT neurondb.impl_l2_distance(neurondb.to_vector(a), neurondb.to_vector(b))';

CREATE FUNCTION @extschema@.inner_product(a real[], b text) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
'SELECT neurondb.impl_inner_product(a, neurondb.to_vector(b))';
CREATE FUNCTION @extschema@.inner_product(a text, b real[]) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
'SELECT neurondb.impl_inner_product(neurondb.to_vector(a), b)';
CREATE FUNCTION @extschema@.inner_product(a text, b text) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
'SELECT neurondb.impl_inner_product(neurondb.to_vector(a), neurondb.to_vector(b))';

CREATE FUNCTION @extschema@.cosine_distance(a real[], b text) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
'SELECT neurondb.impl_cosine_distance(a, neurondb.to_vector(b))';
CREATE FUNCTION @extschema@.cosine_distance(a text, b real[]) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
'SELECT neurondb.impl_cosine_distance(neurondb.to_vector(a), b)';
CREATE FUNCTION @extschema@.cosine_distance(a text, b text) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
'SELECT neurondb.impl_cosine_distance(neurondb.to_vector(a), neurondb.to_vector(b))';

CREATE FUNCTION @extschema@.l1_distance(a real[], b text) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
'SELECT neurondb.impl_l1_distance(a, neurondb.to_vector(b))';
CREATE FUNCTION @extschema@.l1_distance(a text, b real[]) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
'SELECT neurondb.impl_l1_distance(neurondb.to_vector(a), b)';
CREATE FUNCTION @extschema@.l1_distance(a text, b text) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
'SELECT neurondb.impl_l1_distance(neurondb.to_vector(a), neurondb.to_vector(b))';

CREATE FUNCTION @extschema@.vector_dims(v text) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
'SELECT neurondb.impl_vector_dims(neurondb.to_vector(v))';
CREATE FUNCTION @extschema@.vector_norm(v text) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
'SELECT neurondb.impl_vector_norm(neurondb.to_vector(v))';
CREATE FUNCTION @extschema@.l2_normalize(v text) RETURNS real[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
'SELECT neurondb.impl_l2_normalize(neurondb.to_vector(v))';

-- ---------------------------------------------------------------------------------------
-- Operators
--
-- The right operand is declared anyarray (not real[]) on purpose. With an operator on
-- (real[], real[]), PostgreSQL resolves  embedding <-> '[1,2,3]'  by giving the untyped
-- literal the other side's type before anything else, so '[1,2,3]' is parsed as a real[]
-- and fails. Without that exact match, the untyped literal goes to the (real[], text)
-- operator (string category preferred), while real[] operands (and int[], float8[],
-- numeric[] ones) go to (real[], anyarray) and are converted to real[].
-- ---------------------------------------------------------------------------------------

CREATE FUNCTION neurondb.op_l2_distance(a real[], b anyarray) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS 'SELECT neurondb.impl_l2_distance(a, b::real[])';
CREATE FUNCTION neurondb.op_negative_inner_product(a real[], b anyarray) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS 'SELECT neurondb.impl_negative_inner_product(a, b::real[])';
CREATE FUNCTION neurondb.op_cosine_distance(a real[], b anyarray) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS 'SELECT neurondb.impl_cosine_distance(a, b::real[])';
CREATE FUNCTION neurondb.op_l1_distance(a real[], b anyarray) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS 'SELECT neurondb.impl_l1_distance(a, b::real[])';

CREATE FUNCTION neurondb.op_l2_distance(a real[], b text) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS 'SELECT neurondb.impl_l2_distance(a, neurondb.to_vector(b))';
CREATE FUNCTION neurondb.op_l2_distance(a text, b real[]) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS 'SELECT neurondb.impl_l2_distance(neurondb.to_vector(a), b)';
CREATE FUNCTION neurondb.op_cosine_distance(a real[], b text) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS 'SELECT neurondb.impl_cosine_distance(a, neurondb.to_vector(b))';
CREATE FUNCTION neurondb.op_cosine_distance(a text, b real[]) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS 'SELECT neurondb.impl_cosine_distance(neurondb.to_vector(a), b)';
CREATE FUNCTION neurondb.op_l1_distance(a real[], b text) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS 'SELECT neurondb.impl_l1_distance(a, neurondb.to_vector(b))';
CREATE FUNCTION neurondb.op_l1_distance(a text, b real[]) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS 'SELECT neurondb.impl_l1_distance(neurondb.to_vector(a), b)';
CREATE FUNCTION neurondb.op_negative_inner_product(a real[], b text) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS 'SELECT neurondb.impl_negative_inner_product(a, neurondb.to_vector(b))';
CREATE FUNCTION neurondb.op_negative_inner_product(a text, b real[]) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS 'SELECT neurondb.impl_negative_inner_product(neurondb.to_vector(a), b)';

CREATE OPERATOR @extschema@.<-> (LEFTARG = real[], RIGHTARG = anyarray, FUNCTION = neurondb.op_l2_distance);
CREATE OPERATOR @extschema@.<-> (LEFTARG = real[], RIGHTARG = text, FUNCTION = neurondb.op_l2_distance);
CREATE OPERATOR @extschema@.<-> (LEFTARG = text, RIGHTARG = real[], FUNCTION = neurondb.op_l2_distance);

CREATE OPERATOR @extschema@.<#> (LEFTARG = real[], RIGHTARG = anyarray, FUNCTION = neurondb.op_negative_inner_product);
CREATE OPERATOR @extschema@.<#> (LEFTARG = real[], RIGHTARG = text, FUNCTION = neurondb.op_negative_inner_product);
CREATE OPERATOR @extschema@.<#> (LEFTARG = text, RIGHTARG = real[], FUNCTION = neurondb.op_negative_inner_product);

CREATE OPERATOR @extschema@.<=> (LEFTARG = real[], RIGHTARG = anyarray, FUNCTION = neurondb.op_cosine_distance);
CREATE OPERATOR @extschema@.<=> (LEFTARG = real[], RIGHTARG = text, FUNCTION = neurondb.op_cosine_distance);
CREATE OPERATOR @extschema@.<=> (LEFTARG = text, RIGHTARG = real[], FUNCTION = neurondb.op_cosine_distance);

CREATE OPERATOR @extschema@.<+> (LEFTARG = real[], RIGHTARG = anyarray, FUNCTION = neurondb.op_l1_distance);
CREATE OPERATOR @extschema@.<+> (LEFTARG = real[], RIGHTARG = text, FUNCTION = neurondb.op_l1_distance);
CREATE OPERATOR @extschema@.<+> (LEFTARG = text, RIGHTARG = real[], FUNCTION = neurondb.op_l1_distance);

-- ---------------------------------------------------------------------------------------
-- NeuronDB's own functions
-- ---------------------------------------------------------------------------------------

CREATE FUNCTION neurondb.version() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS 'SELECT version FROM neurondb.extension';

-- The proxy answers these itself (it knows the devices and the in-memory indexes). They
-- exist in PostgreSQL so the names resolve, psql's \df and pg_dump see them, and a client
-- that bypasses the proxy gets a clear error instead of "function does not exist".
CREATE FUNCTION neurondb.gpu_enabled() RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $fn$
BEGIN
    RAISE EXCEPTION 'neurondb.gpu_enabled() is answered by the NeuronDB proxy, not by PostgreSQL'
        USING ERRCODE = '0A000', HINT = 'Connect through the NeuronDB proxy and run it there.';
END
$fn$;

CREATE FUNCTION neurondb.gpu_device_count() RETURNS integer
LANGUAGE plpgsql VOLATILE AS $fn$
BEGIN
    RAISE EXCEPTION 'neurondb.gpu_device_count() is answered by the NeuronDB proxy, not by PostgreSQL'
        USING ERRCODE = '0A000', HINT = 'Connect through the NeuronDB proxy and run it there.';
END
$fn$;

CREATE FUNCTION neurondb.index_stats()
RETURNS TABLE (index_name text, table_name text, column_name text, method text, metric text, dims integer,
               "rows" bigint, memory_bytes bigint, build_seconds double precision, state text)
LANGUAGE plpgsql VOLATILE AS $fn$
BEGIN
    RAISE EXCEPTION 'neurondb.index_stats() is answered by the NeuronDB proxy, not by PostgreSQL'
        USING ERRCODE = '0A000', HINT = 'Connect through the NeuronDB proxy and run it there.';
END
$fn$;

-- Statements that do more with index_stats() than SELECT * (pick columns, filter, join) run
-- in PostgreSQL: the proxy passes its current figures as one jsonb parameter and calls this.
CREATE FUNCTION neurondb.index_stats(stats jsonb)
RETURNS TABLE (index_name text, table_name text, column_name text, method text, metric text, dims integer,
               "rows" bigint, memory_bytes bigint, build_seconds double precision, state text)
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT * FROM pg_catalog.jsonb_to_recordset(stats)
        AS s(index_name text, table_name text, column_name text, method text, metric text, dims integer,
             "rows" bigint, memory_bytes bigint, build_seconds double precision, state text)
$fn$;

-- The proxy's kNN rewrite adds  AND neurondb.no_parallel()  to its WHERE clause. The
-- rewritten query is a UNION ALL of candidate branches whose rows must come back in branch
-- order; a PARALLEL UNSAFE function anywhere in a query makes the planner keep the whole
-- query serial (no Gather / Parallel Append, which would interleave the branches). STABLE,
-- not IMMUTABLE, so the planner cannot fold the call away.
CREATE FUNCTION neurondb.no_parallel() RETURNS boolean
LANGUAGE sql STABLE PARALLEL UNSAFE AS 'SELECT true';

-- A type named vector, for the drivers that look pgvector's type up by name before they
-- send a value of it (pgjdbc's PGobject("vector"), pgvector-java, psycopg's register_vector).
-- Columns are never of this type (the proxy declares them real[] with a CHECK), and the proxy
-- converts values sent as it; it is a domain over real[] so that such a value, declared with
-- its OID, still lands in a real[] column.
CREATE DOMAIN @extschema@.vector AS real[];

-- ---------------------------------------------------------------------------------------
-- What DROP EXTENSION removes from the target schema
-- ---------------------------------------------------------------------------------------

INSERT INTO neurondb.objects (kind, name, args) VALUES
    ('type', 'vector', ''),
    ('operator', '<->', 'real[], anyarray'), ('operator', '<->', 'real[], text'), ('operator', '<->', 'text, real[]'),
    ('operator', '<#>', 'real[], anyarray'), ('operator', '<#>', 'real[], text'), ('operator', '<#>', 'text, real[]'),
    ('operator', '<=>', 'real[], anyarray'), ('operator', '<=>', 'real[], text'), ('operator', '<=>', 'text, real[]'),
    ('operator', '<+>', 'real[], anyarray'), ('operator', '<+>', 'real[], text'), ('operator', '<+>', 'text, real[]'),
    ('function', 'l2_distance', 'real[], real[]'), ('function', 'l2_distance', 'real[], text'),
    ('function', 'l2_distance', 'text, real[]'), ('function', 'l2_distance', 'text, text'),
    ('function', 'inner_product', 'real[], real[]'), ('function', 'inner_product', 'real[], text'),
    ('function', 'inner_product', 'text, real[]'), ('function', 'inner_product', 'text, text'),
    ('function', 'cosine_distance', 'real[], real[]'), ('function', 'cosine_distance', 'real[], text'),
    ('function', 'cosine_distance', 'text, real[]'), ('function', 'cosine_distance', 'text, text'),
    ('function', 'l1_distance', 'real[], real[]'), ('function', 'l1_distance', 'real[], text'),
    ('function', 'l1_distance', 'text, real[]'), ('function', 'l1_distance', 'text, text'),
    ('function', 'vector_dims', 'real[]'), ('function', 'vector_dims', 'text'),
    ('function', 'vector_norm', 'real[]'), ('function', 'vector_norm', 'text'),
    ('function', 'l2_normalize', 'real[]'), ('function', 'l2_normalize', 'text');
