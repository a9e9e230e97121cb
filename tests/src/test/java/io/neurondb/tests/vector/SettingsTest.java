package io.neurondb.tests.vector;

import io.neurondb.tests.support.Tool;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;

import static org.assertj.core.api.Assertions.assertThat;

/** SET [LOCAL] / RESET / SHOW of the settings the proxy owns. */
class SettingsTest extends VectorProxyTestBase {

    private static String show(Connection c, String name) throws Exception {
        return one(c, "SHOW " + name);
    }

    @Test
    void defaultsSetShowAndReset() throws Exception {
        try (Connection c = proxied()) {
            assertThat(show(c, "hnsw.ef_search")).isEqualTo("40");
            assertThat(show(c, "ivfflat.probes")).isEqualTo("1");
            assertThat(show(c, "neurondb.log_level")).isEqualTo("info");
            exec(c, "SET hnsw.ef_search = 100", "SET ivfflat.probes TO 7", "SET neurondb.log_level = 'debug'");
            assertThat(show(c, "hnsw.ef_search")).isEqualTo("100");
            assertThat(show(c, "ivfflat.probes")).isEqualTo("7");
            assertThat(show(c, "neurondb.log_level")).isEqualTo("debug");
            // SHOW's column is named after the setting, as in PostgreSQL.
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW hnsw.ef_search")) {
                assertThat(rs.getMetaData().getColumnName(1)).isEqualTo("hnsw.ef_search");
            }
            exec(c, "RESET hnsw.ef_search", "SET ivfflat.probes TO DEFAULT");
            assertThat(show(c, "hnsw.ef_search")).isEqualTo("40");
            assertThat(show(c, "ivfflat.probes")).isEqualTo("1");
            exec(c, "RESET ALL");
            assertThat(show(c, "neurondb.log_level")).isEqualTo("info");
        }
    }

    @Test
    void settingsArePerSession() throws Exception {
        try (Connection a = proxied(); Connection b = proxied()) {
            exec(a, "SET hnsw.ef_search = 200");
            assertThat(show(a, "hnsw.ef_search")).isEqualTo("200");
            assertThat(show(b, "hnsw.ef_search")).isEqualTo("40");
        }
    }

    @Test
    void outOfRangeAndBadValuesAre22023() throws Exception {
        try (Connection c = proxied(); Statement s = c.createStatement()) {
            expectError("22023", "outside the valid range", () -> s.execute("SET hnsw.ef_search = 0"));
            expectError("22023", "outside the valid range", () -> s.execute("SET hnsw.ef_search = 1001"));
            expectError("22023", null, () -> s.execute("SET hnsw.ef_search = 'abc'"));
            expectError("22023", "outside the valid range", () -> s.execute("SET ivfflat.probes = 0"));
            expectError("22023", null, () -> s.execute("SET neurondb.log_level = 'loud'"));
            expectError("22023", "outside the valid range", () -> {
                try (PreparedStatement ps = c.prepareStatement("SET hnsw.ef_search = 5000")) {
                    ps.execute();
                }
            });
            assertThat(show(c, "hnsw.ef_search")).isEqualTo("40");
            assertThat(show(c, "neurondb.log_level")).isEqualTo("info");
        }
    }

    @Test
    void transactionRollbackUndoesSetAndSetLocalEndsWithTheTransaction() throws Exception {
        try (Connection c = proxied()) {
            c.setAutoCommit(false);
            exec(c, "SET hnsw.ef_search = 123");
            assertThat(show(c, "hnsw.ef_search")).isEqualTo("123");
            c.rollback();
            assertThat(show(c, "hnsw.ef_search")).isEqualTo("40");
            exec(c, "SET hnsw.ef_search = 77");
            c.commit();
            assertThat(show(c, "hnsw.ef_search")).isEqualTo("77");
            exec(c, "SET LOCAL hnsw.ef_search = 300");
            assertThat(show(c, "hnsw.ef_search")).isEqualTo("300");
            c.commit();
            assertThat(show(c, "hnsw.ef_search")).isEqualTo("77");
            // An error aborts the transaction: its SET goes with it.
            exec(c, "SET ivfflat.probes = 9");
            sqlError(() -> exec(c, "SELECT 1/0"));
            c.rollback();
            assertThat(show(c, "ivfflat.probes")).isEqualTo("1");
            c.setAutoCommit(true);
        }
    }

    @Test
    void setLocalOutsideATransactionHasNoEffect() throws Exception {
        try (Connection c = proxied()) {
            exec(c, "SET LOCAL hnsw.ef_search = 99");
            assertThat(show(c, "hnsw.ef_search")).isEqualTo("40");
        }
    }

    @Test
    void theServerSeesTheValueToo() throws Exception {
        try (Connection c = proxied()) {
            exec(c, "SET hnsw.ef_search = 64");
            assertThat(one(c, "SELECT current_setting('hnsw.ef_search')")).isEqualTo("64");
        }
    }

    @Test
    void showAndSetInPsql() throws Exception {
        Tool.Result r = psql("SET hnsw.ef_search = 55;\nSHOW hnsw.ef_search;\nBEGIN;\nSET LOCAL ivfflat.probes = 3;\nSHOW ivfflat.probes;\nCOMMIT;\nSHOW ivfflat.probes;\n");
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output().lines().toList()).containsExactly("55", "3", "1");
    }
}
