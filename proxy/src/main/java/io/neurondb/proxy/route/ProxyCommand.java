package io.neurondb.proxy.route;

import java.util.List;
import java.util.Map;

/** A statement the proxy carries out (or answers) itself rather than forwarding as written. */
public sealed interface ProxyCommand {

    /** {@code CREATE EXTENSION [IF NOT EXISTS] neurondb|vector [SCHEMA s] [VERSION v] [CASCADE]}. */
    record CreateExtension(String extension, String schema, String version, boolean ifNotExists) implements ProxyCommand {
    }

    /** {@code ALTER EXTENSION neurondb|vector UPDATE [TO v]}. */
    record UpdateExtension(String extension, String toVersion) implements ProxyCommand {
    }

    /** {@code DROP EXTENSION [IF EXISTS] neurondb|vector [CASCADE|RESTRICT]}. */
    record DropExtension(String extension, boolean ifExists, boolean cascade) implements ProxyCommand {
    }

    /**
     * {@code CREATE INDEX [IF NOT EXISTS] [name] ON t USING hnsw|ivfflat (col opclass) [WITH (...)]}.
     *
     * @param name    null when the statement gave none (the proxy names it as PostgreSQL would)
     * @param opclass as written; null when left out (pgvector then requires one: an error)
     * @param options WITH (...) as written, names folded to lower case
     */
    record CreateVectorIndex(String name, boolean ifNotExists, TableName table, String column, IndexMethod method,
                             String opclass, Map<String, String> options) implements ProxyCommand {
        public CreateVectorIndex {
            options = Map.copyOf(options);
        }
    }

    /**
     * {@code DROP INDEX [IF EXISTS] a, b ...} naming engine indexes.
     *
     * @param remainingSql a DROP INDEX of the other names of the statement, to forward, or null
     */
    record DropVectorIndexes(List<IndexDefinition> indexes, String remainingSql) implements ProxyCommand {
        public DropVectorIndexes {
            indexes = List.copyOf(indexes);
        }
    }

    /** {@code REINDEX INDEX name} of an engine index. */
    record ReindexVectorIndex(IndexDefinition index) implements ProxyCommand {
    }

    /**
     * {@code SET [LOCAL|SESSION] hnsw.ef_search|ivfflat.probes|neurondb.* = v | TO DEFAULT} or {@code RESET name}.
     *
     * @param value null for DEFAULT / RESET
     */
    record SetSetting(String name, String value, boolean local) implements ProxyCommand {
    }

    /** {@code SHOW name} of a setting the proxy owns. */
    record ShowSetting(String name) implements ProxyCommand {
    }

    /** {@code SELECT neurondb.version()} and friends, answered from the proxy's state. */
    record CallFunction(NeuronDbFunction function, String columnName) implements ProxyCommand {
    }

    enum NeuronDbFunction { VERSION, GPU_ENABLED, GPU_DEVICE_COUNT, INDEX_STATS }

    /**
     * {@code SELECT neurondb.f(args) [alias]} or {@code SELECT * FROM neurondb.f(args)} of a
     * function a plugin answers.
     *
     * @param name        without the schema, lower case
     * @param columnAlias the single column's name when the call is in the select list and the
     *                    function has one column; null in the FROM form (columns as the function names them)
     */
    record CallPluginFunction(String name, List<Argument> arguments, String columnAlias) implements ProxyCommand {
        public CallPluginFunction {
            arguments = List.copyOf(arguments);
        }

        /** One argument: a constant (null text = SQL NULL) or a bind parameter. */
        public sealed interface Argument {
        }

        public record Constant(String text) implements Argument {
        }

        /** {@code $index}, 1-based. */
        public record Parameter(int index) implements Argument {
        }
    }

    /**
     * A statement refused with a PostgreSQL-style error, before anything reaches the server.
     *
     * @param ofRewrite the rewriter refused vector SQL it would have sent to PostgreSQL (a bad
     *                  vector literal, an unsupported column type), rather than a statement
     *                  the proxy carries out itself: metrics count it on the rewritten route
     */
    record Reject(String sqlState, String message, boolean ofRewrite) implements ProxyCommand {
        public Reject(String sqlState, String message) {
            this(sqlState, message, false);
        }
    }
}
