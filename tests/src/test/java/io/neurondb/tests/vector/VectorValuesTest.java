package io.neurondb.tests.vector;

import io.neurondb.tests.support.Tool;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;
import org.postgresql.util.PGobject;

import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

/** Vector values in (literals, parameters, COPY) and out ('[1,2,3]' text). */
class VectorValuesTest extends VectorProxyTestBase {

    @BeforeAll
    void extension() throws Exception {
        ensureExtension();
    }

    @BeforeEach
    void table() throws Exception {
        try (Connection c = proxied()) {
            exec(c, "DROP TABLE IF EXISTS vals", "CREATE TABLE vals (id int PRIMARY KEY, embedding vector(3), note text)");
        }
    }

    /** What PostgreSQL really holds, as real[] text, straight from the server. */
    private List<String> stored() throws Exception {
        try (Connection d = direct()) {
            return rows(d, "SELECT id, embedding::text FROM vals ORDER BY id");
        }
    }

    static byte[] pgvectorBinary(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * v.length);
        b.putShort((short) v.length).putShort((short) 0);
        for (float f : v) {
            b.putFloat(f);
        }
        return b.array();
    }

    @Test
    void literalsWithAndWithoutCast() throws Exception {
        try (Connection c = proxied()) {
            exec(c, "INSERT INTO vals VALUES (1, '[1,2,3]', 'plain'), (2, '[4.5, -5 ,6e2]'::vector, 'cast')",
                    "INSERT INTO vals (id, embedding) SELECT 3, '[7,8,9]'::vector(3)",
                    "INSERT INTO vals VALUES (4, NULL, '[not,a,vector]')",
                    "UPDATE vals SET embedding = '[0,0,1]' WHERE id = 3");
            assertThat(rows(c, "SELECT id, embedding, note FROM vals ORDER BY id"))
                    .containsExactly("1|[1,2,3]|plain", "2|[4.5,-5,600]|cast", "3|[0,0,1]|null", "4|null|[not,a,vector]");
        }
        assertThat(stored()).containsExactly("1|{1,2,3}", "2|{4.5,-5,600}", "3|{0,0,1}", "4|null");
    }

    @Test
    void textParametersSetStringAndPgObject() throws Exception {
        try (Connection c = proxied(); PreparedStatement ps = c.prepareStatement("INSERT INTO vals (id, embedding) VALUES (?, ?)")) {
            ps.setInt(1, 1);
            ps.setString(2, "[1,2,3]");
            ps.executeUpdate();
            ps.setInt(1, 2);
            ps.setObject(2, "[0.25,0.5,0.75]", java.sql.Types.OTHER);
            ps.executeUpdate();
            ps.setInt(1, 3);
            ps.setNull(2, java.sql.Types.OTHER);
            ps.executeUpdate();
        }
        assertThat(stored()).containsExactly("1|{1,2,3}", "2|{0.25,0.5,0.75}", "3|null");
    }

    @Test
    void castParameterAndUpdateWithParameter() throws Exception {
        try (Connection c = proxied()) {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO vals (id, embedding) VALUES (?, ?::vector)")) {
                ps.setInt(1, 1);
                ps.setString(2, "[1,2,3]");
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("UPDATE vals SET embedding = ? WHERE id = ?")) {
                ps.setString(1, "[3,2,1]");
                ps.setInt(2, 1);
                assertThat(ps.executeUpdate()).isEqualTo(1);
            }
        }
        assertThat(stored()).containsExactly("1|{3,2,1}");
    }

    @Test
    void binaryParametersInPgvectorLayout() throws Exception {
        try (Connection c = proxied(); PreparedStatement ps = c.prepareStatement("INSERT INTO vals (id, embedding) VALUES (?, ?)")) {
            ps.setInt(1, 1);
            ps.setBytes(2, pgvectorBinary(1.5f, -2f, 3.25f));
            ps.executeUpdate();
        }
        assertThat(stored()).containsExactly("1|{1.5,-2,3.25}");
        try (Connection c = proxied()) {
            assertThat(rows(c, "SELECT embedding FROM vals")).containsExactly("[1.5,-2,3.25]");
        }
    }

    @Test
    void badBinaryParameterIsRefused() throws Exception {
        try (Connection c = proxied(); PreparedStatement ps = c.prepareStatement("INSERT INTO vals (id, embedding) VALUES (?, ?)")) {
            ps.setInt(1, 1);
            byte[] bad = pgvectorBinary(1f, 2f, 3f);
            byte[] truncated = java.util.Arrays.copyOf(bad, bad.length - 2);
            ps.setBytes(2, truncated);
            SqlAction insert = ps::executeUpdate;
            var e = sqlError(insert);
            assertThat(e.getSQLState()).isIn("22P03", "22P02", "08P01");
            ps.setBytes(2, pgvectorBinary(1f, Float.NaN, 3f));
            expectError("22000", "NaN not allowed in vector", insert);
        }
        assertThat(stored()).isEmpty();
    }

    @Test
    void outputIsBracketTextInSimpleAndExtendedProtocol() throws Exception {
        try (Connection c = proxied()) {
            exec(c, "INSERT INTO vals VALUES (1, '[1,2,3]'), (2, '[0.1,-0.5,1e-3]')");
            List<String> simple = rows(c, "SELECT id, embedding FROM vals ORDER BY id");
            assertThat(simple).containsExactly("1|[1,2,3]", "2|[0.1,-0.5,0.001]");
            assertThat(rows(c, "SELECT * FROM vals WHERE id = 1")).containsExactly("1|[1,2,3]|null");
            assertThat(rows(c, "INSERT INTO vals VALUES (3, '[3,3,3]') RETURNING embedding")).containsExactly("[3,3,3]");
        }
        // Extended protocol, and past pgjdbc's prepareThreshold (named statements, binary transfer where it wants it).
        Properties binary = new Properties();
        binary.setProperty("prepareThreshold", "1");
        try (Connection c = proxied(binary); PreparedStatement ps = c.prepareStatement("SELECT id, embedding FROM vals WHERE id <= ? ORDER BY id")) {
            for (int round = 0; round < 6; round++) {
                ps.setInt(1, 2);
                try (ResultSet rs = ps.executeQuery()) {
                    assertThat(read(rs)).as("round " + round).containsExactly("1|[1,2,3]", "2|[0.1,-0.5,0.001]");
                }
            }
        }
        Properties forceBinary = new Properties();
        forceBinary.setProperty("prepareThreshold", "-1");
        try (Connection c = proxied(forceBinary)) {
            assertThat(prepared(c, "SELECT embedding FROM vals WHERE id = ?", 1)).containsExactly("[1,2,3]");
        }
    }

    @Test
    void copyFromStdinTextAndCsvThroughCopyManager() throws Exception {
        try (Connection c = proxied()) {
            CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
            long n = copy.copyIn("COPY vals (id, embedding, note) FROM STDIN",
                    new StringReader("1\t[1,2,3]\tone\n2\t\\N\ttwo\n3\t[1.5,2.5,3.5]\t[x]\n"));
            assertThat(n).isEqualTo(3);
            n = copy.copyIn("COPY vals (id, embedding, note) FROM STDIN WITH (FORMAT csv, HEADER true)",
                    new StringReader("id,embedding,note\n4,\"[4,5,6]\",\"a,b\"\n5,,empty\n"));
            assertThat(n).isEqualTo(2);
            n = copy.copyIn("COPY vals FROM STDIN (FORMAT csv, DELIMITER ';')", new StringReader("6;[6,6,6];semi\n"));
            assertThat(n).isEqualTo(1);
            assertThat(rows(c, "SELECT id, embedding, note FROM vals ORDER BY id"))
                    .containsExactly("1|[1,2,3]|one", "2|null|two", "3|[1.5,2.5,3.5]|[x]", "4|[4,5,6]|a,b", "5|null|empty", "6|[6,6,6]|semi");
        }
        assertThat(stored()).contains("4|{4,5,6}", "6|{6,6,6}");
    }

    @Test
    void copyWithWrongDimensionsFailsWholly() throws Exception {
        try (Connection c = proxied()) {
            CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
            var e = sqlError(() -> copy.copyIn("COPY vals (id, embedding) FROM STDIN",
                    new StringReader("1\t[1,2,3]\n2\t[1,2]\n")));
            assertThat(e.getSQLState()).isEqualTo("22000");
            assertThat(e.getMessage()).contains("expected 3 dimensions, not 2");
            var bad = sqlError(() -> copy.copyIn("COPY vals (id, embedding) FROM STDIN",
                    new StringReader("1\t[1,x,3]\n")));
            assertThat(bad.getSQLState()).isEqualTo("22P02");
            // The connection is usable afterwards.
            assertThat(rows(c, "SELECT count(*) FROM vals")).containsExactly("0");
        }
    }

    @Test
    void psqlCopyAndSimpleProtocolOutput() throws Exception {
        Path data = Files.createTempFile("vals-", ".csv");
        try {
            Files.writeString(data, "1,\"[1,2,3]\",csv\n2,\"[4,5,6]\",csv\n");
            StringBuilder script = new StringBuilder();
            script.append("\\copy vals (id, embedding, note) FROM '").append(data).append("' WITH (FORMAT csv)\n");
            script.append("COPY vals (id, embedding, note) FROM STDIN;\n3\t[7,8,9]\ttext\n\\.\n");
            script.append("INSERT INTO vals VALUES (4, '[0,0,0]'::vector, 'lit');\n");
            script.append("SELECT id, embedding, note FROM vals ORDER BY id;\n");
            Tool.Result r = psql(script.toString());
            assertThat(r.exitCode()).as(r.output()).isZero();
            assertThat(r.output().lines().toList()).containsExactly("1|[1,2,3]|csv", "2|[4,5,6]|csv", "3|[7,8,9]|text", "4|[0,0,0]|lit");
        } finally {
            Files.deleteIfExists(data);
        }
        assertThat(stored()).containsExactly("1|{1,2,3}", "2|{4,5,6}", "3|{7,8,9}", "4|{0,0,0}");
    }

    @Test
    void aRealisticDimensionRoundTrips() throws Exception {
        try (Connection c = proxied()) {
            exec(c, "DROP TABLE IF EXISTS wide", "CREATE TABLE wide (id int PRIMARY KEY, embedding vector(384))");
            java.util.Random rnd = new java.util.Random(7);
            List<String> texts = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO wide VALUES (?, ?)")) {
                for (int i = 0; i < 20; i++) {
                    float[] v = new float[384];
                    StringBuilder b = new StringBuilder("[");
                    for (int j = 0; j < v.length; j++) {
                        v[j] = rnd.nextFloat() - 0.5f;
                        b.append(j == 0 ? "" : ",").append(v[j]);
                    }
                    texts.add(b.append(']').toString());
                    ps.setInt(1, i);
                    if (i % 2 == 0) {
                        ps.setString(2, texts.get(i));
                    } else {
                        ps.setBytes(2, pgvectorBinary(v));
                    }
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            List<String> back = rows(c, "SELECT embedding FROM wide ORDER BY id");
            assertThat(back).hasSize(20);
            for (int i = 0; i < 20; i++) {
                assertThat(parse(back.get(i))).as("row " + i).containsExactly(parse(texts.get(i)));
            }
        }
    }

    static float[] parse(String vector) {
        String[] parts = vector.substring(1, vector.length() - 1).split(",");
        float[] out = new float[parts.length];
        for (int i = 0; i < parts.length; i++) {
            out[i] = Float.parseFloat(parts[i]);
        }
        return out;
    }
}
