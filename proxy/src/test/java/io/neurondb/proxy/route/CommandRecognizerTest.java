package io.neurondb.proxy.route;

import io.neurondb.proxy.route.Effect.CopyIn;
import io.neurondb.proxy.route.Effect.CopyOptions;
import io.neurondb.proxy.route.ProxyCommand.CallFunction;
import io.neurondb.proxy.route.ProxyCommand.CallPluginFunction;
import io.neurondb.proxy.route.ProxyCommand.CreateExtension;
import io.neurondb.proxy.route.ProxyCommand.CreateVectorIndex;
import io.neurondb.proxy.route.ProxyCommand.DropExtension;
import io.neurondb.proxy.route.ProxyCommand.DropVectorIndexes;
import io.neurondb.proxy.route.ProxyCommand.NeuronDbFunction;
import io.neurondb.proxy.route.ProxyCommand.ReindexVectorIndex;
import io.neurondb.proxy.route.ProxyCommand.Reject;
import io.neurondb.proxy.route.ProxyCommand.SetSetting;
import io.neurondb.proxy.route.ProxyCommand.ShowSetting;
import io.neurondb.proxy.route.ProxyCommand.UpdateExtension;
import io.neurondb.proxy.route.StatementPlan.Command;
import io.neurondb.proxy.route.StatementPlan.Passthrough;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class CommandRecognizerTest {

    private static final VectorCatalog.Table ITEMS = new VectorCatalog.Table("public", "items", 1001,
            List.of("id", "embedding", "title", "small"), dims("embedding", 3, "small", 2),
            Map.of("embedding", 2, "small", 4));
    private static final VectorCatalog.Table OTHER_ITEMS = new VectorCatalog.Table("other", "items", 1002,
            List.of("id", "v"), dims("v", 8), Map.of("v", 2));
    private static final VectorCatalog.Table ODD = new VectorCatalog.Table("My Schema", "Big \"Table\"", 1003,
            List.of("Id", "Vec Col"), dims("Vec Col", null), Map.of("Vec Col", 2));
    private static final VectorCatalog.Table DOCS = new VectorCatalog.Table("app", "docs", 1004,
            List.of("id", "body", "emb"), dims("emb", 4), Map.of("emb", 3));

    private static final IndexDefinition ITEMS_IDX = new IndexDefinition("public", "items_embedding_idx",
            TableName.of("public", "items"), "embedding", "id", IndexMethod.HNSW, DistanceOperator.L2, Map.of("m", 16));
    private static final IndexDefinition ODD_IDX = new IndexDefinition("My Schema", "Odd Idx",
            TableName.of("My Schema", "Big \"Table\""), "Vec Col", "Id", IndexMethod.IVFFLAT, DistanceOperator.COSINE,
            Map.of("lists", 10));
    private static final IndexDefinition DOCS_IDX = new IndexDefinition("app", "docs_emb_idx",
            TableName.of("app", "docs"), "emb", "id", IndexMethod.HNSW, DistanceOperator.NEGATIVE_INNER_PRODUCT, Map.of());

    private static final VectorCatalog CATALOG = new VectorCatalog(7, List.of(ITEMS, OTHER_ITEMS, ODD, DOCS),
            List.of(ITEMS_IDX, ODD_IDX, DOCS_IDX));

    private final CommandRecognizer recognizer = new CommandRecognizer();

    private static Map<String, Integer> dims(Object... pairs) {
        Map<String, Integer> m = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            m.put((String) pairs[i], (Integer) pairs[i + 1]);
        }
        return m;
    }

    private Optional<StatementPlan> plan(String sql) {
        return recognizer.recognize(sql, CATALOG);
    }

    private ProxyCommand command(String sql) {
        Optional<StatementPlan> plan = plan(sql);
        assertThat(plan).as(sql).isPresent();
        assertThat(plan.get()).as(sql).isInstanceOf(Command.class);
        return ((Command) plan.get()).command();
    }

    private Effect effect(String sql) {
        Optional<StatementPlan> plan = plan(sql);
        assertThat(plan).as(sql).isPresent();
        assertThat(plan.get()).as(sql).isInstanceOf(Passthrough.class);
        return ((Passthrough) plan.get()).effect();
    }

    private void assertRejected(String sql, String sqlState, String message) {
        ProxyCommand cmd = command(sql);
        assertThat(cmd).as(sql).isInstanceOf(Reject.class);
        assertThat(((Reject) cmd).sqlState()).as(sql).isEqualTo(sqlState);
        assertThat(((Reject) cmd).message()).as(sql).isEqualTo(message);
    }

    private void assertRejectedContaining(String sql, String sqlState, String... fragments) {
        ProxyCommand cmd = command(sql);
        assertThat(cmd).as(sql).isInstanceOf(Reject.class);
        assertThat(((Reject) cmd).sqlState()).as(sql).isEqualTo(sqlState);
        assertThat(((Reject) cmd).message()).as(sql).contains(fragments);
    }

    // ------------------------------------------------------------------ not ours

    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT 1",
            "SELECT 'CREATE EXTENSION neurondb'",
            "/* SET hnsw.ef_search = 1 */ SELECT 1",
            "-- CREATE EXTENSION vector\nSELECT 1",
            "SELECT $$DROP INDEX items_embedding_idx$$",
            "SELECT \"SET hnsw.ef_search = 1\" FROM t",
            "",
            "   ",
            "-- only a comment",
            ";",
            "SELECT 'unterminated",
            "INSERT INTO items (embedding) VALUES ('[1,2,3]')",
            "CREATE TABLE t (id int, v vector(3))",
            "CREATE EXTENSION pg_trgm",
            "CREATE EXTENSION IF NOT EXISTS postgis CASCADE",
            "CREATE EXTENSION \"Vector\"",
            "ALTER EXTENSION pg_trgm UPDATE",
            "DROP EXTENSION pg_trgm, hstore",
            "CREATE INDEX ON items (title)",
            "CREATE INDEX t_idx ON items USING btree (title)",
            "CREATE INDEX ON items USING gin (title gin_trgm_ops)",
            "CREATE INDEX ON items USING \"HNSW\" (embedding vector_l2_ops)",
            "DROP INDEX some_btree_idx",
            "DROP INDEX IF EXISTS a, b CASCADE",
            "DROP INDEX other.items_embedding_idx",
            "REINDEX INDEX some_btree_idx",
            "REINDEX TABLE items",
            "REINDEX DATABASE app",
            "SET search_path = public",
            "SET statement_timeout TO 1000",
            "SET LOCAL work_mem = '64MB'",
            "SET TIME ZONE 'UTC'",
            "SET SESSION AUTHORIZATION bob",
            "SET foo.bar = 1",
            "SET \"hnsw\" = 1",
            "SET neurondb_x.y = 1",
            "RESET search_path",
            "RESET SESSION AUTHORIZATION",
            "SHOW search_path",
            "SHOW ALL",
            "SHOW foo.bar",
            "SELECT neurondb.version() FROM t",
            "SELECT neurondb.version(), 1",
            "SELECT neurondb.version()::text",
            "SELECT neurondb.version(1)",
            "SELECT neurondb.other()",
            "SELECT version()",
            "SELECT public.version()",
            "SELECT * FROM neurondb.index_stats() WHERE index_name = 'x'",
            "SELECT * FROM neurondb.version()",
            "SELECT neurondb.index_stats()",
            "SELECT index_name FROM neurondb.index_stats()",
            "EXPLAIN SELECT neurondb.version()",
            "(SELECT neurondb.version())",
            "COPY plain_table FROM STDIN",
            "COPY items TO STDOUT",
            "COPY items FROM '/tmp/items.csv' WITH (FORMAT csv)",
            "COPY items FROM PROGRAM 'cat x' CSV",
            "COPY (SELECT * FROM items) TO STDOUT",
            "COPY items (id, title) FROM STDIN",
            "COPY items (id, title) FROM STDIN (FORMAT binary)",
            "DROP TABLE plain_table",
            "DROP TABLE IF EXISTS a, b CASCADE",
            "DROP VIEW items",
            "TRUNCATE plain_table",
            "SELECT 1; SET hnsw.ef_search = 10",
            "SET hnsw.ef_search = 10; SELECT 1",
    })
    void notRecognised(String sql) {
        assertThat(plan(sql)).as(sql).isEmpty();
    }

    // ------------------------------------------------------------------ CREATE EXTENSION

    @Test
    void createExtensionForms() {
        assertThat(command("CREATE EXTENSION neurondb")).isEqualTo(new CreateExtension("neurondb", null, null, false));
        assertThat(command("create extension vector;")).isEqualTo(new CreateExtension("vector", null, null, false));
        assertThat(command("CREATE EXTENSION IF NOT EXISTS vector")).isEqualTo(new CreateExtension("vector", null, null, true));
        assertThat(command("CREATE EXTENSION \"vector\" WITH SCHEMA \"My Ext\" VERSION '0.8.0' CASCADE"))
                .isEqualTo(new CreateExtension("vector", "My Ext", "0.8.0", false));
        assertThat(command("CREATE EXTENSION NeuronDB SCHEMA Ext version v2"))
                .isEqualTo(new CreateExtension("neurondb", "ext", "v2", false));
        assertThat(command("CREATE EXTENSION neurondb CASCADE VERSION '1.0' SCHEMA s"))
                .isEqualTo(new CreateExtension("neurondb", "s", "1.0", false));
        assertThat(command("/* set up */ CREATE /* really */ EXTENSION -- now\n IF NOT EXISTS vector ; "))
                .isEqualTo(new CreateExtension("vector", null, null, true));
    }

    @Test
    void createExtensionRedundantOptions() {
        assertRejected("CREATE EXTENSION vector SCHEMA a SCHEMA b", "42601", "conflicting or redundant options");
    }

    @Test
    void createExtensionSyntaxErrorsAreLeftToPostgres() {
        assertThat(plan("CREATE EXTENSION vector FROM unpackaged")).isEmpty();
        assertThat(plan("CREATE EXTENSION IF NOT vector")).isEmpty();
    }

    // ------------------------------------------------------------------ ALTER / DROP EXTENSION

    @Test
    void alterExtensionUpdate() {
        assertThat(command("ALTER EXTENSION neurondb UPDATE")).isEqualTo(new UpdateExtension("neurondb", null));
        assertThat(command("alter extension VECTOR update to '0.8.0';")).isEqualTo(new UpdateExtension("vector", "0.8.0"));
        assertThat(command("ALTER EXTENSION neurondb UPDATE TO v2")).isEqualTo(new UpdateExtension("neurondb", "v2"));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "ALTER EXTENSION neurondb SET SCHEMA other",
            "ALTER EXTENSION vector ADD FUNCTION f()",
            "ALTER EXTENSION vector DROP TABLE t",
            "ALTER EXTENSION neurondb OWNER TO bob",
    })
    void otherAlterExtensionFormsOnOursAreRejected(String sql) {
        assertRejectedContaining(sql, "0A000", "not supported", "UPDATE");
    }

    @Test
    void dropExtension() {
        assertThat(command("DROP EXTENSION neurondb")).isEqualTo(new DropExtension("neurondb", false, false));
        assertThat(command("DROP EXTENSION IF EXISTS vector CASCADE")).isEqualTo(new DropExtension("vector", true, true));
        assertThat(command("drop extension vector restrict;")).isEqualTo(new DropExtension("vector", false, false));
        assertThat(command("DROP EXTENSION \"neurondb\"")).isEqualTo(new DropExtension("neurondb", false, false));
    }

    @Test
    void dropExtensionMixedWithOthersIsRejected() {
        assertRejectedContaining("DROP EXTENSION pg_trgm, vector", "0A000", "separately");
        assertRejectedContaining("DROP EXTENSION IF EXISTS vector, hstore CASCADE", "0A000", "separately");
        assertRejectedContaining("DROP EXTENSION vector, neurondb", "0A000", "separately");
    }

    // ------------------------------------------------------------------ CREATE INDEX

    private static CreateVectorIndex index(String name, boolean ifNotExists, TableName table, String column,
                                           IndexMethod method, String opclass, Map<String, String> options) {
        return new CreateVectorIndex(name, ifNotExists, table, column, method, opclass, options);
    }

    @Test
    void createHnswIndex() {
        assertThat(command("CREATE INDEX ON items USING hnsw (embedding vector_l2_ops)"))
                .isEqualTo(index(null, false, TableName.of(null, "items"), "embedding", IndexMethod.HNSW, "vector_l2_ops", Map.of()));
        assertThat(command("CREATE INDEX items_hnsw ON public.items USING HNSW (Embedding Vector_Cosine_Ops) WITH (M = 16, ef_construction = '200');"))
                .isEqualTo(index("items_hnsw", false, TableName.of("public", "items"), "embedding", IndexMethod.HNSW,
                        "vector_cosine_ops", Map.of("m", "16", "ef_construction", "200")));
        assertThat(command("CREATE INDEX CONCURRENTLY IF NOT EXISTS \"Odd Idx 2\" ON ONLY \"My Schema\".\"Big \"\"Table\"\"\" "
                + "USING hnsw (\"Vec Col\" vector_ip_ops) TABLESPACE fast"))
                .isEqualTo(index("Odd Idx 2", true, TableName.of("My Schema", "Big \"Table\""), "Vec Col", IndexMethod.HNSW,
                        "vector_ip_ops", Map.of()));
        assertThat(command("CREATE INDEX ON items USING hnsw (embedding public.vector_l1_ops)"))
                .isEqualTo(index(null, false, TableName.of(null, "items"), "embedding", IndexMethod.HNSW, "vector_l1_ops", Map.of()));
    }

    @Test
    void createIvfflatIndex() {
        assertThat(command("create index docs_ivf on app.docs using ivfflat (emb vector_ip_ops) with (lists = 100)"))
                .isEqualTo(index("docs_ivf", false, TableName.of("app", "docs"), "emb", IndexMethod.IVFFLAT,
                        "vector_ip_ops", Map.of("lists", "100")));
    }

    @Test
    void indexNamedIfIsANameNotIfNotExists() {
        assertThat(command("CREATE INDEX if ON items USING hnsw (embedding vector_l2_ops)"))
                .isEqualTo(index("if", false, TableName.of(null, "items"), "embedding", IndexMethod.HNSW, "vector_l2_ops", Map.of()));
        assertThat(command("CREATE INDEX IF NOT EXISTS if ON items USING hnsw (embedding vector_l2_ops)"))
                .isEqualTo(index("if", true, TableName.of(null, "items"), "embedding", IndexMethod.HNSW, "vector_l2_ops", Map.of()));
    }

    @Test
    void createIndexOnUnknownTableIsLeftToTheSession() {
        assertThat(command("CREATE INDEX ON new_table USING hnsw (v vector_l2_ops)"))
                .isEqualTo(index(null, false, TableName.of(null, "new_table"), "v", IndexMethod.HNSW, "vector_l2_ops", Map.of()));
        // a known table's non-vector column: the session checks the type
        assertThat(command("CREATE INDEX ON items USING hnsw (title vector_l2_ops)")).isInstanceOf(CreateVectorIndex.class);
    }

    @Test
    void createIndexOnMissingColumnOfKnownTable() {
        assertRejected("CREATE INDEX ON items USING hnsw (nope vector_l2_ops)", "42703", "column \"nope\" does not exist");
        assertRejected("CREATE INDEX ON items USING hnsw (\"Embedding\" vector_l2_ops)", "42703", "column \"Embedding\" does not exist");
    }

    @Test
    void createIndexStructuralErrors() {
        assertRejected("CREATE UNIQUE INDEX ON items USING hnsw (embedding vector_l2_ops)", "0A000",
                "access method \"hnsw\" does not support unique indexes");
        assertRejected("CREATE UNIQUE INDEX ON items USING ivfflat (embedding vector_l2_ops)", "0A000",
                "access method \"ivfflat\" does not support unique indexes");
        assertRejected("CREATE INDEX ON items USING hnsw (embedding vector_l2_ops, small vector_l2_ops)", "0A000",
                "NeuronDB indexes take one vector column");
        assertRejected("CREATE INDEX ON items USING hnsw ((embedding::vector(3)) vector_l2_ops)", "0A000",
                "NeuronDB indexes take one vector column");
        assertRejected("CREATE INDEX ON items USING hnsw (l2_normalize(embedding) vector_l2_ops)", "0A000",
                "NeuronDB indexes take one vector column");
        assertRejected("CREATE INDEX ON items USING hnsw (embedding vector_l2_ops) INCLUDE (title)", "0A000",
                "access method \"hnsw\" does not support included columns");
        assertRejectedContaining("CREATE INDEX ON items USING hnsw (embedding vector_l2_ops) WHERE id > 10", "0A000",
                "partial vector indexes");
        assertRejected("CREATE INDEX ON items USING hnsw (embedding vector_l2_ops DESC)", "0A000",
                "access method \"hnsw\" does not support ASC/DESC options");
        assertRejected("CREATE INDEX ON items USING hnsw (embedding vector_l2_ops NULLS LAST)", "0A000",
                "access method \"hnsw\" does not support NULLS FIRST/LAST options");
        assertRejected("CREATE INDEX ON items USING hnsw (embedding COLLATE \"C\" vector_l2_ops)", "42804",
                "collations are not supported by type vector");
        assertRejected("CREATE INDEX ON items USING hnsw (embedding vector_l2_ops (x = 1))", "22023",
                "operator class vector_l2_ops has no options");
    }

    @Test
    void createIndexOperatorClassErrors() {
        assertRejected("CREATE INDEX ON items USING hnsw (embedding)", "42704",
                "data type vector has no default operator class for access method \"hnsw\"");
        assertRejected("CREATE INDEX ON items USING ivfflat (embedding) WITH (lists = 10)", "42704",
                "data type vector has no default operator class for access method \"ivfflat\"");
        assertRejected("CREATE INDEX ON items USING hnsw (embedding vector_l3_ops)", "42704",
                "operator class \"vector_l3_ops\" does not exist for access method \"hnsw\"");
        assertRejected("CREATE INDEX ON items USING hnsw (embedding \"VECTOR_L2_OPS\")", "42704",
                "operator class \"VECTOR_L2_OPS\" does not exist for access method \"hnsw\"");
        assertRejected("CREATE INDEX ON items USING hnsw (embedding halfvec_l2_ops)", "42704",
                "operator class \"halfvec_l2_ops\" does not exist for access method \"hnsw\"");
        // pgvector has no L1 operator class for ivfflat
        assertRejected("CREATE INDEX ON items USING ivfflat (embedding vector_l1_ops)", "42704",
                "operator class \"vector_l1_ops\" does not exist for access method \"ivfflat\"");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "hnsw (embedding vector_l2_ops) WITH (lists = 10)            | unrecognized parameter \"lists\"",
            "ivfflat (embedding vector_l2_ops) WITH (m = 10)             | unrecognized parameter \"m\"",
            "hnsw (embedding vector_l2_ops) WITH (fillfactor = 70)       | unrecognized parameter \"fillfactor\"",
            "hnsw (embedding vector_l2_ops) WITH (\"M\" = 8)             | unrecognized parameter \"M\"",
            "hnsw (embedding vector_l2_ops) WITH (toast.m = 8)           | unrecognized parameter namespace \"toast\"",
            "hnsw (embedding vector_l2_ops) WITH (m = 8, M = 9)          | parameter \"m\" specified more than once",
            "hnsw (embedding vector_l2_ops) WITH (m = abc)               | invalid value for integer option \"m\": abc",
            "hnsw (embedding vector_l2_ops) WITH (m = '1x')              | invalid value for integer option \"m\": 1x",
            "hnsw (embedding vector_l2_ops) WITH (m)                     | invalid value for integer option \"m\": true",
            "hnsw (embedding vector_l2_ops) WITH (m = 99999999999)       | invalid value for integer option \"m\": 99999999999",
            "hnsw (embedding vector_l2_ops) WITH (m = 1)                 | value 1 out of bounds for option \"m\" (valid values are between \"2\" and \"100\")",
            "hnsw (embedding vector_l2_ops) WITH (m = 101)               | value 101 out of bounds for option \"m\" (valid values are between \"2\" and \"100\")",
            "hnsw (embedding vector_l2_ops) WITH (m = -4)                | value -4 out of bounds for option \"m\" (valid values are between \"2\" and \"100\")",
            "hnsw (embedding vector_l2_ops) WITH (ef_construction = 3)   | value 3 out of bounds for option \"ef_construction\" (valid values are between \"4\" and \"1000\")",
            "hnsw (embedding vector_l2_ops) WITH (ef_construction = 1001)| value 1001 out of bounds for option \"ef_construction\" (valid values are between \"4\" and \"1000\")",
            "ivfflat (embedding vector_l2_ops) WITH (lists = 0)          | value 0 out of bounds for option \"lists\" (valid values are between \"1\" and \"32768\")",
            "ivfflat (embedding vector_l2_ops) WITH (lists = 32769)      | value 32769 out of bounds for option \"lists\" (valid values are between \"1\" and \"32768\")",
            "hnsw (embedding vector_l2_ops) WITH (m = 48)                | ef_construction must be greater than or equal to 2 * m",
            "hnsw (embedding vector_l2_ops) WITH (m = 16, ef_construction = 31) | ef_construction must be greater than or equal to 2 * m",
    })
    void createIndexOptionErrors(String tail, String message) {
        assertRejected("CREATE INDEX ON items USING " + tail, "22023", message);
    }

    @Test
    void createIndexOptionBoundsAndValueForms() {
        assertThat(((CreateVectorIndex) command("CREATE INDEX ON items USING hnsw (embedding vector_l2_ops) WITH (m = 2, ef_construction = 4)"))
                .options()).containsEntry("m", "2").containsEntry("ef_construction", "4");
        assertThat(((CreateVectorIndex) command("CREATE INDEX ON items USING hnsw (embedding vector_l2_ops) WITH (m = 100, ef_construction = 1000)"))
                .options()).containsEntry("m", "100");
        assertThat(((CreateVectorIndex) command("CREATE INDEX ON items USING ivfflat (embedding vector_l2_ops) WITH (lists = 1)"))
                .options()).containsEntry("lists", "1");
        assertThat(((CreateVectorIndex) command("CREATE INDEX ON items USING ivfflat (embedding vector_cosine_ops) WITH (LISTS = '32768')"))
                .options()).containsEntry("lists", "32768");
        // PostgreSQL's parse_int rounds fractions
        assertThat(((CreateVectorIndex) command("CREATE INDEX ON items USING hnsw (embedding vector_l2_ops) WITH (m = 8.4)"))
                .options()).containsEntry("m", "8.4");
    }

    @Test
    void parseIntFollowsPostgres() {
        assertThat(CommandRecognizer.parseInt("16")).isEqualTo(16);
        assertThat(CommandRecognizer.parseInt(" 16 ")).isEqualTo(16);
        assertThat(CommandRecognizer.parseInt("+16")).isEqualTo(16);
        assertThat(CommandRecognizer.parseInt("-3")).isEqualTo(-3);
        assertThat(CommandRecognizer.parseInt("2.5")).isEqualTo(2);
        assertThat(CommandRecognizer.parseInt("3.5")).isEqualTo(4);
        assertThat(CommandRecognizer.parseInt("1e2")).isEqualTo(100);
        assertThat(CommandRecognizer.parseInt("0x10")).isEqualTo(16);
        assertThat(CommandRecognizer.parseInt("1e999999999")).isNull();
        assertThat(CommandRecognizer.parseInt("2147483648")).isNull();
        assertThat(CommandRecognizer.parseInt("")).isNull();
        assertThat(CommandRecognizer.parseInt("abc")).isNull();
        assertThat(CommandRecognizer.parseInt("NaN")).isNull();
        assertThat(CommandRecognizer.parseInt("Infinity")).isNull();
        assertThat(CommandRecognizer.parseInt("16kB")).isNull();
    }

    @Test
    void createIndexSyntaxErrorsAreLeftToPostgres() {
        assertThat(plan("CREATE INDEX ON items USING hnsw (embedding vector_l2_ops) garbage")).isEmpty();
        assertThat(plan("CREATE INDEX ON items USING hnsw")).isEmpty();
        assertThat(plan("CREATE INDEX ON items USING hnsw (embedding vector_l2_ops) WITH m = 4")).isEmpty();
        assertThat(plan("CREATE INDEX IF NOT EXISTS ON items USING hnsw (embedding vector_l2_ops)")).isEmpty();
    }

    @Test
    void longIdentifiersAreTruncatedLikePostgres() {
        String longName = "a".repeat(70);
        CreateVectorIndex cmd = (CreateVectorIndex) command("CREATE INDEX " + longName + " ON items USING hnsw (embedding vector_l2_ops)");
        assertThat(cmd.name()).isEqualTo("a".repeat(63));
        assertThat(CommandRecognizer.truncateIdentifier("é".repeat(40))).isEqualTo("é".repeat(31));
    }

    // ------------------------------------------------------------------ DROP INDEX / REINDEX

    @Test
    void dropEngineIndexAlone() {
        assertThat(command("DROP INDEX items_embedding_idx")).isEqualTo(new DropVectorIndexes(List.of(ITEMS_IDX), null));
        assertThat(command("drop index if exists public.ITEMS_EMBEDDING_IDX cascade;"))
                .isEqualTo(new DropVectorIndexes(List.of(ITEMS_IDX), null));
        assertThat(command("DROP INDEX CONCURRENTLY \"My Schema\".\"Odd Idx\""))
                .isEqualTo(new DropVectorIndexes(List.of(ODD_IDX), null));
        assertThat(command("DROP INDEX items_embedding_idx, public.items_embedding_idx"))
                .isEqualTo(new DropVectorIndexes(List.of(ITEMS_IDX), null));
    }

    @Test
    void dropEngineIndexesWithOthersKeepsTheRestForPostgres() {
        assertThat(command("DROP INDEX IF EXISTS btree_a, items_embedding_idx, s.\"Btree B\", app.docs_emb_idx CASCADE"))
                .isEqualTo(new DropVectorIndexes(List.of(ITEMS_IDX, DOCS_IDX),
                        "DROP INDEX IF EXISTS \"btree_a\", \"s\".\"Btree B\" CASCADE"));
        assertThat(command("DROP INDEX items_embedding_idx, other_idx RESTRICT"))
                .isEqualTo(new DropVectorIndexes(List.of(ITEMS_IDX), "DROP INDEX \"other_idx\" RESTRICT"));
        assertThat(command("DROP INDEX items_embedding_idx, x"))
                .isEqualTo(new DropVectorIndexes(List.of(ITEMS_IDX), "DROP INDEX \"x\""));
    }

    @Test
    void dropIndexConcurrentlyOfSeveralIsRefusedAsPostgresDoes() {
        assertRejected("DROP INDEX CONCURRENTLY items_embedding_idx, other_idx", "0A000",
                "DROP INDEX CONCURRENTLY does not support dropping multiple objects");
    }

    @Test
    void reindexEngineIndex() {
        assertThat(command("REINDEX INDEX items_embedding_idx")).isEqualTo(new ReindexVectorIndex(ITEMS_IDX));
        assertThat(command("reindex (verbose, tablespace x) index concurrently public.items_embedding_idx;"))
                .isEqualTo(new ReindexVectorIndex(ITEMS_IDX));
        assertThat(command("REINDEX INDEX \"My Schema\".\"Odd Idx\"")).isEqualTo(new ReindexVectorIndex(ODD_IDX));
        assertThat(plan("REINDEX INDEX \"ITEMS_EMBEDDING_IDX\"")).isEmpty();
    }

    // ------------------------------------------------------------------ settings

    @ParameterizedTest
    @CsvSource(delimiter = '|', nullValues = "NULL", value = {
            "SET hnsw.ef_search = 100                         | hnsw.ef_search         | 100      | false",
            "set HNSW.EF_SEARCH to 40;                        | hnsw.ef_search         | 40       | false",
            "SET LOCAL ivfflat.probes = 10                    | ivfflat.probes         | 10       | true",
            "SET SESSION ivfflat.probes TO '7'                | ivfflat.probes         | 7        | false",
            "SET neurondb.log_level = 'DEBUG'                 | neurondb.log_level     | DEBUG    | false",
            "SET neurondb.log_level = Debug                   | neurondb.log_level     | debug    | false",
            "SET neurondb.log_level TO \"Verbose\"            | neurondb.log_level     | Verbose  | false",
            "SET neurondb.read_your_writes = on               | neurondb.read_your_writes | on    | false",
            "SET neurondb.max_lag = -1                        | neurondb.max_lag       | -1       | false",
            "SET neurondb.ratio = 1.5                         | neurondb.ratio         | 1.5      | false",
            "SET neurondb.note = E'it\\'s'                    | neurondb.note          | it's     | false",
            "SET neurondb.note = 'it''s'                      | neurondb.note          | it's     | false",
            "SET neurondb.note = $$a b$$                      | neurondb.note          | a b      | false",
            "SET neurondb.note = 'default'                    | neurondb.note          | default  | false",
            "SET hnsw.ef_search = DEFAULT                     | hnsw.ef_search         | NULL     | false",
            "SET LOCAL hnsw.ef_search TO default              | hnsw.ef_search         | NULL     | true",
            "SET \"hnsw\".\"ef_search\" = 5                   | hnsw.ef_search         | 5        | false",
            "SET \"HNSW.ef_search\" = 6                         | hnsw.ef_search         | 6        | false",
            "/* tuning */ SET hnsw.ef_search = 1 -- fast      | hnsw.ef_search         | 1        | false",
            "RESET hnsw.ef_search                             | hnsw.ef_search         | NULL     | false",
            "reset IVFFLAT.Probes;                            | ivfflat.probes         | NULL     | false",
    })
    void setAndReset(String sql, String name, String value, boolean local) {
        assertThat(command(sql)).isEqualTo(new SetSetting(name, value, local));
    }

    @Test
    void resetAll() {
        assertThat(command("RESET ALL")).isEqualTo(new SetSetting(null, null, false));
        assertThat(command("reset all;")).isEqualTo(new SetSetting(null, null, false));
    }

    @Test
    void setListValueIsRejected() {
        assertRejected("SET hnsw.ef_search = 10, 20", "22023", "SET hnsw.ef_search takes only one argument");
        assertRejected("SET neurondb.log_level TO 'a', b", "22023", "SET neurondb.log_level takes only one argument");
    }

    @Test
    void show() {
        assertThat(command("SHOW hnsw.ef_search")).isEqualTo(new ShowSetting("hnsw.ef_search"));
        assertThat(command("show IVFFLAT.probes;")).isEqualTo(new ShowSetting("ivfflat.probes"));
        assertThat(command("SHOW neurondb.log_level")).isEqualTo(new ShowSetting("neurondb.log_level"));
        assertThat(command("SHOW \"neurondb.log_level\"")).isEqualTo(new ShowSetting("neurondb.log_level"));
    }

    @Test
    void malformedSettingStatementsAreLeftToPostgres() {
        assertThat(plan("SET hnsw.ef_search 10")).isEmpty();
        assertThat(plan("SET hnsw.ef_search =")).isEmpty();
        assertThat(plan("SHOW hnsw.ef_search extra")).isEmpty();
        assertThat(plan("SET hnsw = 1")).isEmpty();
    }

    // ------------------------------------------------------------------ functions

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "SELECT neurondb.version()                          | VERSION          | version",
            "select NEURONDB.VERSION ( ) ;                      | VERSION          | version",
            "SELECT \"neurondb\".\"version\"()                  | VERSION          | version",
            "SELECT neurondb.version() AS v                     | VERSION          | v",
            "SELECT neurondb.version() AS \"Ver Sion\"          | VERSION          | Ver Sion",
            "SELECT neurondb.version() ver                      | VERSION          | ver",
            "/* hi */ SELECT neurondb.version() -- bye          | VERSION          | version",
            "SELECT neurondb.gpu_enabled()                      | GPU_ENABLED      | gpu_enabled",
            "SELECT neurondb.gpu_enabled() AS Gpu               | GPU_ENABLED      | gpu",
            "SELECT neurondb.gpu_device_count()                 | GPU_DEVICE_COUNT | gpu_device_count",
            "SELECT neurondb.gpu_device_count() as n;           | GPU_DEVICE_COUNT | n",
    })
    void scalarFunctions(String sql, NeuronDbFunction function, String column) {
        assertThat(command(sql)).isEqualTo(new CallFunction(function, column));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT * FROM neurondb.index_stats()",
            "select * from NeuronDB.Index_Stats();",
            "SELECT * FROM neurondb.index_stats() AS s",
            "SELECT * FROM neurondb.index_stats() s",
    })
    void indexStats(String sql) {
        assertThat(command(sql)).isEqualTo(new CallFunction(NeuronDbFunction.INDEX_STATS, null));
    }

    // ------------------------------------------------------------------ plugin functions

    private final CommandRecognizer withPlugins = new CommandRecognizer(java.util.Set.of("backup_now", "slow_query_summary"));

    private static CallPluginFunction.Constant constant(String text) {
        return new CallPluginFunction.Constant(text);
    }

    @Test
    void pluginFunctionCallsWithConstantsAndParameters() {
        assertThat(withPlugins.recognize("SELECT neurondb.backup_now('logical')", CATALOG)).contains(
                new Command(new CallPluginFunction("backup_now", List.of(constant("logical")), "backup_now")));
        assertThat(withPlugins.recognize("select NeuronDB.Backup_Now($1) AS started;", CATALOG)).contains(
                new Command(new CallPluginFunction("backup_now", List.of(new CallPluginFunction.Parameter(1)), "started")));
        assertThat(withPlugins.recognize("SELECT * FROM neurondb.slow_query_summary(10, -2.5, NULL, true, E'it''s') s", CATALOG)).contains(
                new Command(new CallPluginFunction("slow_query_summary", List.of(constant("10"), constant("-2.5"),
                        constant(null), constant("true"), constant("it's")), null)));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT neurondb.other_function('x')",                 // no plugin answers it: the server's
            "SELECT neurondb.backup_now('logical'), 1",            // more than the call
            "SELECT neurondb.backup_now(lower('LOGICAL'))",        // an expression argument
            "SELECT * FROM neurondb.slow_query_summary() WHERE calls > 1",
            "SELECT neurondb.backup_now('logical') FROM t",
    })
    void otherUsesOfPluginFunctionsGoToTheServer(String sql) {
        assertThat(withPlugins.recognize(sql, CATALOG)).as(sql).isEmpty();
    }

    @Test
    void withoutPluginsTheNamesAreNotOurs() {
        assertThat(plan("SELECT neurondb.backup_now('logical')")).isEmpty();
    }

    // ------------------------------------------------------------------ COPY

    private CopyIn copyIn(String sql) {
        Effect e = effect(sql);
        assertThat(e).as(sql).isInstanceOf(CopyIn.class);
        return (CopyIn) e;
    }

    @Test
    void copyAllColumns() {
        CopyIn c = copyIn("COPY items FROM STDIN");
        assertThat(c.table()).isEqualTo(TableName.of("public", "items"));
        assertThat(c.columnNames()).containsExactly("id", "embedding", "title", "small");
        assertThat(c.vectorPositions()).containsExactly(1, 3);
        assertThat(c.options()).isEqualTo(new CopyOptions(false, null, null, null, null, false));
    }

    @Test
    void copyColumnListAndResolution() {
        CopyIn c = copyIn("copy other.items (V, id) from stdin;");
        assertThat(c.table()).isEqualTo(TableName.of("other", "items"));
        assertThat(c.columnNames()).containsExactly("v", "id");
        assertThat(c.vectorPositions()).containsExactly(0);

        CopyIn odd = copyIn("COPY \"My Schema\".\"Big \"\"Table\"\"\" (\"Id\", \"Vec Col\") FROM STDIN");
        assertThat(odd.table()).isEqualTo(TableName.of("My Schema", "Big \"Table\""));
        assertThat(odd.columnNames()).containsExactly("Id", "Vec Col");
        assertThat(odd.vectorPositions()).containsExactly(1);

        CopyIn docs = copyIn("COPY docs (emb) FROM STDIN");
        assertThat(docs.table()).isEqualTo(TableName.of("app", "docs"));
        assertThat(docs.vectorPositions()).containsExactly(0);
    }

    @Test
    void copyGenericOptions() {
        assertThat(copyIn("COPY items (id, embedding) FROM STDIN WITH (FORMAT csv, HEADER, DELIMITER ';', NULL 'NA', QUOTE '''', ESCAPE '\\')").options())
                .isEqualTo(new CopyOptions(true, ";", "NA", "'", "\\", true));
        assertThat(copyIn("COPY items (id, embedding) FROM STDIN (format 'text', delimiter E'\\t', header false)").options())
                .isEqualTo(new CopyOptions(false, "\t", null, null, null, false));
        assertThat(copyIn("COPY items FROM STDIN (FORMAT csv, HEADER match, FREEZE, ENCODING 'UTF8', FORCE_NOT_NULL (title), FORCE_NULL (title))").options())
                .isEqualTo(new CopyOptions(true, null, null, null, null, true));
        assertThat(copyIn("COPY items FROM STDIN (HEADER 1, FORMAT csv) WHERE id > 5").options())
                .isEqualTo(new CopyOptions(true, null, null, null, null, true));
        assertThat(copyIn("COPY items FROM STDIN (header off)").options().header()).isFalse();
        assertThat(copyIn("COPY items FROM STDIN (header on)").options().header()).isTrue();
    }

    @Test
    void copyLegacyOptions() {
        assertThat(copyIn("COPY items FROM STDIN WITH CSV HEADER DELIMITER ','").options())
                .isEqualTo(new CopyOptions(true, ",", null, null, null, true));
        assertThat(copyIn("COPY items FROM STDIN CSV QUOTE AS '\"' ESCAPE AS '\\' NULL AS ''").options())
                .isEqualTo(new CopyOptions(true, null, "", "\"", "\\", false));
        assertThat(copyIn("COPY items FROM STDIN WITH DELIMITER AS '|' NULL 'x'").options())
                .isEqualTo(new CopyOptions(false, "|", "x", null, null, false));
        assertThat(copyIn("COPY items FROM STDIN USING DELIMITERS '|'").options())
                .isEqualTo(new CopyOptions(false, null, null, null, null, false));
        assertThat(copyIn("COPY items FROM STDIN WITH CSV FORCE NOT NULL title FORCE NULL title, id").options().csv()).isTrue();
        assertThat(copyIn("COPY items FROM STDIN WITH").options()).isEqualTo(new CopyOptions(false, null, null, null, null, false));
    }

    @Test
    void binaryCopyOfVectorColumnsIsRejected() {
        for (String sql : List.of("COPY items FROM STDIN (FORMAT binary)", "COPY items FROM STDIN WITH BINARY",
                "COPY BINARY items FROM STDIN", "COPY items (embedding) FROM STDIN WITH (FORMAT 'binary')")) {
            assertRejectedContaining(sql, "0A000", "binary COPY of vector columns is not supported", "text or csv");
        }
    }

    @Test
    void copySyntaxErrorsAreLeftToPostgres() {
        assertThat(plan("COPY items FROM STDIN (FORMAT json)")).isEmpty();
        assertThat(plan("COPY items FROM STDIN WITH CSV BOGUS")).isEmpty();
        assertThat(plan("COPY items FROM STDIN (HEADER maybe)")).isEmpty();
    }

    // ------------------------------------------------------------------ DROP TABLE / TRUNCATE

    @Test
    void dropTable() {
        assertThat(effect("DROP TABLE items")).isEqualTo(new Effect.TablesDropped(List.of(TableName.of("public", "items"))));
        assertThat(effect("drop table if exists plain, other.items, \"My Schema\".\"Big \"\"Table\"\"\" cascade;"))
                .isEqualTo(new Effect.TablesDropped(List.of(TableName.of("other", "items"), TableName.of("My Schema", "Big \"Table\""))));
        assertThat(effect("DROP TABLE docs RESTRICT")).isEqualTo(new Effect.TablesDropped(List.of(TableName.of("app", "docs"))));
        assertThat(effect("DROP TABLE items, public.items")).isEqualTo(new Effect.TablesDropped(List.of(TableName.of("public", "items"))));
        assertThat(plan("DROP TABLE \"Items\"")).isEmpty();
    }

    @Test
    void dropDatabase() {
        assertThat(effect("DROP DATABASE shop")).isEqualTo(new Effect.DatabaseDropped("shop"));
        assertThat(effect("drop database if exists \"Shop Two\" with (force);")).isEqualTo(new Effect.DatabaseDropped("Shop Two"));
        assertThat(effect("DROP DATABASE SHOP (FORCE)")).isEqualTo(new Effect.DatabaseDropped("shop"));
        assertThat(plan("DROP DATABASE")).isEmpty();
    }

    @Test
    void truncate() {
        assertThat(effect("TRUNCATE items")).isEqualTo(new Effect.TablesTruncated(List.of(TableName.of("public", "items"))));
        assertThat(effect("TRUNCATE TABLE ONLY items, plain, app.docs * RESTART IDENTITY CASCADE"))
                .isEqualTo(new Effect.TablesTruncated(List.of(TableName.of("public", "items"), TableName.of("app", "docs"))));
        assertThat(effect("truncate only (other.items) continue identity restrict;"))
                .isEqualTo(new Effect.TablesTruncated(List.of(TableName.of("other", "items"))));
    }

    @Test
    void emptyCatalogRecognisesOnlyCatalogFreeForms() {
        CommandRecognizer r = new CommandRecognizer();
        assertThat(r.recognize("DROP TABLE items", VectorCatalog.EMPTY)).isEmpty();
        assertThat(r.recognize("DROP INDEX items_embedding_idx", VectorCatalog.EMPTY)).isEmpty();
        assertThat(r.recognize("COPY items FROM STDIN", VectorCatalog.EMPTY)).isEmpty();
        assertThat(r.recognize("CREATE EXTENSION vector", VectorCatalog.EMPTY)).isPresent();
        assertThat(r.recognize("CREATE INDEX ON items USING hnsw (embedding vector_l2_ops)", VectorCatalog.EMPTY)).isPresent();
        assertThat(r.recognize("SET hnsw.ef_search = 5", VectorCatalog.EMPTY)).isPresent();
    }
}
