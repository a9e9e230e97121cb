package io.neurondb.tests.vector;

import io.neurondb.tests.support.TestPostgres;
import io.neurondb.tests.support.Tool;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** CREATE / ALTER / DROP EXTENSION neurondb (and pgvector's name, vector) through the proxy. */
class ExtensionLifecycleTest extends VectorProxyTestBase {

    /**
     * pgjdbc in the simple protocol here; the same commands after a failed one in the extended
     * protocol are in VectorRegressionsTest.
     */
    @Override
    protected Connection proxied() throws java.sql.SQLException {
        java.util.Properties p = new java.util.Properties();
        p.setProperty("preferQueryMode", "simple");
        return proxied(p);
    }

    @BeforeEach
    void clean() throws Exception {
        try (Connection c = proxied()) {
            exec(c, "DROP EXTENSION IF EXISTS neurondb CASCADE", "DROP TABLE IF EXISTS items, docs CASCADE",
                    "DROP SCHEMA IF EXISTS ext CASCADE");
        }
    }

    @Test
    void createExtensionVectorInstallsTheShimInStockPostgres() throws Exception {
        try (Connection c = proxied()) {
            exec(c, "CREATE EXTENSION vector");
        }
        try (Connection d = direct()) {
            // Stock PostgreSQL: no pgvector, the shim is plain SQL objects.
            assertThat(rows(d, "SELECT count(*) FROM pg_extension WHERE extname = 'vector'")).containsExactly("0");
            assertThat(one(d, "SELECT version || '|' || target_schema FROM neurondb.extension")).isEqualTo("1.2|public");
            assertThat(rows(d, "SELECT to_regclass('neurondb.vector_columns') IS NOT NULL, to_regclass('neurondb.indexes') IS NOT NULL"))
                    .containsExactly("t|t");
            assertThat(rows(d, "SELECT oprname FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace "
                    + "WHERE n.nspname = 'public' GROUP BY oprname ORDER BY oprname"))
                    .containsExactly("<#>", "<+>", "<->", "<=>");
            assertThat(rows(d, "SELECT DISTINCT proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                    + "WHERE n.nspname = 'public' ORDER BY proname"))
                    .contains("cosine_distance", "inner_product", "l1_distance", "l2_distance", "l2_normalize", "vector_dims", "vector_norm");
        }
        try (Connection c = proxied()) {
            assertThat(Double.parseDouble(one(c, "SELECT l2_distance('[1,2,3]', '[1,2,5]')"))).isEqualTo(2.0);
            assertThat(one(c, "SELECT vector_dims('[1,2,3]')")).isEqualTo("3");
            assertThat(Double.parseDouble(one(c, "SELECT vector_norm('[3,4]')"))).isEqualTo(5.0);
            assertThat(Double.parseDouble(one(c, "SELECT cosine_distance('[1,0]', '[0,1]')"))).isEqualTo(1.0);
            assertThat(Double.parseDouble(one(c, "SELECT inner_product('[1,2]', '[3,4]')"))).isEqualTo(11.0);
            assertThat(Double.parseDouble(one(c, "SELECT l1_distance('[1,2]', '[3,5]')"))).isEqualTo(5.0);
            assertThat(Double.parseDouble(one(c, "SELECT '[1,2,3]' <-> '[1,2,5]'::text"))).isEqualTo(2.0);
        }
    }

    @Test
    void createExtensionTwiceFailsButIfNotExistsOnlyNotices() throws Exception {
        try (Connection c = proxied(); Statement s = c.createStatement()) {
            s.execute("CREATE EXTENSION neurondb");
            expectError("42710", "extension \"neurondb\" already exists", () -> s.execute("CREATE EXTENSION neurondb"));
            s.execute("CREATE EXTENSION IF NOT EXISTS neurondb");
            SQLWarning w = s.getWarnings();
            assertThat((Object) w).isNotNull();
            assertThat(w.getMessage()).contains("already exists, skipping");
            s.execute("CREATE EXTENSION IF NOT EXISTS vector");
            // The connection is fine afterwards.
            assertThat(one(c, "SELECT count(*) FROM neurondb.extension")).isEqualTo("1");
        }
    }

    @Test
    void createExtensionIfNotExistsThroughPreparedStatement() throws Exception {
        try (Connection c = proxied()) {
            try (var ps = c.prepareStatement("CREATE EXTENSION IF NOT EXISTS neurondb")) {
                ps.execute();
            }
            try (var ps = c.prepareStatement("CREATE EXTENSION IF NOT EXISTS neurondb")) {
                ps.execute();
            }
            assertThat(one(c, "SELECT version FROM neurondb.extension")).isEqualTo("1.2");
        }
    }

    @Test
    void createExtensionInAnotherSchema() throws Exception {
        try (Connection c = proxied()) {
            exec(c, "CREATE SCHEMA ext", "CREATE EXTENSION neurondb SCHEMA ext");
            assertThat(one(c, "SELECT target_schema FROM neurondb.extension")).isEqualTo("ext");
            assertThat(Double.parseDouble(one(c, "SELECT ext.l2_distance('[0,0]', '[3,4]')"))).isEqualTo(5.0);
        }
        try (Connection d = direct()) {
            assertThat(rows(d, "SELECT count(*) FROM pg_proc WHERE proname = 'l2_distance' AND pronamespace = 'public'::regnamespace"))
                    .containsExactly("0");
            assertThat(rows(d, "SELECT count(*) > 0 FROM pg_operator WHERE oprname = '<->' AND oprnamespace = 'ext'::regnamespace"))
                    .containsExactly("t");
        }
        try (Connection c = proxied()) {
            exec(c, "DROP EXTENSION neurondb");
        }
        try (Connection d = direct()) {
            assertThat(rows(d, "SELECT count(*) FROM pg_proc WHERE pronamespace = 'ext'::regnamespace")).containsExactly("0");
            assertThat(rows(d, "SELECT to_regnamespace('neurondb') IS NULL")).containsExactly("t");
        }
    }

    @Test
    void alterExtensionUpdateRunsMigrations() throws Exception {
        try (Connection c = proxied(); Statement s = c.createStatement()) {
            s.execute("CREATE EXTENSION neurondb VERSION '1.0'");
            assertThat(one(c, "SELECT version FROM neurondb.extension")).isEqualTo("1.0");
            assertThat(one(c, "SELECT to_regclass('neurondb.backups') IS NULL")).isEqualTo("t");
            s.execute("ALTER EXTENSION neurondb UPDATE");
            assertThat(one(c, "SELECT version FROM neurondb.extension")).isEqualTo("1.2");
            assertThat(one(c, "SELECT to_regclass('neurondb.backups') IS NOT NULL")).isEqualTo("t");
            s.execute("ALTER EXTENSION neurondb UPDATE TO '1.2'");
            assertThat((Object) s.getWarnings()).isNotNull();
            assertThat(s.getWarnings().getMessage()).contains("already installed");
            expectError("22023", "no update path", () -> s.execute("ALTER EXTENSION neurondb UPDATE TO '9.9'"));
            assertThat(one(c, "SELECT version FROM neurondb.extension")).isEqualTo("1.2");
        }
    }

    @Test
    void alterExtensionVectorUpdateIsAcceptedToo() throws Exception {
        try (Connection c = proxied(); Statement s = c.createStatement()) {
            s.execute("CREATE EXTENSION vector VERSION '1.0'");
            s.execute("ALTER EXTENSION vector UPDATE");
            assertThat(one(c, "SELECT version FROM neurondb.extension")).isEqualTo("1.2");
        }
    }

    @Test
    void alterAndDropWhenNotInstalled() throws Exception {
        try (Connection c = proxied(); Statement s = c.createStatement()) {
            expectError("42704", "does not exist", () -> s.execute("ALTER EXTENSION neurondb UPDATE"));
            expectError("42704", "does not exist", () -> s.execute("DROP EXTENSION neurondb"));
            s.execute("DROP EXTENSION IF EXISTS neurondb");
            assertThat((Object) s.getWarnings()).isNotNull();
            assertThat(s.getWarnings().getMessage()).contains("does not exist, skipping");
        }
    }

    @Test
    void dropExtensionRestrictRefusesWithDependentTablesCascadeRemoves() throws Exception {
        try (Connection c = proxied(); Statement s = c.createStatement()) {
            s.execute("CREATE EXTENSION vector");
            s.execute("CREATE TABLE items (id bigint PRIMARY KEY, embedding vector(3))");
            s.execute("INSERT INTO items VALUES (1, '[1,2,3]')");
            expectError("2BP01", "other objects depend on it", () -> s.execute("DROP EXTENSION vector"));
            // nothing removed
            assertThat(one(c, "SELECT count(*) FROM neurondb.vector_columns")).isEqualTo("1");
            s.execute("DROP EXTENSION vector CASCADE");
        }
        try (Connection d = direct()) {
            assertThat(rows(d, "SELECT to_regnamespace('neurondb') IS NULL")).containsExactly("t");
            assertThat(rows(d, "SELECT count(*) FROM pg_operator WHERE oprname = '<->' AND oprnamespace = 'public'::regnamespace"))
                    .containsExactly("0");
            // The table and its data stay (only the shim's CHECK went with the cascade).
            assertThat(rows(d, "SELECT id, embedding::text FROM items")).containsExactly("1|{1,2,3}");
        }
    }

    @Test
    void dropExtensionWithoutDependentsRemovesTheSchema() throws Exception {
        try (Connection c = proxied()) {
            exec(c, "CREATE EXTENSION neurondb", "DROP EXTENSION neurondb");
            assertThat(one(c, "SELECT to_regnamespace('neurondb') IS NULL")).isEqualTo("t");
            exec(c, "CREATE EXTENSION neurondb");
            assertThat(one(c, "SELECT version FROM neurondb.extension")).isEqualTo("1.2");
        }
    }

    @Test
    void commandTagsInPsql() throws Exception {
        Tool.Result r = Tool.run(pg.binDir(), "psql", psqlEnv(),
                "CREATE EXTENSION IF NOT EXISTS neurondb;\nALTER EXTENSION neurondb UPDATE;\nDROP EXTENSION neurondb;\nCREATE EXTENSION vector;\n",
                List.of("-X", "-v", "ON_ERROR_STOP=1"));
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).contains("CREATE EXTENSION").contains("ALTER EXTENSION").contains("DROP EXTENSION");
    }

    @Test
    void pgDumpCarriesTheShimTheCatalogAndTheIndexDefinitions() throws Exception {
        try (Connection c = proxied()) {
            exec(c, "CREATE EXTENSION vector",
                    "CREATE TABLE items (id bigint PRIMARY KEY, embedding vector(3))",
                    "INSERT INTO items VALUES (1, '[1,2,3]'), (2, '[4,5,6]')",
                    "CREATE INDEX items_emb_hnsw ON items USING hnsw (embedding vector_cosine_ops) WITH (m = 8)");
        }
        Path dump = Files.createTempFile("neurondb-dump-", ".sql");
        try {
            Map<String, String> env = psqlEnv();
            Tool.Result r = Tool.run(pg.binDir(), "pg_dump", env, null, List.of("-f", dump.toString(), db));
            assertThat(r.exitCode()).as(r.output()).isZero();
            String sql = Files.readString(dump);
            assertThat(sql).contains("CREATE SCHEMA neurondb").contains("CREATE TABLE neurondb.indexes")
                    .contains("items_emb_hnsw").contains("vector_cosine_ops").contains("neurondb.vector_check(");

            try (Connection su = TestPostgres.superuser(pg)) {
                exec(su, "DROP DATABASE IF EXISTS vt_restored WITH (FORCE)", "CREATE DATABASE vt_restored");
            }
            Map<String, String> direct = Map.of("PGHOST", "127.0.0.1", "PGPORT", String.valueOf(pg.port()), "PGUSER", "postgres",
                    "PGPASSWORD", "postgres", "PGDATABASE", "vt_restored", "PGSSLMODE", "disable");
            Tool.Result restore = Tool.run(pg.binDir(), "psql", direct, null,
                    List.of("-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", dump.toString()));
            assertThat(restore.exitCode()).as(restore.output()).isZero();
            // Through the proxy: the restored database has its shim, columns, index definition and an engine index again.
            try (Connection c = proxy.connectTo("vt_restored")) {
                assertThat(one(c, "SELECT index_name || '|' || method || '|' || opclass FROM neurondb.indexes"))
                        .isEqualTo("items_emb_hnsw|hnsw|vector_cosine_ops");
                assertThat(rows(c, "SELECT id FROM items ORDER BY embedding <=> '[4,5,6]' LIMIT 1")).containsExactly("2");
                assertThat(rows(c, "SELECT * FROM items ORDER BY id")).containsExactly("1|[1,2,3]", "2|[4,5,6]");
            }
        } finally {
            Files.deleteIfExists(dump);
        }
    }
}
