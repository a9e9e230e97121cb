package io.neurondb.proxy.route;

import java.util.List;

/** What must follow when a forwarded statement succeeds, besides relaying the reply. */
public sealed interface Effect {

    Effect NONE = new None();

    record None() implements Effect {
    }

    /**
     * CREATE TABLE / ALTER TABLE ADD COLUMN made vector columns: record them in
     * {@code neurondb.vector_columns}, in the same transaction. The table name is as written.
     */
    record RegisterVectorColumns(TableName table, List<NewVectorColumn> columns) implements Effect {
        public RegisterVectorColumns {
            columns = List.copyOf(columns);
        }
    }

    /** @param dims null for {@code vector} without a dimension count */
    record NewVectorColumn(String name, Integer dims) {
    }

    /**
     * {@code SET ROLE}, {@code SET SESSION AUTHORIZATION}, their RESETs, {@code RESET ALL},
     * {@code DISCARD ALL}: what the session may read can change, so whatever the proxy learnt
     * about it is forgotten.
     */
    record RoleChanged() implements Effect {
    }

    /** DROP TABLE of tables that have vector columns: drop their engine indexes and catalog rows. */
    record TablesDropped(List<TableName> tables) implements Effect {
        public TablesDropped {
            tables = List.copyOf(tables);
        }
    }

    /**
     * {@code DROP DATABASE}: PostgreSQL refuses it while the proxy's own connections or its
     * replication slot use the database, so they are released before the statement is sent and
     * restored if it fails. The name is folded as PostgreSQL folds it.
     */
    record DatabaseDropped(String database) implements Effect {
    }

    /** TRUNCATE: the tables' engine indexes become empty. */
    record TablesTruncated(List<TableName> tables) implements Effect {
        public TablesTruncated {
            tables = List.copyOf(tables);
        }
    }

    /** INSERT / UPDATE / DELETE / MERGE / COPY FROM on tables with engine indexes: they are stale until re-synchronised. */
    record TablesWritten(List<TableName> tables) implements Effect {
        public TablesWritten {
            tables = List.copyOf(tables);
        }
    }

    /**
     * {@code COPY t [(cols)] FROM STDIN} into a table with vector columns: the data stream is
     * converted on its way in, and the table is written.
     *
     * @param vectorPositions zero-based positions, among the copied columns, of the vector columns
     * @param columnNames     the copied columns in order (for error messages)
     */
    record CopyIn(TableName table, List<String> columnNames, int[] vectorPositions, CopyOptions options) implements Effect {
    }

    /**
     * The COPY options that matter for reading its data, as written; nulls mean the format's default.
     *
     * @param csv true for FORMAT csv, false for text (binary COPY is refused for vector tables by the rewriter)
     */
    record CopyOptions(boolean csv, String delimiter, String nullString, String quote, String escape, boolean header) {
    }
}
