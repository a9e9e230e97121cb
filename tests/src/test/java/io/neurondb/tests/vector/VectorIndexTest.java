package io.neurondb.tests.vector;

import io.neurondb.tests.support.Tool;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** CREATE INDEX ... USING hnsw / ivfflat and the statements that keep the engine in step. */
class VectorIndexTest extends VectorProxyTestBase {

    @BeforeAll
    void extension() throws Exception {
        ensureExtension();
    }

    private void table(Connection c, String name, int rows) throws Exception {
        exec(c, "DROP TABLE IF EXISTS " + name + " CASCADE",
                "CREATE TABLE " + name + " (id bigint PRIMARY KEY, embedding vector(3), label text)");
        exec(c, "INSERT INTO " + name + " SELECT i, ARRAY[i, i % 7, i % 3]::real[], 'r' || i "
                + "FROM generate_series(1, " + rows + ") i");
    }

    /** index_name|table_name|column_name|method|metric|dims|rows|state of the engine's indexes on this table. */
    private List<String> stats(Connection c, String table) throws Exception {
        return statsOf(c, table);
    }

    private List<String> catalog(Connection c, String table) throws Exception {
        return rows(c, "SELECT index_name, method, opclass, options::text FROM neurondb.indexes WHERE table_name::text = '" + table
                + "' ORDER BY index_name");
    }

    @Test
    void hnswWithEveryOpclassNamedAndUnnamed() throws Exception {
        try (Connection c = proxied(); Statement s = c.createStatement()) {
            table(c, "h_items", 50);
            s.execute("CREATE INDEX h_l2 ON h_items USING hnsw (embedding vector_l2_ops) WITH (m = 8, ef_construction = 32)");
            s.execute("CREATE INDEX ON h_items USING hnsw (embedding vector_ip_ops)");
            s.execute("CREATE INDEX ON h_items USING hnsw (embedding vector_cosine_ops)");
            s.execute("CREATE INDEX IF NOT EXISTS h_l1 ON h_items USING hnsw (embedding vector_l1_ops)");
            assertThat(catalog(c, "h_items")).containsExactly(
                    "h_items_embedding_idx|hnsw|vector_ip_ops|{}",
                    "h_items_embedding_idx1|hnsw|vector_cosine_ops|{}",
                    "h_l1|hnsw|vector_l1_ops|{}",
                    "h_l2|hnsw|vector_l2_ops|{\"m\": 8, \"ef_construction\": 32}");
            List<String> st = stats(c, "h_items");
            assertThat(st).hasSize(4);
            assertThat(st).allSatisfy(r -> assertThat(r).endsWith("|3|50|ready").contains("|public.h_items|embedding|hnsw|"));
            assertThat(st.stream().map(r -> r.split("\\|")[4]).sorted().toList()).hasSize(4).doesNotHaveDuplicates();
            // IF NOT EXISTS on an existing name: a notice, nothing changes.
            s.execute("CREATE INDEX IF NOT EXISTS h_l2 ON h_items USING hnsw (embedding vector_cosine_ops)");
            assertThat((Object) s.getWarnings()).isNotNull();
            assertThat(s.getWarnings().getMessage()).contains("already exists");
            expectError("42P07", "already exists", () -> s.execute("CREATE INDEX h_l2 ON h_items USING hnsw (embedding vector_l2_ops)"));
            assertThat(catalog(c, "h_items")).hasSize(4);
        }
    }

    @Test
    void ivfflatWithLists() throws Exception {
        try (Connection c = proxied(); Statement s = c.createStatement()) {
            table(c, "i_items", 200);
            s.execute("CREATE INDEX i_l2 ON i_items USING ivfflat (embedding vector_l2_ops) WITH (lists = 10)");
            s.execute("CREATE INDEX ON i_items USING ivfflat (embedding vector_cosine_ops)");
            assertThat(catalog(c, "i_items")).containsExactly(
                    "i_items_embedding_idx|ivfflat|vector_cosine_ops|{}",
                    "i_l2|ivfflat|vector_l2_ops|{\"lists\": 10}");
            assertThat(stats(c, "i_items")).hasSize(2).allSatisfy(r -> assertThat(r).contains("|ivfflat|").endsWith("|3|200|ready"));
        }
    }

    @Test
    void indexInTheExtendedProtocol() throws Exception {
        try (Connection c = proxied()) {
            table(c, "x_items", 20);
            try (PreparedStatement ps = c.prepareStatement("CREATE INDEX x_idx ON x_items USING hnsw (embedding vector_l2_ops) WITH (m = 4)")) {
                ps.execute();
            }
            assertThat(catalog(c, "x_items")).containsExactly("x_idx|hnsw|vector_l2_ops|{\"m\": 4}");
            try (PreparedStatement ps = c.prepareStatement("DROP INDEX x_idx")) {
                ps.execute();
            }
            assertThat(catalog(c, "x_items")).isEmpty();
            assertThat(stats(c, "x_items")).isEmpty();
        }
    }

    @Test
    void badIndexesLeaveNothingBehind() throws Exception {
        try (Connection c = proxied(); Statement s = c.createStatement()) {
            table(c, "b_items", 10);
            exec(c, "CREATE TABLE b_nokey (embedding vector(3))");
            expectError("42804", null, () -> s.execute("CREATE INDEX b1 ON b_items USING hnsw (label vector_l2_ops)"));
            expectError("42704", "operator class \"vector_foo_ops\" does not exist",
                    () -> s.execute("CREATE INDEX b2 ON b_items USING hnsw (embedding vector_foo_ops)"));
            expectError("42704", "no default operator class", () -> s.execute("CREATE INDEX b3 ON b_items USING hnsw (embedding)"));
            expectError("22023", "unrecognized parameter \"foo\"",
                    () -> s.execute("CREATE INDEX b4 ON b_items USING hnsw (embedding vector_l2_ops) WITH (foo = 1)"));
            expectError("22023", "out of bounds", () -> s.execute("CREATE INDEX b5 ON b_items USING hnsw (embedding vector_l2_ops) WITH (m = 1)"));
            expectError("22023", "ef_construction must be greater than or equal to 2 * m",
                    () -> s.execute("CREATE INDEX b6 ON b_items USING hnsw (embedding vector_l2_ops) WITH (m = 16, ef_construction = 8)"));
            expectError("22023", null, () -> s.execute("CREATE INDEX b7 ON b_items USING ivfflat (embedding vector_l2_ops) WITH (lists = 0)"));
            expectError("22023", null, () -> s.execute("CREATE INDEX b8 ON b_items USING ivfflat (embedding vector_l2_ops) WITH (m = 4)"));
            expectError("42703", "column \"nope\" does not exist", () -> s.execute("CREATE INDEX b9 ON b_items USING hnsw (nope vector_l2_ops)"));
            expectError("42P01", "does not exist", () -> s.execute("CREATE INDEX b10 ON no_such_table USING hnsw (embedding vector_l2_ops)"));
            expectError("0A000", "primary key", () -> s.execute("CREATE INDEX b11 ON b_nokey USING hnsw (embedding vector_l2_ops)"));
            assertThat(catalog(c, "b_items")).isEmpty();
            assertThat(catalog(c, "b_nokey")).isEmpty();
            assertThat(stats(c, "b_items")).isEmpty();
            assertThat(stats(c, "b_nokey")).isEmpty();
            // The names are still free.
            s.execute("CREATE INDEX b2 ON b_items USING hnsw (embedding vector_l2_ops)");
            assertThat(catalog(c, "b_items")).containsExactly("b2|hnsw|vector_l2_ops|{}");
        }
    }

    @Test
    void failedCreateIndexInsideATransactionRollsBackTheCatalogAndTheEngine() throws Exception {
        try (Connection c = proxied()) {
            table(c, "t_items", 10);
            c.setAutoCommit(false);
            exec(c, "CREATE INDEX t_idx ON t_items USING hnsw (embedding vector_l2_ops)");
            c.rollback();
            c.setAutoCommit(true);
            assertThat(catalog(c, "t_items")).isEmpty();
            assertThat(stats(c, "t_items")).isEmpty();
            // Failing later in the same transaction after the CREATE INDEX.
            c.setAutoCommit(false);
            exec(c, "CREATE INDEX t_idx ON t_items USING hnsw (embedding vector_l2_ops)");
            sqlError(() -> exec(c, "SELECT 1/0"));
            c.rollback();
            c.setAutoCommit(true);
            assertThat(catalog(c, "t_items")).isEmpty();
            assertThat(stats(c, "t_items")).isEmpty();
            exec(c, "CREATE INDEX t_idx ON t_items USING hnsw (embedding vector_l2_ops)");
            assertThat(stats(c, "t_items")).containsExactly("t_idx|public.t_items|embedding|hnsw|l2|3|10|ready");
        }
    }

    @Test
    void dropIndexAndDropTableAndTruncateKeepTheEngineInStep() throws Exception {
        try (Connection c = proxied(); Statement s = c.createStatement()) {
            table(c, "d_items", 30);
            s.execute("CREATE INDEX d_a ON d_items USING hnsw (embedding vector_l2_ops)");
            s.execute("CREATE INDEX d_b ON d_items USING hnsw (embedding vector_cosine_ops)");
            exec(c, "CREATE INDEX d_plain ON d_items (label)");
            s.execute("DROP INDEX d_a, d_plain");
            assertThat(catalog(c, "d_items")).containsExactly("d_b|hnsw|vector_cosine_ops|{}");
            assertThat(rows(c, "SELECT count(*) FROM pg_class WHERE relname = 'd_plain'")).containsExactly("0");
            assertThat(stats(c, "d_items")).hasSize(1).allSatisfy(r -> assertThat(r).startsWith("d_b|"));
            s.execute("DROP INDEX IF EXISTS d_a");
            expectError("42704", "does not exist", () -> s.execute("DROP INDEX d_a"));

            s.execute("TRUNCATE d_items");
            assertThat(rows(c, "SELECT id FROM d_items ORDER BY embedding <=> '[1,1,1]' LIMIT 3")).isEmpty();
            exec(c, "INSERT INTO d_items VALUES (1, '[1,1,1]', 'x'), (2, '[1,0,0]', 'y')");
            assertThat(rows(c, "SELECT id FROM d_items ORDER BY embedding <=> '[1,1,1]' LIMIT 3")).containsExactly("1", "2");

            s.execute("DROP TABLE d_items");
            assertThat(stats(c, "d_items")).isEmpty();
            // The table name can be reused with the same index name.
            table(c, "d_items", 5);
            s.execute("CREATE INDEX d_b ON d_items USING hnsw (embedding vector_l2_ops)");
            assertThat(stats(c, "d_items")).containsExactly("d_b|public.d_items|embedding|hnsw|l2|3|5|ready");
        }
    }

    @Test
    void reindexRebuildsFromTheTable() throws Exception {
        try (Connection c = proxied(); Statement s = c.createStatement()) {
            table(c, "r_items", 40);
            s.execute("CREATE INDEX r_idx ON r_items USING hnsw (embedding vector_l2_ops)");
            try (Connection d = direct()) {
                // Rows the engine has not seen (written around the proxy).
                exec(d, "INSERT INTO r_items SELECT i, ARRAY[i, 0, 0]::real[], 'd' FROM generate_series(41, 60) i");
            }
            s.execute("REINDEX INDEX r_idx");
            assertThat(stats(c, "r_items")).containsExactly("r_idx|public.r_items|embedding|hnsw|l2|3|60|ready");
            assertThat(rows(c, "SELECT id FROM r_items ORDER BY embedding <-> '[60,0,0]' LIMIT 2")).containsExactly("60", "59");
            expectError("42P01", "does not exist", () -> s.execute("REINDEX INDEX no_such_index"));
        }
    }

    @Test
    void commandTagsAndPsqlDescribe() throws Exception {
        try (Connection c = proxied()) {
            table(c, "p_items", 5);
        }
        Tool.Result r = Tool.run(pg.binDir(), "psql", psqlEnv(),
                "CREATE INDEX p_idx ON p_items USING hnsw (embedding vector_l2_ops) WITH (m = 8);\n"
                        + "REINDEX INDEX p_idx;\n\\d p_items\nDROP INDEX p_idx;\n",
                List.of("-X", "-v", "ON_ERROR_STOP=1"));
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).contains("CREATE INDEX").contains("REINDEX").contains("DROP INDEX").contains("real[]");
    }
}
