package io.neurondb.tests.vector;

import io.neurondb.tests.support.Tool;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Literals crafted to break out of the rewritten SQL arrive as data or as a vector syntax error, never as SQL. */
class InjectionTest extends VectorProxyTestBase {

    static final List<String> CRAFTED = List.of(
            "[1,2,3]'); DROP TABLE items; --",
            "[1,2,3]'::real[]); DROP TABLE items; --",
            "[1,2,3]}'); DROP TABLE items; --",
            "[1,2,3]\"); DROP TABLE items; --",
            "[1,2,3]$$); DROP TABLE items; --",
            "[1,2,3]\\'); DROP TABLE items; --",
            "[1,2,3]*/ ; DROP TABLE items; /*",
            "[1,2,3];DROP TABLE items",
            "[1, 2, 3) OR 1=1; DROP TABLE items; --]",
            "[1,2,(SELECT 3)]",
            "[1,2,3]' || (SELECT pg_sleep(0)) || '");

    @BeforeAll
    void extension() throws Exception {
        ensureExtension();
    }

    @BeforeEach
    void table() throws Exception {
        try (Connection c = proxied()) {
            exec(c, "DROP TABLE IF EXISTS items", "CREATE TABLE items (id int PRIMARY KEY, embedding vector(3), note text)",
                    "INSERT INTO items VALUES (1, '[1,2,3]', 'a'), (2, '[3,2,1]', 'b')",
                    "CREATE INDEX items_l2 ON items USING hnsw (embedding vector_l2_ops)");
        }
    }

    private void assertTableSurvived() throws Exception {
        try (Connection d = direct()) {
            assertThat(rows(d, "SELECT to_regclass('public.items') IS NOT NULL")).containsExactly("t");
            assertThat(rows(d, "SELECT count(*) >= 2 FROM items")).containsExactly("t");
        }
    }

    /** The crafted text as an SQL literal: quotes doubled, so the client does not break out; the proxy must not either. */
    private static String literal(String s) {
        return "'" + s.replace("'", "''") + "'";
    }

    private static void harmless(SQLException e) {
        assertThat(e.getSQLState()).as(e.getMessage()).isIn("22P02", "22000");
    }

    @Test
    void craftedLiteralsInInsertSimpleProtocol() throws Exception {
        try (Connection c = proxied()) {
            for (String s : CRAFTED) {
                harmless(sqlError(() -> exec(c, "INSERT INTO items VALUES (10, " + literal(s) + ", 'x')")));
                harmless(sqlError(() -> exec(c, "INSERT INTO items VALUES (10, " + literal(s) + "::vector, 'x')")));
            }
        }
        assertTableSurvived();
    }

    @Test
    void craftedLiteralsInKnnQueries() throws Exception {
        try (Connection c = proxied()) {
            for (String s : CRAFTED) {
                for (String op : List.of("<->", "<=>", "<#>", "<+>")) {
                    harmless(sqlError(() -> rows(c, "SELECT id FROM items ORDER BY embedding " + op + " " + literal(s) + " LIMIT 1")));
                    harmless(sqlError(() -> rows(c, "SELECT id, note FROM items WHERE note <> 'z' ORDER BY embedding " + op + " " + literal(s) + " LIMIT 1")));
                    harmless(sqlError(() -> prepared(c, "SELECT id FROM items ORDER BY embedding " + op + " ? LIMIT 1", s)));
                }
            }
        }
        assertTableSurvived();
    }

    @Test
    void craftedParametersAndCopy() throws Exception {
        try (Connection c = proxied(); PreparedStatement ps = c.prepareStatement("INSERT INTO items VALUES (?, ?, ?)")) {
            for (String s : CRAFTED) {
                ps.setInt(1, 10);
                ps.setString(2, s);
                ps.setString(3, s);
                harmless(sqlError(ps::executeUpdate));
            }
            for (String s : CRAFTED) {
                var copy = c.unwrap(org.postgresql.PGConnection.class).getCopyAPI();
                harmless(sqlError(() -> copy.copyIn("COPY items FROM STDIN", new java.io.StringReader("10\t" + s + "\tx\n"))));
            }
        }
        assertTableSurvived();
    }

    @Test
    void injectionTextInOtherColumnsArrivesAsData() throws Exception {
        String evil = "'); DROP TABLE items; --";
        try (Connection c = proxied()) {
            exec(c, "INSERT INTO items VALUES (3, '[0,0,1]', " + literal(evil) + ")");
            assertThat(rows(c, "SELECT note FROM items WHERE id = 3")).containsExactly(evil);
            assertThat(rows(c, "SELECT id, note FROM items WHERE note = " + literal(evil) + " ORDER BY embedding <-> '[0,0,1]' LIMIT 5"))
                    .containsExactly("3|" + evil);
            assertThat(prepared(c, "SELECT id, note FROM items WHERE note = ? ORDER BY embedding <-> ? LIMIT 5", evil, "[0,0,1]"))
                    .containsExactly("3|" + evil);
        }
        assertTableSurvived();
    }

    @Test
    void craftedIdentifiersAndIndexOptions() throws Exception {
        try (Connection c = proxied()) {
            harmlessOrSyntax(sqlError(() -> exec(c, "CREATE INDEX \"x\"\"; DROP TABLE items; --\" ON items USING hnsw (embedding vector_l2_ops) WITH (m = '4); DROP TABLE items; --')")));
            exec(c, "CREATE INDEX \"we\"\"ird'; DROP TABLE items; --\" ON items USING hnsw (embedding vector_cosine_ops)");
            assertThat(rows(c, "SELECT index_name FROM neurondb.indexes WHERE opclass = 'vector_cosine_ops'"))
                    .containsExactly("we\"ird'; DROP TABLE items; --");
            assertThat(rows(c, "SELECT id FROM items ORDER BY embedding <=> '[1,2,3]' LIMIT 1")).containsExactly("1");
            exec(c, "DROP INDEX \"we\"\"ird'; DROP TABLE items; --\"");
            assertThat(rows(c, "SELECT count(*) FROM neurondb.indexes WHERE opclass = 'vector_cosine_ops'")).containsExactly("0");
        }
        assertTableSurvived();
    }

    private static void harmlessOrSyntax(SQLException e) {
        assertThat(e.getSQLState()).as(e.getMessage()).isIn("22P02", "22000", "22023", "42601");
    }

    @Test
    void craftedLiteralThroughPsql() throws Exception {
        Tool.Result r = Tool.run(pg.binDir(), "psql", psqlEnv(), null, List.of("-X", "-A", "-t", "-c",
                "SELECT id FROM items ORDER BY embedding <-> '[1,2,3]''); DROP TABLE items; --' LIMIT 1"));
        assertThat(r.output()).contains("invalid input syntax for type vector");
        assertTableSurvived();
    }
}
