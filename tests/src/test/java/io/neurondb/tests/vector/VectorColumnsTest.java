package io.neurondb.tests.vector;

import io.neurondb.tests.support.Tool;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;

import static org.assertj.core.api.Assertions.assertThat;

/** vector(n) columns: stored as real[] with a dimension check, recorded in neurondb.vector_columns. */
class VectorColumnsTest extends VectorProxyTestBase {

    @BeforeAll
    void extension() throws Exception {
        ensureExtension();
    }

    @Test
    void createTableStoresRealArrayAndRecordsTheColumn() throws Exception {
        try (Connection c = proxied()) {
            exec(c, "CREATE TABLE ct_items (id bigserial PRIMARY KEY, title text, embedding vector(3))");
        }
        try (Connection d = direct()) {
            assertThat(rows(d, "SELECT column_name, udt_name FROM information_schema.columns "
                    + "WHERE table_name = 'ct_items' ORDER BY ordinal_position"))
                    .containsExactly("id|int8", "title|text", "embedding|_float4");
            assertThat(rows(d, "SELECT table_name::text, column_name, dims FROM neurondb.vector_columns "
                    + "WHERE table_name = 'ct_items'::regclass ORDER BY column_name"))
                    .containsExactly("ct_items|embedding|3");
        }
    }

    @Test
    void alterTableAddColumnRecordsTheColumn() throws Exception {
        try (Connection c = proxied()) {
            exec(c, "CREATE TABLE at_items (id int PRIMARY KEY)",
                    "ALTER TABLE at_items ADD COLUMN embedding vector(5)",
                    "ALTER TABLE at_items ADD COLUMN IF NOT EXISTS other vector(2)");
            exec(c, "INSERT INTO at_items VALUES (1, '[1,2,3,4,5]', '[1,2]')");
            expectError("22000", "expected 5 dimensions, not 4", () -> exec(c, "INSERT INTO at_items VALUES (2, '[1,2,3,4]', NULL)"));
        }
        try (Connection d = direct()) {
            assertThat(rows(d, "SELECT column_name, dims FROM neurondb.vector_columns WHERE table_name = 'at_items'::regclass ORDER BY 1"))
                    .containsExactly("embedding|5", "other|2");
        }
    }

    @Test
    void quotedNamesAndOtherSchemas() throws Exception {
        try (Connection c = proxied()) {
            exec(c, "CREATE SCHEMA \"My Schema\"",
                    "CREATE TABLE \"My Schema\".\"Items\" (id int PRIMARY KEY, \"The Vector\" vector(2))",
                    "INSERT INTO \"My Schema\".\"Items\" VALUES (1, '[1.5,2]')");
            assertThat(rows(c, "SELECT * FROM \"My Schema\".\"Items\"")).containsExactly("1|[1.5,2]");
            expectError("22000", "expected 2 dimensions, not 3",
                    () -> exec(c, "INSERT INTO \"My Schema\".\"Items\" VALUES (2, '[1,2,3]')"));
        }
        try (Connection d = direct()) {
            assertThat(rows(d, "SELECT column_name, dims FROM neurondb.vector_columns WHERE table_name = '\"My Schema\".\"Items\"'::regclass"))
                    .containsExactly("The Vector|2");
        }
    }

    @Test
    void dimensionMismatchIsPgvectorsErrorInBothProtocols() throws Exception {
        try (Connection c = proxied()) {
            exec(c, "CREATE TABLE dm_items (id int PRIMARY KEY, embedding vector(3))");
            expectError("22000", "expected 3 dimensions, not 2", () -> exec(c, "INSERT INTO dm_items VALUES (1, '[1,2]')"));
            expectError("22000", "expected 3 dimensions, not 2", () -> {
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO dm_items VALUES (?, ?)")) {
                    ps.setInt(1, 1);
                    ps.setString(2, "[1,2]");
                    ps.executeUpdate();
                }
            });
            exec(c, "INSERT INTO dm_items VALUES (1, '[1,2,3]')");
            expectError("22000", "expected 3 dimensions, not 2", () -> exec(c, "UPDATE dm_items SET embedding = '[1,2]'"));
            expectError("22000", "expected 3 dimensions, not 1", () -> exec(c, "UPDATE dm_items SET embedding = '[1]' WHERE id = 1"));
            assertThat(rows(c, "SELECT * FROM dm_items")).containsExactly("1|[1,2,3]");
        }
    }

    @Test
    void nanInfinityAndMalformedText() throws Exception {
        try (Connection c = proxied()) {
            exec(c, "CREATE TABLE bad_items (id int PRIMARY KEY, embedding vector(3))");
            expectError("22000", "NaN not allowed in vector", () -> exec(c, "INSERT INTO bad_items VALUES (1, '[1,NaN,3]')"));
            expectError("22000", "NaN not allowed in vector", () -> {
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO bad_items VALUES (1, ?)")) {
                    ps.setString(1, "[1,nan,3]");
                    ps.executeUpdate();
                }
            });
            expectError("22000", "infinite value not allowed in vector", () -> exec(c, "INSERT INTO bad_items VALUES (1, '[1,Infinity,3]')"));
            expectError("22P02", "invalid input syntax for type vector", () -> exec(c, "INSERT INTO bad_items VALUES (1, '[1,2,3')"));
            expectError("22P02", "invalid input syntax for type vector", () -> exec(c, "INSERT INTO bad_items VALUES (1, '[1,abc,3]')"));
            expectError("22000", "vector must have at least 1 dimension", () -> exec(c, "INSERT INTO bad_items VALUES (1, '[]')"));
            assertThat(rows(c, "SELECT count(*) FROM bad_items")).containsExactly("0");
            // The session still works.
            exec(c, "INSERT INTO bad_items VALUES (1, '[1,2,3]')");
            assertThat(rows(c, "SELECT embedding FROM bad_items")).containsExactly("[1,2,3]");
        }
    }

    @Test
    void rolledBackCreateTableLeavesNoCatalogRow() throws Exception {
        try (Connection c = proxied()) {
            c.setAutoCommit(false);
            exec(c, "CREATE TABLE rb_items (id int PRIMARY KEY, embedding vector(3))");
            c.rollback();
            c.setAutoCommit(true);
            assertThat(rows(c, "SELECT count(*) FROM neurondb.vector_columns WHERE table_name::text = 'rb_items'")).containsExactly("0");
            // The name is free again and works as a vector table.
            exec(c, "CREATE TABLE rb_items (id int PRIMARY KEY, embedding vector(2))", "INSERT INTO rb_items VALUES (1, '[1,2]')");
            assertThat(rows(c, "SELECT embedding FROM rb_items")).containsExactly("[1,2]");
        }
    }

    @Test
    void dropAndRecreateTableWithOtherDimensions() throws Exception {
        try (Connection c = proxied()) {
            exec(c, "CREATE TABLE rc_items (id int PRIMARY KEY, embedding vector(3))", "DROP TABLE rc_items",
                    "CREATE TABLE rc_items (id int PRIMARY KEY, embedding vector(2))", "INSERT INTO rc_items VALUES (1, '[1,2]')");
            assertThat(rows(c, "SELECT dims FROM neurondb.vector_columns WHERE table_name = 'rc_items'::regclass")).containsExactly("2");
            assertThat(rows(c, "SELECT embedding FROM rc_items")).containsExactly("[1,2]");
        }
    }

    @Test
    void psqlDescribeTableWorks() throws Exception {
        try (Connection c = proxied()) {
            exec(c, "CREATE TABLE psql_items (id int PRIMARY KEY, embedding vector(3))",
                    "CREATE INDEX psql_items_hnsw ON psql_items USING hnsw (embedding vector_l2_ops)");
        }
        Tool.Result r = Tool.run(pg.binDir(), "psql", psqlEnv(), "\\d psql_items\n\\dt\n", java.util.List.of("-X", "-v", "ON_ERROR_STOP=1"));
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).contains("embedding").contains("real[]").contains("vector_check").contains("psql_items");
    }
}
