-- NeuronDB SQL shim: migration 1.0 -> 1.1.
--
-- Run by ShimScripts.install (fresh installs run the base script, then every migration) and
-- by ShimScripts.update (ALTER EXTENSION neurondb UPDATE), inside the caller's transaction.
-- The version row is set by the caller after this script. The extschema placeholder (the
-- word between at-signs, the quoted target schema) is substituted; this one does not use it.

-- Backups run by the backup plugin: one row per attempt.
CREATE TABLE neurondb.backups (
    id          bigserial   PRIMARY KEY,
    kind        text        NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    status      text        NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    error       text,
    location    text,
    bytes       bigint,
    sha256      text,
    start_lsn   pg_lsn,
    end_lsn     pg_lsn,
    index_lsns  jsonb
);
COMMENT ON TABLE neurondb.backups IS 'Backups taken through the NeuronDB proxy (one row per attempt)';
