package io.neurondb.tests.shim;

import io.neurondb.proxy.shim.ShimScripts;
import io.neurondb.tests.support.TestPostgres;
import io.neurondb.tests.support.Tool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Install, update, drop and backup of the shim, in databases of their own on real PostgreSQL 15. */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ShimLifecycleTest {

    /** Functions and operators of the shim in a schema (what DROP must remove). */
    private static String shimObjectsIn(String schemaLiteral) {
        return "SELECT (SELECT count(*) FROM pg_proc WHERE pronamespace = " + schemaLiteral + "::regnamespace"
                + " AND proname IN ('l2_distance','inner_product','cosine_distance','l1_distance','vector_dims','vector_norm','l2_normalize'))"
                + " + (SELECT count(*) FROM pg_operator WHERE oprnamespace = " + schemaLiteral + "::regnamespace"
                + " AND oprname IN ('<->','<#>','<=>','<+>'))";
    }

    private static final int SHIM_OBJECTS = 22 + 12;

    @Test
    void versionQueryBeforeAndAfterInstall() throws SQLException {
        try (ShimDb db = ShimDb.create("version")) {
            assertThat(db.one(ShimScripts.versionQuery())).isNull();
            db.exec(ShimScripts.install(null, false));
            assertThat(db.one(ShimScripts.versionQuery())).isEqualTo("1.2");
            assertThat(db.one("SELECT version FROM neurondb.extension")).isEqualTo(ShimScripts.LATEST_VERSION);
            assertThat(db.one("SELECT target_schema::text FROM neurondb.extension")).isEqualTo("public");
            assertThat(db.count(shimObjectsIn("'public'"))).isEqualTo(SHIM_OBJECTS);
        }
    }

    @Test
    void installTwiceFailsAndIfNotExistsChangesNothing() throws SQLException {
        try (ShimDb db = ShimDb.create("twice")) {
            db.exec(ShimScripts.install(null, false));
            Timestamp installedAt = (Timestamp) db.one("SELECT installed_at FROM neurondb.extension");
            long objects = db.count("SELECT count(*) FROM pg_proc WHERE pronamespace IN ('public'::regnamespace, 'neurondb'::regnamespace)");

            var e = db.error(ShimScripts.install(null, false));
            assertThat(e.state()).isEqualTo("42710");
            assertThat(e.message()).isEqualTo("extension \"neurondb\" already exists");

            List<String> notices = db.exec(ShimScripts.install(null, true));
            assertThat(notices).containsExactly("extension \"neurondb\" already exists, skipping");
            assertThat(db.one("SELECT installed_at FROM neurondb.extension")).isEqualTo(installedAt);
            assertThat(db.count("SELECT count(*) FROM neurondb.extension")).isEqualTo(1);
            assertThat(db.count("SELECT count(*) FROM pg_proc WHERE pronamespace IN ('public'::regnamespace, 'neurondb'::regnamespace)"))
                    .isEqualTo(objects);
        }
    }

    @Test
    void installIsAllOrNothing() throws SQLException {
        try (ShimDb db = ShimDb.create("atomic")) {
            var e = db.error(ShimScripts.install("no_such_schema", false));
            assertThat(e.state()).isEqualTo("3F000");
            assertThat(db.one("SELECT to_regnamespace('neurondb')")).isNull();
            assertThat(db.one(ShimScripts.versionQuery())).isNull();

            e = db.error(ShimScripts.install(null, false, "9.9"));
            assertThat(e.state()).isEqualTo("22023");
            assertThat(e.message()).isEqualTo("extension \"neurondb\" has no installation script nor update path for version \"9.9\"");
            assertThat(db.one("SELECT to_regnamespace('neurondb')")).isNull();
        }
    }

    @Test
    void customSchema() throws SQLException {
        try (ShimDb db = ShimDb.create("schema")) {
            db.exec("CREATE SCHEMA vec");
            db.exec(ShimScripts.install("vec", false));
            assertThat(db.count(shimObjectsIn("'vec'"))).isEqualTo(SHIM_OBJECTS);
            assertThat(db.count(shimObjectsIn("'public'"))).isZero();
            assertThat(db.one("SELECT target_schema::text FROM neurondb.extension")).isEqualTo("vec");
            assertThat(db.one("SELECT vec.l2_distance('{0,0}'::real[], '[3,4]')")).isEqualTo(5.0);
            db.exec("SET search_path = public, vec");
            assertThat(db.one("SELECT '{0,0}'::real[] <-> '[3,4]'")).isEqualTo(5.0);

            db.exec(ShimScripts.drop(false, false));
            assertThat(db.count(shimObjectsIn("'vec'"))).isZero();
            assertThat(db.one("SELECT to_regnamespace('neurondb')")).isNull();
            assertThat(db.one("SELECT to_regnamespace('vec')::text")).isEqualTo("vec");
        }
    }

    @Test
    void hostileSchemaNameIsAnIdentifierNotSql() throws SQLException {
        String name = "we\"ird; DROP TABLE victim; --\n$neurondb$ @extschema@ 'x'\\";
        try (ShimDb db = ShimDb.create("hostile")) {
            db.exec("CREATE TABLE victim (id int)");
            db.exec("CREATE SCHEMA " + ShimScripts.quoteIdent(name));
            db.exec(ShimScripts.install(name, false));
            String lit = "(SELECT oid FROM pg_namespace WHERE nspname = " + ShimScripts.quoteLiteral(name) + ")";
            assertThat(db.count(shimObjectsIn(lit))).isEqualTo(SHIM_OBJECTS);
            assertThat(db.one("SELECT target_schema::text FROM neurondb.extension")).isEqualTo(name);
            assertThat(db.one("SELECT to_regclass('victim')")).isNotNull();
            assertThat(db.one("SELECT " + ShimScripts.quoteIdent(name) + ".l1_distance('[1,2]', '[3,5]')")).isEqualTo(5.0);
            db.exec(ShimScripts.update(null));
            db.exec(ShimScripts.drop(false, false));
            assertThat(db.count(shimObjectsIn(lit))).isZero();
            assertThat(db.one("SELECT to_regclass('victim')")).isNotNull();
        }
    }

    @Test
    void updateFromOneZero() throws SQLException {
        try (ShimDb db = ShimDb.create("update")) {
            var e = db.error(ShimScripts.update(null));
            assertThat(e.state()).isEqualTo("42704");
            assertThat(e.message()).isEqualTo("extension \"neurondb\" does not exist");

            db.exec(ShimScripts.install(null, false, "1.0"));
            assertThat(db.one("SELECT version FROM neurondb.extension")).isEqualTo("1.0");
            assertThat(db.one("SELECT to_regclass('neurondb.backups')")).isNull();

            e = db.error(ShimScripts.update("9.9"));
            assertThat(e.state()).isEqualTo("22023");
            assertThat(db.one("SELECT version FROM neurondb.extension")).isEqualTo("1.0");

            assertThat(db.exec(ShimScripts.update(null))).isEmpty();
            assertThat(db.one("SELECT version FROM neurondb.extension")).isEqualTo("1.2");
            assertThat(db.one("SELECT neurondb.version()")).isEqualTo("1.2");
            db.exec("INSERT INTO neurondb.backups (kind, status, start_lsn) VALUES ('base', 'running', '0/16B3748')");
            assertThat(db.error("INSERT INTO neurondb.backups (kind, status) VALUES ('base', 'bogus')").state()).isEqualTo("23514");

            assertThat(db.exec(ShimScripts.update(null)))
                    .containsExactly("version \"1.2\" of extension \"neurondb\" is already installed");
            assertThat(db.exec(ShimScripts.update("1.2")))
                    .containsExactly("version \"1.2\" of extension \"neurondb\" is already installed");
            e = db.error(ShimScripts.update("1.0"));
            assertThat(e.state()).isEqualTo("22023");
            assertThat(e.message()).isEqualTo("extension \"neurondb\" has no update path from version \"1.2\" to version \"1.0\"");
        }
    }

    @Test
    void dropRestrictRefusesDependentsAndCascadeRemovesThem() throws SQLException {
        try (ShimDb db = ShimDb.create("drop")) {
            var e = db.error(ShimScripts.drop(false, false));
            assertThat(e.state()).isEqualTo("42704");
            assertThat(e.message()).isEqualTo("extension \"neurondb\" does not exist");
            assertThat(db.exec(ShimScripts.drop(true, false))).containsExactly("extension \"neurondb\" does not exist, skipping");

            db.exec(ShimScripts.install(null, false));
            db.exec("CREATE TABLE items (id int, embedding real[] CHECK (neurondb.vector_check(embedding, 3)))");
            db.exec("INSERT INTO items VALUES (1, '{1,2,3}')");
            long before = db.count("SELECT count(*) FROM pg_proc WHERE pronamespace IN ('public'::regnamespace, 'neurondb'::regnamespace)");

            e = db.error(ShimScripts.drop(false, false));
            assertThat(e.state()).isEqualTo("2BP01");
            assertThat(e.message()).isEqualTo("cannot drop extension neurondb because other objects depend on it");
            assertThat(e.detail()).contains("items");
            assertThat(db.count("SELECT count(*) FROM pg_proc WHERE pronamespace IN ('public'::regnamespace, 'neurondb'::regnamespace)"))
                    .isEqualTo(before);
            assertThat(db.count(shimObjectsIn("'public'"))).isEqualTo(SHIM_OBJECTS);
            assertThat(db.one("SELECT version FROM neurondb.extension")).isEqualTo("1.2");

            // A view using an operator is a dependent too.
            db.exec("ALTER TABLE items DROP CONSTRAINT items_embedding_check");
            db.exec("CREATE VIEW near AS SELECT id FROM items ORDER BY embedding <-> '{1,1,1}'::real[]");
            assertThat(db.error(ShimScripts.drop(false, false)).state()).isEqualTo("2BP01");
            assertThat(db.count(shimObjectsIn("'public'"))).isEqualTo(SHIM_OBJECTS);
            db.exec("ALTER TABLE items ADD CHECK (neurondb.vector_check(embedding, 3))");

            db.exec(ShimScripts.drop(false, true));
            assertThat(db.count(shimObjectsIn("'public'"))).isZero();
            assertThat(db.count("SELECT count(*) FROM pg_proc WHERE pronamespace = 'public'::regnamespace")).isZero();
            assertThat(db.count("SELECT count(*) FROM pg_operator WHERE oprnamespace = 'public'::regnamespace")).isZero();
            assertThat(db.one("SELECT to_regnamespace('neurondb')")).isNull();
            assertThat(db.one("SELECT to_regclass('near')")).isNull();
            assertThat(db.count("SELECT count(*) FROM pg_constraint WHERE conrelid = 'items'::regclass")).isZero();
            assertThat(db.count("SELECT count(*) FROM items")).isEqualTo(1);

            // And it can be installed again.
            db.exec(ShimScripts.install(null, false));
            assertThat(db.one(ShimScripts.versionQuery())).isEqualTo("1.2");
        }
    }

    @Test
    void dropLeavesUserObjectsOfTheTargetSchema() throws SQLException {
        try (ShimDb db = ShimDb.create("dropmine")) {
            db.exec("CREATE FUNCTION l2_distance(integer) RETURNS integer LANGUAGE sql AS 'SELECT $1'");
            db.exec(ShimScripts.install(null, false));
            db.exec(ShimScripts.drop(false, false));
            assertThat(db.count(shimObjectsIn("'public'"))).isEqualTo(1);
            assertThat(db.one("SELECT l2_distance(7)")).isEqualTo(7);
        }
    }

    @Test
    void pgDumpAndRestoreCarryTheShimAndTheData() throws Exception {
        Path dir = Files.createTempDirectory("neurondb-shim-dump-");
        try (ShimDb src = ShimDb.create("dumpsrc"); ShimDb dst = ShimDb.create("dumpdst")) {
            src.exec(ShimScripts.install(null, false));
            src.exec("""
                    CREATE TABLE items (id int PRIMARY KEY, embedding real[] CHECK (neurondb.vector_check(embedding, 3)));
                    INSERT INTO items VALUES (1, '{0,0,0}'), (2, '{1,1,1}'), (3, '{5,5,5}');
                    INSERT INTO neurondb.vector_columns VALUES ('items', 'embedding', 3);
                    INSERT INTO neurondb.indexes (schema_name, index_name, table_name, column_name, key_column, method, opclass, options)
                    VALUES ('public', 'items_embedding_idx', 'items', 'embedding', 'id', 'hnsw', 'vector_l2_ops', '{"m": 16}')""");
            Map<String, String> env = Map.of("PGPASSWORD", TestPostgres.SUPERUSER_PASSWORD);
            List<String> conn = List.of("-h", "127.0.0.1", "-p", String.valueOf(src.pg.port()), "-U", TestPostgres.SUPERUSER);

            Path plain = dir.resolve("dump.sql");
            List<String> dumpArgs = new java.util.ArrayList<>(conn);
            dumpArgs.addAll(List.of("-f", plain.toString(), src.name));
            Tool.Result dump = Tool.run(src.pg.binDir(), "pg_dump", env, null, dumpArgs);
            assertThat(dump.exitCode()).as(dump.output()).isZero();

            List<String> restoreArgs = new java.util.ArrayList<>(conn);
            restoreArgs.addAll(List.of("-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dst.name, "-f", plain.toString()));
            Tool.Result restore = Tool.run(src.pg.binDir(), "psql", env, null, restoreArgs);
            assertThat(restore.exitCode()).as(restore.output()).isZero();

            try (Connection c = ShimDb.connect(dst.pg, dst.name)) {
                ShimDb restored = dst;
                assertThat(restored.one(ShimScripts.versionQuery())).isEqualTo("1.2");
                assertThat(restored.one("SELECT neurondb.version()")).isEqualTo("1.2");
                assertThat(restored.one("SELECT string_agg(id::text, ',' ORDER BY embedding <-> '[4,4,4]') FROM items"))
                        .isEqualTo("3,2,1");
                assertThat(restored.one("SELECT l2_distance(embedding, '[0,0,4]') FROM items WHERE id = 1")).isEqualTo(4.0);
                assertThat(restored.one("SELECT table_name::text || '.' || column_name || ':' || dims FROM neurondb.vector_columns"))
                        .isEqualTo("items.embedding:3");
                assertThat(restored.one("SELECT options->>'m' FROM neurondb.indexes")).isEqualTo("16");
                var e = ShimDb.error(c, "INSERT INTO items VALUES (9, '{1,2}')");
                assertThat(e.state()).isEqualTo("22000");
                assertThat(e.message()).isEqualTo("expected 3 dimensions, not 2");
                // The restored shim is still one that DROP can remove.
                assertThat(restored.error(ShimScripts.drop(false, false)).state()).isEqualTo("2BP01");
                restored.exec(ShimScripts.drop(false, true));
                assertThat(restored.count(shimObjectsIn("'public'"))).isZero();
            }

            // The custom format through pg_restore, too.
            Path custom = dir.resolve("dump.custom");
            List<String> customArgs = new java.util.ArrayList<>(conn);
            customArgs.addAll(List.of("-Fc", "-f", custom.toString(), src.name));
            assertThat(Tool.run(src.pg.binDir(), "pg_dump", env, null, customArgs).exitCode()).isZero();
            try (ShimDb dst2 = ShimDb.create("dumpdst2")) {
                List<String> pgRestoreArgs = new java.util.ArrayList<>(conn);
                pgRestoreArgs.addAll(List.of("--exit-on-error", "-d", dst2.name, custom.toString()));
                Tool.Result r = Tool.run(src.pg.binDir(), "pg_restore", env, null, pgRestoreArgs);
                assertThat(r.exitCode()).as(r.output()).isZero();
                assertThat(dst2.one("SELECT string_agg(id::text, ',' ORDER BY embedding <+> '[1,2,3]') FROM items WHERE id > 1"))
                        .isEqualTo("2,3");
            }
        } finally {
            try (var files = Files.list(dir)) {
                for (Path p : files.toList()) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(dir);
        }
    }

    @Test
    void ordinaryRolesCanUseTheShim() throws SQLException {
        try (ShimDb db = ShimDb.create("roles")) {
            db.exec(ShimScripts.install(null, false));
            db.exec("CREATE TABLE items (id int, embedding real[] CHECK (neurondb.vector_check(embedding, 2)))");
            db.exec("GRANT SELECT, INSERT ON items TO trust_user");
            java.util.Properties p = new java.util.Properties();
            p.setProperty("user", "trust_user");
            try (Connection c = java.sql.DriverManager.getConnection(db.pg.jdbcUrl(db.name), p);
                 var s = c.createStatement()) {
                s.execute("INSERT INTO items VALUES (1, '{3,4}'), (2, '{1,1}')");
                try (var rs = s.executeQuery("SELECT id, embedding <-> '[0,0]' FROM items ORDER BY embedding <-> '[0,0]' LIMIT 1")) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getInt(1)).isEqualTo(2);
                }
                try (var rs = s.executeQuery("SELECT neurondb.version(), (SELECT count(*) FROM neurondb.indexes)")) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getString(1)).isEqualTo("1.2");
                }
                assertThat(ShimDb.error(c, "INSERT INTO items VALUES (3, '{1,2,3}')").message())
                        .isEqualTo("expected 2 dimensions, not 3");
            }
        }
    }

    /** As the proxy sends them: each script as one simple-protocol Query message. */
    @Test
    void scriptsRunAsOneSimpleQuery() throws SQLException {
        try (ShimDb db = ShimDb.create("simple")) {
            java.util.Properties p = new java.util.Properties();
            p.setProperty("user", TestPostgres.SUPERUSER);
            p.setProperty("password", TestPostgres.SUPERUSER_PASSWORD);
            p.setProperty("preferQueryMode", "simple");
            try (Connection c = java.sql.DriverManager.getConnection(db.pg.jdbcUrl(db.name), p)) {
                ShimDb.exec(c, ShimScripts.install(null, false, "1.0"));
                assertThat(ShimDb.exec(c, ShimScripts.install(null, true))).containsExactly("extension \"neurondb\" already exists, skipping");
                ShimDb.exec(c, ShimScripts.update(null));
                assertThat(db.one(ShimScripts.versionQuery())).isEqualTo("1.2");
                ShimDb.exec(c, ShimScripts.drop(false, false));
                assertThat(db.one(ShimScripts.versionQuery())).isNull();
            }
        }
    }

    @Test
    void quotingHelpers() {
        assertThat(ShimScripts.quoteIdent("a\"b")).isEqualTo("\"a\"\"b\"");
        assertThat(ShimScripts.quoteLiteral("it's \\")).isEqualTo("E'it''s \\\\'");
        assertThatThrownBy(() -> ShimScripts.quoteIdent("a\0b")).isInstanceOf(IllegalArgumentException.class);
    }
}
