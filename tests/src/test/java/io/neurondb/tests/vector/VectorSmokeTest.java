package io.neurondb.tests.vector;

import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.tests.support.ProxyUnderTest;
import io.neurondb.tests.support.TestPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class VectorSmokeTest {

    static LocalPostgres pg;
    static ProxyUnderTest proxy;

    @BeforeAll
    static void start() throws Exception {
        pg = TestPostgres.shared();
        try (Connection c = TestPostgres.superuser(pg); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS vec_smoke");
            s.execute("CREATE DATABASE vec_smoke");
        }
        proxy = ProxyUnderTest.start(pg);
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
    }

    @Test
    void pgvectorQuickstart() throws Exception {
        try (Connection c = proxy.connectTo("vec_smoke"); Statement s = c.createStatement()) {
            s.execute("CREATE EXTENSION vector");
            s.execute("CREATE TABLE items (id bigserial PRIMARY KEY, embedding vector(3))");
            s.execute("INSERT INTO items (embedding) VALUES ('[1,2,3]'), ('[4,5,6]')");
            List<String> rows = new ArrayList<>();
            try (ResultSet rs = s.executeQuery("SELECT * FROM items ORDER BY embedding <-> '[3,1,2]' LIMIT 5")) {
                while (rs.next()) {
                    rows.add(rs.getLong(1) + " " + rs.getString(2));
                }
            }
            assertThat(rows).containsExactly("1 [1,2,3]", "2 [4,5,6]");
            s.execute("CREATE INDEX ON items USING hnsw (embedding vector_l2_ops)");
            rows.clear();
            try (PreparedStatement ps = c.prepareStatement("SELECT id FROM items ORDER BY embedding <-> ? LIMIT ?")) {
                ps.setString(1, "[4,5,7]");
                ps.setInt(2, 5);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        rows.add(rs.getString(1));
                    }
                }
            }
            assertThat(rows).containsExactly("2", "1");
            // Repeated: the first execution checks the role may read the table, later ones are
            // answered by the engine alone; the answer must not change.
            for (int i = 0; i < 3; i++) {
                assertThat(knnIds(c, "[4,5,7]")).containsExactly("2", "1");
                assertThat(knnIds(c, "[1,2,2]")).containsExactly("1", "2");
            }
            try (ResultSet rs = s.executeQuery("SELECT * FROM neurondb.index_stats()")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString("state")).isEqualTo("ready");
                assertThat(rs.getLong("rows")).isEqualTo(2);
            }
            // Becoming a role that may not read the table: the engine must not answer for it.
            s.execute("SET ROLE trust_user");
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> knnIds(c, "[1,2,3]"))
                    .isInstanceOf(java.sql.SQLException.class)
                    .satisfies(e -> assertThat(((java.sql.SQLException) e).getSQLState()).isEqualTo("42501"));
            s.execute("RESET ROLE");
            assertThat(knnIds(c, "[1,2,2]")).containsExactly("1", "2");
        }
        // A role without SELECT on the table never gets the engine's answer.
        java.util.Properties p = new java.util.Properties();
        p.setProperty("user", "trust_user");
        try (Connection other = java.sql.DriverManager.getConnection(proxy.jdbcUrl("vec_smoke"), p)) {
            for (int i = 0; i < 3; i++) {
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> knnIds(other, "[1,2,3]"))
                        .isInstanceOf(java.sql.SQLException.class)
                        .satisfies(e -> assertThat(((java.sql.SQLException) e).getSQLState()).isEqualTo("42501"));
            }
        }
    }

    @Test
    void aRoleThatOwnsItsTableUsesVectorsWithoutCatalogPrivileges() throws Exception {
        try (Connection c = proxy.connectTo("vec_smoke"); Statement s = c.createStatement()) {
            s.execute("CREATE EXTENSION IF NOT EXISTS vector");
            s.execute("GRANT CREATE ON SCHEMA public TO trust_user");
        }
        java.util.Properties p = new java.util.Properties();
        p.setProperty("user", "trust_user");
        try (Connection c = java.sql.DriverManager.getConnection(proxy.jdbcUrl("vec_smoke"), p); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE owned (id int PRIMARY KEY, e vector(2))");
            s.execute("INSERT INTO owned VALUES (1, '[0,1]'), (2, '[1,0]'), (3, '[1,1]')");
            s.execute("CREATE INDEX owned_e ON owned USING hnsw (e vector_cosine_ops)");
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                ids.clear();
                try (ResultSet rs = s.executeQuery("SELECT id FROM owned ORDER BY e <=> '[1,0.1]' LIMIT 2")) {
                    while (rs.next()) {
                        ids.add(rs.getString(1));
                    }
                }
                assertThat(ids).containsExactly("2", "3");
            }
            s.execute("DROP INDEX owned_e");
            s.execute("DROP TABLE owned");
        }
        // Nobody else may write the catalog directly.
        p.setProperty("user", "md5_user");
        p.setProperty("password", "md5pass");
        try (Connection c = java.sql.DriverManager.getConnection(proxy.jdbcUrl("vec_smoke"), p); Statement s = c.createStatement()) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> s.execute("DELETE FROM neurondb.indexes"))
                    .isInstanceOf(java.sql.SQLException.class).hasMessageContaining("permission denied");
        }
    }

    @Test
    void aMigrationCreatesAVectorTableAndFillsItInOneTransaction() throws Exception {
        try (Connection admin = TestPostgres.superuser(pg); Statement a = admin.createStatement()) {
            a.execute("DROP DATABASE IF EXISTS vec_smoke_mig");
            a.execute("CREATE DATABASE vec_smoke_mig");
        }
        try (Connection c = proxy.connectTo("vec_smoke_mig"); Statement s = c.createStatement()) {
            s.execute("CREATE EXTENSION IF NOT EXISTS vector");
            c.setAutoCommit(false);
            s.execute("CREATE TABLE migrated (id int PRIMARY KEY, e vector(3))");
            s.execute("INSERT INTO migrated VALUES (1, '[1,2,3]'), (2, '[3,2,1]')");
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO migrated VALUES (?, ?)")) {
                ps.setInt(1, 3);
                ps.setString(2, "[0,0,1]");
                ps.executeUpdate();
            }
            List<String> rows = new ArrayList<>();
            try (ResultSet rs = s.executeQuery("SELECT id, e FROM migrated ORDER BY e <-> '[3,2,0]' LIMIT 2")) {
                while (rs.next()) {
                    rows.add(rs.getInt(1) + " " + rs.getString(2));
                }
            }
            assertThat(rows).containsExactly("2 [3,2,1]", "1 [1,2,3]");
            c.commit();
            c.setAutoCommit(true);
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM migrated")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isEqualTo(3);
            }
        }
    }

    @Test
    void neurondbLogLevelDebugTracesOneSessionsRoutes() throws Exception {
        ch.qos.logback.classic.Logger pipelineLog = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory
                .getLogger("io.neurondb.proxy.session.RequestPipeline");
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> captured = new ch.qos.logback.core.read.ListAppender<>();
        captured.start();
        pipelineLog.addAppender(captured);
        ch.qos.logback.classic.Level testLevel = pipelineLog.getLevel();
        pipelineLog.setLevel(ch.qos.logback.classic.Level.INFO); // the tests' logback config keeps the proxy quiet
        try (Connection admin = TestPostgres.superuser(pg); Statement a = admin.createStatement()) {
            a.execute("DROP DATABASE IF EXISTS vec_smoke_log");
            a.execute("CREATE DATABASE vec_smoke_log");
        }
        try (Connection c = proxy.connectTo("vec_smoke_log"); Statement s = c.createStatement()) {
            s.execute("CREATE EXTENSION IF NOT EXISTS vector");
            s.execute("CREATE TABLE IF NOT EXISTS traced (id int PRIMARY KEY, e vector(2))");
            s.execute("INSERT INTO traced VALUES (1, '[0,1]'), (2, '[1,0]') ON CONFLICT DO NOTHING");
            s.execute("CREATE INDEX IF NOT EXISTS traced_e ON traced USING hnsw (e vector_l2_ops)");
            s.executeQuery("SELECT id FROM traced ORDER BY e <-> '[1,0.1]' LIMIT 1").close();
            assertThat(captured.list).noneMatch(e -> e.getFormattedMessage().contains("event=knn"));
            s.execute("SET neurondb.log_level = debug");
            s.executeQuery("SELECT id FROM traced ORDER BY e <-> '[1,0.1]' LIMIT 1").close();
            assertThat(captured.list).as(captured.list.toString()).anyMatch(e -> e.getFormattedMessage().contains("event=knn")
                    && e.getFormattedMessage().contains("index=public.traced_e"));
            // The values never appear in the trace.
            assertThat(captured.list).noneMatch(e -> e.getFormattedMessage().contains("0.1"));
            int before = captured.list.size();
            s.execute("SET neurondb.log_level = info");
            s.executeQuery("SELECT id FROM traced ORDER BY e <-> '[1,0.1]' LIMIT 1").close();
            assertThat(captured.list.subList(before, captured.list.size())).noneMatch(e -> e.getFormattedMessage().contains("event=knn"));
        } finally {
            pipelineLog.detachAppender(captured);
            pipelineLog.setLevel(testLevel);
        }
    }

    private static List<String> knnIds(Connection c, String vector) throws java.sql.SQLException {
        List<String> ids = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT id FROM items ORDER BY embedding <-> ? LIMIT 5")) {
            ps.setString(1, vector);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getString(1));
                }
            }
        }
        return ids;
    }
}
