package io.neurondb.tests.vector;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PGobject;

import java.sql.Connection;
import java.sql.PreparedStatement;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * pgvector-java sends vectors as {@code PGobject("vector")}: pgjdbc looks the type up by name
 * before it binds, so a type of that name must exist (the shim's domain) and the value, sent
 * with its OID, must still reach a real[] column and a kNN.
 */
class PgvectorJavaTypeTest extends VectorProxyTestBase {

    @BeforeAll
    void setUp() throws Exception {
        ensureExtension();
        try (Connection c = proxied()) {
            exec(c, "CREATE TABLE p_batch (id int PRIMARY KEY, embedding vector(3))");
        }
    }

    @Test
    void pgobjectOfTypeVector() throws Exception {
        try (Connection c = proxied(); PreparedStatement ps = c.prepareStatement("INSERT INTO p_batch VALUES (?, ?)")) {
            exec(c, "DELETE FROM p_batch");
            PGobject o = new PGobject();
            o.setType("vector");
            o.setValue("[0.25,0.5,0.75]");
            ps.setInt(1, 1);
            ps.setObject(2, o);
            ps.executeUpdate();
            assertThat(rows(c, "SELECT embedding FROM p_batch")).containsExactly("[0.25,0.5,0.75]");
            ps.setInt(1, 2);
            o.setValue("[1,1,1]");
            ps.setObject(2, o);
            ps.executeUpdate();
            try (PreparedStatement knn = c.prepareStatement("SELECT id FROM p_batch ORDER BY embedding <-> ? LIMIT 1")) {
                o.setValue("[0.9,1,1.1]");
                knn.setObject(1, o);
                try (var rs = knn.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getInt(1)).isEqualTo(2);
                }
            }
        }
    }

}
