package io.neurondb.proxy.route;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.neurondb.proxy.route.RewriteFixtures.ITEMS;
import static org.assertj.core.api.Assertions.assertThat;

class VectorSqlRewriterTest {

    private static final VectorSqlRewriter REWRITER = new VectorSqlRewriter();
    private static final String KNN_JOIN = "WITH ORDINALITY AS \"__neurondb_knn\"(\"__neurondb_id\", \"__neurondb_distance\", \"__neurondb_rank\")";

    private static StatementPlan plan(String sql) {
        return REWRITER.rewrite(sql, RewriteFixtures.catalog());
    }

    private static StatementPlan.Rewrite rewrite(String sql) {
        StatementPlan p = plan(sql);
        assertThat(p).as(sql).isInstanceOf(StatementPlan.Rewrite.class);
        return (StatementPlan.Rewrite) p;
    }

    private static StatementPlan.Knn knn(String sql) {
        StatementPlan p = plan(sql);
        assertThat(p).as(sql).isInstanceOf(StatementPlan.Knn.class);
        StatementPlan.Knn k = (StatementPlan.Knn) p;
        assertClientParamsReferenced(k.sql(), k.params().clientParams());
        return k;
    }

    private static ProxyCommand.Reject reject(String sql) {
        StatementPlan p = plan(sql);
        assertThat(p).as(sql).isInstanceOf(StatementPlan.Command.class);
        assertThat(((StatementPlan.Command) p).command()).isInstanceOf(ProxyCommand.Reject.class);
        return (ProxyCommand.Reject) ((StatementPlan.Command) p).command();
    }

    private static String norm(String s) {
        return s.trim().replaceAll("\\s+", " ");
    }

    private static void assertClientParamsReferenced(String sql, int clientParams) {
        for (int n = 1; n <= clientParams; n++) {
            assertThat(Pattern.compile("\\$" + n + "(?!\\d)").matcher(sql).find()).as("$" + n + " in " + sql).isTrue();
        }
    }

    private static float[] vectorValue(ParamPlan params, int index) {
        return ((ParamPlan.VectorValue) params.extras().get(index)).value();
    }

    @Nested
    class Relevance {

        @ParameterizedTest
        @ValueSource(strings = {
                "SELECT 1",
                "SELECT '<->' FROM other",
                "SELECT 1 -- <-> vector",
                "SELECT 1 /* embedding <=> '[1,2]' */",
                "UPDATE other SET a = 1",
                "SELECT \"vector\" FROM other"})
        void statementsThatCannotInvolveVectorsPassThrough(String sql) {
            assertThat(plan(sql)).isSameAs(StatementPlan.Passthrough.PLAIN);
        }

        @Test
        void unparsableStatementsPassThrough() {
            assertThat(plan("SELECT FROM WHERE items")).isSameAs(StatementPlan.Passthrough.PLAIN);
            assertThat(plan("SELECT 'unterminated FROM items")).isSameAs(StatementPlan.Passthrough.PLAIN);
        }

        @Test
        void aReadWithNothingToRewritePassesThrough() {
            assertThat(plan("SELECT id, name FROM items WHERE id = $1")).isSameAs(StatementPlan.Passthrough.PLAIN);
        }

        @Test
        void aReprintThatWouldChangeAValuePassesThrough() {
            // JSqlParser prints U&'d\0061t' as U & 'd\0061t': the check on the re-print refuses it.
            assertThat(plan("SELECT U&'d\\0061t', embedding FROM items WHERE embedding = '[1,2,3]'"))
                    .isSameAs(StatementPlan.Passthrough.PLAIN);
        }
    }

    @Nested
    class Ddl {

        @Test
        void createTableTurnsVectorColumnsIntoCheckedRealArrays() {
            StatementPlan.Rewrite r = rewrite("CREATE TABLE docs (id bigserial PRIMARY KEY, \"Emb\" vector(3) NOT NULL, other VECTOR, body text)");
            assertThat(norm(r.sql())).isEqualTo("CREATE TABLE docs (id bigserial PRIMARY KEY, \"Emb\" real[] NOT NULL CHECK (neurondb.vector_check(\"Emb\", 3)), "
                    + "other real[] CHECK (neurondb.vector_check(\"other\", NULL)), body text)");
            assertThat(r.params()).isEqualTo(ParamPlan.none(0));
            assertThat(r.effect()).isEqualTo(new Effect.RegisterVectorColumns(TableName.of(null, "docs"),
                    List.of(new Effect.NewVectorColumn("Emb", 3), new Effect.NewVectorColumn("other", null))));
        }

        @Test
        void createTableKeepsTheTableNameAsWritten() {
            StatementPlan.Rewrite r = rewrite("CREATE TABLE IF NOT EXISTS App.\"Vecs\" (v public.vector(2))");
            assertThat(norm(r.sql())).isEqualTo("CREATE TABLE IF NOT EXISTS App.\"Vecs\" (v real[] CHECK (neurondb.vector_check(\"v\", 2)))");
            assertThat(((Effect.RegisterVectorColumns) r.effect()).table()).isEqualTo(TableName.of("app", "Vecs"));
        }

        @Test
        void createTableWithoutVectorColumnsPassesThrough() {
            assertThat(plan("CREATE TABLE vector_notes (id int, note text)")).isSameAs(StatementPlan.Passthrough.PLAIN);
        }

        @Test
        void alterTableAddColumn() {
            StatementPlan.Rewrite r = rewrite("ALTER TABLE app.t ADD COLUMN IF NOT EXISTS e vector(384)");
            assertThat(norm(r.sql())).isEqualTo("ALTER TABLE app.t ADD COLUMN IF NOT EXISTS e real[] CHECK (neurondb.vector_check(\"e\", 384))");
            assertThat(r.effect()).isEqualTo(new Effect.RegisterVectorColumns(TableName.of("app", "t"),
                    List.of(new Effect.NewVectorColumn("e", 384))));
            StatementPlan.Rewrite noColumnWord = rewrite("ALTER TABLE t ADD e vector");
            assertThat(norm(noColumnWord.sql())).isEqualTo("ALTER TABLE t ADD e real[] CHECK (neurondb.vector_check(\"e\", NULL))");
        }

        @Test
        void otherPgvectorTypesAreRefused() {
            assertThat(reject("CREATE TABLE h (id int, e halfvec(3))").sqlState()).isEqualTo("0A000");
            assertThat(reject("CREATE TABLE h (id int, e sparsevec(3))").message()).contains("sparsevec");
            assertThat(reject("CREATE TABLE h (id int, e vector(3)[])").sqlState()).isEqualTo("0A000");
            assertThat(reject("ALTER TABLE h ADD COLUMN e halfvec(3)").sqlState()).isEqualTo("0A000");
        }

        @Test
        void changingAColumnToVectorIsRefused() {
            ProxyCommand.Reject r = reject("ALTER TABLE items ALTER COLUMN name TYPE vector(3)");
            assertThat(r.sqlState()).isEqualTo("0A000");
            assertThat(r.message()).contains("\"name\"");
        }

        @Test
        void dimensionsOutOfRangeAreRefusedLikePgvector() {
            assertThat(reject("CREATE TABLE h (e vector(0))"))
                    .isEqualTo(new ProxyCommand.Reject("22023", "dimensions for type vector must be at least 1", true));
            assertThat(reject("CREATE TABLE h (e vector(16001))"))
                    .isEqualTo(new ProxyCommand.Reject("22023", "dimensions for type vector cannot exceed 16000", true));
            assertThat(reject("CREATE TABLE h (e vector(3, 4))").sqlState()).isEqualTo("22023");
            assertThat(plan("CREATE TABLE h (e vector(16000))")).isInstanceOf(StatementPlan.Rewrite.class);
        }
    }

    @Nested
    class VectorValues {

        @Test
        void insertValuesLiftLiteralsAndMarkParameters() {
            StatementPlan.Rewrite r = rewrite("INSERT INTO items (name, embedding) VALUES ('a', '[1,2,3]'), ('b', $1) RETURNING id");
            assertThat(norm(r.sql())).isEqualTo("INSERT INTO items (name, embedding) VALUES ('a', $2), ('b', $1) RETURNING id");
            assertThat(r.params().clientParams()).isEqualTo(1);
            assertThat(r.params().isVector(1)).isTrue();
            assertThat(r.params().extras()).hasSize(1);
            assertThat(vectorValue(r.params(), 0)).containsExactly(1f, 2f, 3f);
            assertThat(r.effect()).isEqualTo(new Effect.TablesWritten(List.of(ITEMS)));
        }

        @Test
        void insertWithoutColumnListUsesTheTableColumnOrder() {
            StatementPlan.Rewrite r = rewrite("INSERT INTO items VALUES (1, 'x', '[1,2,3]', 'c')");
            assertThat(norm(r.sql())).isEqualTo("INSERT INTO items VALUES (1, 'x', $1, 'c')");
            assertThat(vectorValue(r.params(), 0)).containsExactly(1f, 2f, 3f);
        }

        @Test
        void insertIntoATableWithoutEngineIndexesWritesNothingStale() {
            StatementPlan.Rewrite r = rewrite("INSERT INTO app.\"Docs\" (\"Emb\", body) VALUES ('[1,2]', 'it''s')");
            assertThat(norm(r.sql())).isEqualTo("INSERT INTO app.\"Docs\" (\"Emb\", body) VALUES ($1, 'it''s')");
            assertThat(r.effect()).isEqualTo(Effect.NONE);
        }

        @Test
        void updateSetLiftsTheLiteralAfterTheClientParameters() {
            StatementPlan.Rewrite r = rewrite("UPDATE items SET embedding = '[4,5,6]', name = $2 WHERE id = $1");
            assertThat(norm(r.sql())).isEqualTo("UPDATE items SET embedding = $3, name = $2 WHERE id = $1");
            assertThat(r.params().clientParams()).isEqualTo(2);
            assertThat(r.params().vectorParams().isEmpty()).isTrue();
            assertThat(vectorValue(r.params(), 0)).containsExactly(4f, 5f, 6f);
            assertThat(r.effect()).isEqualTo(new Effect.TablesWritten(List.of(ITEMS)));
        }

        @Test
        void updateWithAParameterKeepsTheClientText() {
            String sql = "UPDATE items SET embedding = $1 WHERE id = $2";
            StatementPlan.Rewrite r = rewrite(sql);
            assertThat(r.sql()).isEqualTo(sql);
            assertThat(r.params().isVector(1)).isTrue();
            assertThat(r.params().isVector(2)).isFalse();
            assertThat(r.params().extras()).isEmpty();
        }

        @Test
        void writesWithNothingToRewriteStillReportTheTableWritten() {
            assertThat(plan("DELETE FROM items WHERE id = 3"))
                    .isEqualTo(new StatementPlan.Passthrough(new Effect.TablesWritten(List.of(ITEMS))));
            assertThat(plan("MERGE INTO items t USING src s ON t.id = s.id WHEN MATCHED THEN DELETE"))
                    .isEqualTo(new StatementPlan.Passthrough(new Effect.TablesWritten(List.of(ITEMS))));
            assertThat(plan("UPDATE public.items SET name = 'x'"))
                    .isEqualTo(new StatementPlan.Passthrough(new Effect.TablesWritten(List.of(ITEMS))));
        }

        @Test
        void insertSelectRewritesCastsInside() {
            StatementPlan.Rewrite r = rewrite("INSERT INTO items (id, embedding) SELECT id, '[1,2,3]'::vector FROM other");
            assertThat(norm(r.sql())).isEqualTo("INSERT INTO items (id, embedding) SELECT id, $1::real[] FROM other");
            assertThat(r.effect()).isEqualTo(new Effect.TablesWritten(List.of(ITEMS)));
        }

        @Test
        void aWriteJSqlParserCannotParseStillReportsTheTableWritten() {
            assertThat(plan("UPDATE ONLY public.items SET name = 'x' COLLATE \"C\""))
                    .isEqualTo(new StatementPlan.Passthrough(new Effect.TablesWritten(List.of(ITEMS))));
            assertThat(plan("DELETE FROM app.\"Docs\" WHERE body = 'x' COLLATE \"C\"")).isSameAs(StatementPlan.Passthrough.PLAIN);
        }

        @Test
        void statementsThatCannotTakeParametersAreLeftToPostgres() {
            assertThat(plan("CREATE VIEW v AS SELECT id, embedding <-> '[1,2,3]'::vector AS d FROM items"))
                    .isSameAs(StatementPlan.Passthrough.PLAIN);
        }

        @Test
        void setOperationsAndExplain() {
            StatementPlan.Rewrite r = rewrite("(SELECT '[1,2]'::vector) UNION SELECT $1::vector");
            assertThat(norm(r.sql())).isEqualTo("(SELECT $2::real[]) UNION SELECT $1::real[]");
            assertThat(r.params().isVector(1)).isTrue();
            StatementPlan.Rewrite e = rewrite("EXPLAIN SELECT id FROM items ORDER BY embedding <-> '[1,2,3]' LIMIT 5");
            assertThat(norm(e.sql())).isEqualTo("EXPLAIN SELECT id FROM items ORDER BY embedding <-> $1 LIMIT 5");
        }

        @Test
        void castsComparisonsAndFunctions() {
            StatementPlan.Rewrite r = rewrite("SELECT '[1,2]'::vector, CAST($1 AS vector(2)), l2_distance(embedding, '[1,1,1]'), "
                    + "embedding::vector FROM items WHERE embedding = '[1,2,3]'");
            assertThat(norm(r.sql())).isEqualTo("SELECT $2::real[], CAST($1 AS real[]), l2_distance(embedding, $3), "
                    + "embedding::real[] FROM items WHERE embedding = $4");
            assertThat(r.params().clientParams()).isEqualTo(1);
            assertThat(r.params().isVector(1)).isTrue();
            assertThat(r.params().extras()).hasSize(3);
            assertThat(vectorValue(r.params(), 0)).containsExactly(1f, 2f);
            assertThat(vectorValue(r.params(), 1)).containsExactly(1f, 1f, 1f);
            assertThat(vectorValue(r.params(), 2)).containsExactly(1f, 2f, 3f);
            assertThat(r.effect()).isEqualTo(Effect.NONE);
        }

        @Test
        void singleArgumentFunctionsAndDistanceOperandsWithoutATable() {
            StatementPlan.Rewrite r = rewrite("SELECT vector_dims('[1,2,3]'), '[1,2]' <-> '[3,4]', vector_norm($1)");
            assertThat(norm(r.sql())).isEqualTo("SELECT vector_dims($2), $3 <-> $4, vector_norm($1)");
            assertThat(r.params().isVector(1)).isTrue();
            assertThat(r.params().extras()).hasSize(3);
        }

        @Test
        void otherUsesOfTheDistanceOperatorsAreLeftAlone() {
            // pg_trgm's text distance and the geometric point distance share <->.
            assertThat(plan("SELECT word FROM words ORDER BY word <-> 'hello' LIMIT 5")).isSameAs(StatementPlan.Passthrough.PLAIN);
            assertThat(plan("SELECT p <-> point '(1,2)', p <-> $1 FROM places")).isSameAs(StatementPlan.Passthrough.PLAIN);
            // Next to a vector column, a string that is not a vector is pgvector's error.
            assertThat(reject("SELECT id FROM items ORDER BY embedding <-> 'hello' LIMIT 5").sqlState()).isEqualTo("22P02");
        }

        @Test
        void aParameterCastToVectorInAWhereClause() {
            StatementPlan.Rewrite r = rewrite("SELECT * FROM items WHERE embedding = $1::vector FOR UPDATE");
            assertThat(norm(r.sql())).isEqualTo("SELECT * FROM items WHERE embedding = $1::real[] FOR UPDATE");
            assertThat(r.params().isVector(1)).isTrue();
        }

        @Test
        void qualifiedColumnsOfAliasedTables() {
            StatementPlan.Rewrite r = rewrite("SELECT i.id FROM items i JOIN other o ON o.id = i.id WHERE i.embedding <> '[1,2,3]' AND o.tag = '[x]'");
            assertThat(norm(r.sql())).isEqualTo("SELECT i.id FROM items i JOIN other o ON o.id = i.id WHERE i.embedding <> $1 AND o.tag = '[x]'");
        }

        @Test
        void aCastToAFixedDimensionChecksTheLiteral() {
            assertThat(reject("SELECT CAST('[1,2]' AS vector(3))"))
                    .isEqualTo(new ProxyCommand.Reject("22000", "expected 3 dimensions, not 2", true));
        }

        @Test
        void malformedLiteralsAreRefusedWithPgvectorsError() {
            ProxyCommand.Reject r = reject("INSERT INTO items (embedding) VALUES ('[1,2,x]')");
            assertThat(r.sqlState()).isEqualTo("22P02");
            assertThat(r.message()).isEqualTo("invalid input syntax for type vector: \"[1,2,x]\"");
            assertThat(reject("SELECT '[]'::vector").sqlState()).isEqualTo("22000");
        }

        @Test
        void aLiteralCarryingSqlNeverReachesTheText() {
            ProxyCommand.Reject r = reject("INSERT INTO items (embedding) VALUES ('''); DROP TABLE x; --')");
            assertThat(r.sqlState()).isEqualTo("22P02");
            ProxyCommand.Reject cast = reject("SELECT '[1,2]''); DROP TABLE x; --'::vector");
            assertThat(cast.sqlState()).isEqualTo("22P02");
            // A well-formed vector next to a hostile string: the vector is lifted, the string stays a literal.
            StatementPlan.Rewrite ok = rewrite("UPDATE items SET embedding = '[1,2,3]', name = '''); DROP TABLE x; --' WHERE id = 1");
            assertThat(norm(ok.sql())).isEqualTo("UPDATE items SET embedding = $1, name = '''); DROP TABLE x; --' WHERE id = 1");
        }
    }

    @Nested
    class Knn {

        @Test
        void parameterQueryWithLiteralLimit() {
            StatementPlan.Knn k = knn("SELECT id, name FROM items ORDER BY embedding <-> $1 LIMIT 5");
            assertThat(norm(k.sql())).isEqualTo(
                    "(SELECT id, name FROM items JOIN unnest($2::bigint[], $3::real[]) " + KNN_JOIN
                    + " ON \"items\".\"id\" = \"__neurondb_knn\".\"__neurondb_id\" ORDER BY \"__neurondb_knn\".\"__neurondb_rank\" LIMIT 5)"
                    + " UNION ALL (SELECT id, name FROM items WHERE \"items\".\"id\" <> ALL($2::bigint[]) AND neurondb.no_parallel()"
                    + " ORDER BY embedding <-> $1 LIMIT 5) LIMIT 5");
            assertThat(k.params().clientParams()).isEqualTo(1);
            assertThat(k.params().isVector(1)).isTrue();
            assertThat(k.params().extras()).containsExactly(new ParamPlan.CandidateIds(), new ParamPlan.CandidateDistances());
            KnnSpec s = k.spec();
            assertThat(s.table()).isEqualTo(ITEMS);
            assertThat(s.column()).isEqualTo("embedding");
            assertThat(s.operator()).isEqualTo(DistanceOperator.L2);
            assertThat(s.query()).isEqualTo(KnnSpec.VectorSource.ofParam(1));
            assertThat(s.limit()).isEqualTo(KnnSpec.Bound.ofLiteral(5));
            assertThat(s.offset()).isNull();
            assertThat(s.filtered()).isFalse();
            assertThat(s.localAnswer()).isNull(); // name is not known to the engine
        }

        @Test
        void aliasWhereAndParameterLimitAndOffset() {
            StatementPlan.Knn k = knn("SELECT id, embedding <-> $1::vector AS d FROM items i WHERE i.category = $2 ORDER BY d LIMIT $3 OFFSET $4");
            assertThat(norm(k.sql())).isEqualTo(
                    "(SELECT id, \"__neurondb_knn\".\"__neurondb_distance\"::float8 AS \"d\" FROM items i JOIN unnest($5::bigint[], $6::real[]) " + KNN_JOIN
                    + " ON \"i\".\"id\" = \"__neurondb_knn\".\"__neurondb_id\" WHERE i.category = $2 ORDER BY \"__neurondb_knn\".\"__neurondb_rank\" LIMIT ($3::bigint + $4::bigint))"
                    + " UNION ALL (SELECT id, embedding <-> $1::real[] AS d FROM items i WHERE (i.category = $2) AND \"i\".\"id\" <> ALL($5::bigint[])"
                    + " AND neurondb.no_parallel() ORDER BY d LIMIT ($3::bigint + $4::bigint)) LIMIT $3 OFFSET $4");
            assertThat(k.params().clientParams()).isEqualTo(4);
            assertThat(k.params().vectorParams().cardinality()).isEqualTo(1);
            assertThat(k.params().isVector(1)).isTrue();
            assertThat(k.spec().limit()).isEqualTo(KnnSpec.Bound.ofParam(3));
            assertThat(k.spec().offset()).isEqualTo(KnnSpec.Bound.ofParam(4));
            assertThat(k.spec().filtered()).isTrue();
            assertThat(k.spec().localAnswer()).isNull();
        }

        @Test
        void literalQueryByOrdinalWithLiteralOffset() {
            StatementPlan.Knn k = knn("SELECT id, embedding <=> '[1,2,3]' FROM items ORDER BY 2 LIMIT 10 OFFSET 5");
            assertThat(norm(k.sql())).isEqualTo(
                    "(SELECT id, \"__neurondb_knn\".\"__neurondb_distance\"::float8 AS \"?column?\" FROM items JOIN unnest($2::bigint[], $3::real[]) " + KNN_JOIN
                    + " ON \"items\".\"id\" = \"__neurondb_knn\".\"__neurondb_id\" ORDER BY \"__neurondb_knn\".\"__neurondb_rank\" LIMIT 15)"
                    + " UNION ALL (SELECT id, embedding <=> $1 FROM items WHERE \"items\".\"id\" <> ALL($2::bigint[]) AND neurondb.no_parallel()"
                    + " ORDER BY 2 LIMIT 15) LIMIT 10 OFFSET 5");
            assertThat(k.params().clientParams()).isZero();
            assertThat(k.params().extras()).hasSize(3);
            assertThat(vectorValue(k.params(), 0)).containsExactly(1f, 2f, 3f);
            assertThat(k.params().extras().subList(1, 3)).containsExactly(new ParamPlan.CandidateIds(), new ParamPlan.CandidateDistances());
            assertThat(k.spec().operator()).isEqualTo(DistanceOperator.COSINE);
            assertThat(k.spec().query().isParam()).isFalse();
            assertThat(k.spec().query().literal()).containsExactly(1f, 2f, 3f);
            assertThat(k.spec().offset()).isEqualTo(KnnSpec.Bound.ofLiteral(5));
            assertThat(k.spec().localAnswer()).isEqualTo(new KnnSpec.LocalAnswer(List.of(
                    new KnnSpec.OutputColumn("id", KnnSpec.Source.KEY), new KnnSpec.OutputColumn("?column?", KnnSpec.Source.DISTANCE))));
        }

        @Test
        void l1OperatorSurvivesWhileStringsAndCommentsAreLeftAlone() {
            StatementPlan.Knn k = knn("SELECT 'a <+> b', id /* <+> */ FROM items WHERE name <> '<+>' ORDER BY embedding <+> $1 LIMIT 2");
            assertThat(norm(k.sql())).isEqualTo(
                    "(SELECT 'a <+> b', id FROM items JOIN unnest($2::bigint[], $3::real[]) " + KNN_JOIN
                    + " ON \"items\".\"id\" = \"__neurondb_knn\".\"__neurondb_id\" WHERE name <> '<+>' ORDER BY \"__neurondb_knn\".\"__neurondb_rank\" LIMIT 2)"
                    + " UNION ALL (SELECT 'a <+> b', id FROM items WHERE (name <> '<+>') AND \"items\".\"id\" <> ALL($2::bigint[]) AND neurondb.no_parallel()"
                    + " ORDER BY embedding <+> $1 LIMIT 2) LIMIT 2");
            assertThat(k.spec().operator()).isEqualTo(DistanceOperator.L1);
        }

        @Test
        void l1PlaceholderAvoidsOperatorsTheStatementUses() {
            StatementPlan.Knn k = knn("SELECT id FROM items WHERE to_tsvector(name) @@ to_tsquery('x') ORDER BY embedding <+> $1 LIMIT 2");
            assertThat(norm(k.sql())).contains("WHERE to_tsvector(name) @@ to_tsquery('x') ORDER BY \"__neurondb_knn\"")
                    .contains("ORDER BY embedding <+> $1 LIMIT 2)").doesNotContain("&&");
            assertThat(k.spec().operator()).isEqualTo(DistanceOperator.L1);
        }

        @Test
        void l1OutsideAKnnIsKeptToo() {
            StatementPlan.Rewrite r = rewrite("SELECT embedding <+> '[1,2,3]' FROM items");
            assertThat(norm(r.sql())).isEqualTo("SELECT embedding <+> $1 FROM items");
        }

        @Test
        void joinsFollowTheCandidateJoin() {
            StatementPlan.Knn k = knn("SELECT i.id, c.name FROM items i LEFT JOIN cats c ON c.id = i.category ORDER BY i.embedding <-> $1 LIMIT 5");
            assertThat(norm(k.sql())).isEqualTo(
                    "(SELECT i.id, c.name FROM items i JOIN unnest($2::bigint[], $3::real[]) " + KNN_JOIN
                    + " ON \"i\".\"id\" = \"__neurondb_knn\".\"__neurondb_id\" LEFT JOIN cats c ON c.id = i.category"
                    + " ORDER BY \"__neurondb_knn\".\"__neurondb_rank\" LIMIT 5)"
                    + " UNION ALL (SELECT i.id, c.name FROM items i LEFT JOIN cats c ON c.id = i.category WHERE \"i\".\"id\" <> ALL($2::bigint[])"
                    + " AND neurondb.no_parallel() ORDER BY i.embedding <-> $1 LIMIT 5) LIMIT 5");
            assertThat(k.spec().filtered()).isTrue();
            assertThat(k.spec().localAnswer()).isNull();
        }

        @Test
        void starIsSpelledOutInTheCandidateBranch() {
            StatementPlan.Knn k = knn("SELECT * FROM public.items JOIN cats c ON c.id = items.category ORDER BY embedding <-> $1 LIMIT 3");
            assertThat(norm(k.sql())).startsWith("(SELECT \"public\".\"items\".*, \"c\".* FROM public.items JOIN unnest(")
                    .contains("ON \"public\".\"items\".\"id\" = \"__neurondb_knn\".\"__neurondb_id\" JOIN cats c ON c.id = items.category")
                    .contains("UNION ALL (SELECT * FROM public.items JOIN cats c");
        }

        @Test
        void localAnswerWhenEveryColumnIsTheKeyOrTheDistance() {
            KnnSpec s = knn("SELECT items.id AS \"Key\", embedding <-> $1, id FROM public.items ORDER BY embedding <-> $1 LIMIT $2").spec();
            assertThat(s.localAnswer()).isEqualTo(new KnnSpec.LocalAnswer(List.of(
                    new KnnSpec.OutputColumn("Key", KnnSpec.Source.KEY),
                    new KnnSpec.OutputColumn("?column?", KnnSpec.Source.DISTANCE),
                    new KnnSpec.OutputColumn("id", KnnSpec.Source.KEY))));
            assertThat(s.limit()).isEqualTo(KnnSpec.Bound.ofParam(2));
            KnnSpec aliased = knn("SELECT id, embedding <-> $1 AS Dist FROM items ORDER BY dist LIMIT 5").spec();
            assertThat(aliased.localAnswer().columns()).extracting(KnnSpec.OutputColumn::name).containsExactly("id", "dist");
            assertThat(knn("SELECT id FROM items WHERE id > 3 ORDER BY embedding <-> $1 LIMIT 5").spec().localAnswer()).isNull();
        }

        @Test
        void aDistanceThresholdInWhere() {
            // JSqlParser cannot parse "<-> ... <" as written: the arithmetic-level placeholders serve.
            StatementPlan.Knn k = knn("SELECT id FROM items WHERE embedding <-> $1 < 0.5 AND embedding <=> '[1,2,3]' < 0.2 "
                    + "AND name <> '<<' ORDER BY embedding <-> $1 LIMIT 5");
            assertThat(norm(k.sql())).isEqualTo(
                    "(SELECT id FROM items JOIN unnest($3::bigint[], $4::real[]) " + KNN_JOIN
                    + " ON \"items\".\"id\" = \"__neurondb_knn\".\"__neurondb_id\" WHERE embedding <-> $1 < 0.5 AND embedding <=> $2 < 0.2"
                    + " AND name <> '<<' ORDER BY \"__neurondb_knn\".\"__neurondb_rank\" LIMIT 5)"
                    + " UNION ALL (SELECT id FROM items WHERE (embedding <-> $1 < 0.5 AND embedding <=> $2 < 0.2 AND name <> '<<')"
                    + " AND \"items\".\"id\" <> ALL($3::bigint[]) AND neurondb.no_parallel() ORDER BY embedding <-> $1 LIMIT 5) LIMIT 5");
            assertThat(k.spec().filtered()).isTrue();
            assertThat(k.spec().operator()).isEqualTo(DistanceOperator.L2);
            assertThat(vectorValue(k.params(), 0)).containsExactly(1f, 2f, 3f);
        }

        @Test
        void arithmeticPlaceholdersAvoidOperatorsTheStatementUses() {
            StatementPlan.Rewrite r = rewrite("SELECT id, flags << 2, flags >> 1 FROM items WHERE embedding <+> $1 < 0.5 AND embedding <-> $1 < 1");
            assertThat(norm(r.sql())).isEqualTo("SELECT id, flags << 2, flags >> 1 FROM items WHERE embedding <+> $1 < 0.5 AND embedding <-> $1 < 1");
            assertThat(r.params().isVector(1)).isTrue();
            StatementPlan.Rewrite lifted = rewrite("SELECT 7 & 3 FROM items WHERE embedding <-> '[1,1,1]' < 1");
            assertThat(norm(lifted.sql())).isEqualTo("SELECT 7 & 3 FROM items WHERE embedding <-> $1 < 1");
        }

        @Test
        void theDistanceItemIsReplacedEvenWithoutAnAlias() {
            StatementPlan.Knn k = knn("SELECT id, embedding <-> $1 FROM items ORDER BY embedding <-> $1 LIMIT 3");
            assertThat(norm(k.sql())).startsWith("(SELECT id, \"__neurondb_knn\".\"__neurondb_distance\"::float8 AS \"?column?\" FROM items JOIN");
        }

        @Test
        void literalsElsewhereAreLiftedOnceAndNumberedBeforeTheCandidates() {
            StatementPlan.Knn k = knn("SELECT id, embedding <-> '[0,0,1]' AS far FROM items WHERE embedding <> '[9,9,9]' ORDER BY embedding <-> $1 LIMIT 3");
            assertThat(k.params().extras()).hasSize(4);
            assertThat(vectorValue(k.params(), 0)).containsExactly(0f, 0f, 1f);
            assertThat(vectorValue(k.params(), 1)).containsExactly(9f, 9f, 9f);
            assertThat(norm(k.sql())).contains("unnest($4::bigint[], $5::real[])")
                    .contains("(SELECT id, embedding <-> $2 AS far FROM items JOIN")
                    .contains("WHERE embedding <> $3 ORDER BY \"__neurondb_knn\"")
                    .contains("WHERE (embedding <> $3) AND \"items\".\"id\" <> ALL($4::bigint[])");
        }

        @Test
        void aTypedParameterQuery() {
            StatementPlan.Knn k = knn("SELECT id FROM items ORDER BY embedding <=> $1::vector(3) LIMIT 3");
            assertThat(norm(k.sql())).contains("ORDER BY embedding <=> $1::real[] LIMIT 3)");
            assertThat(k.params().isVector(1)).isTrue();
        }

        @ParameterizedTest
        @ValueSource(strings = {
                "SELECT DISTINCT id FROM items ORDER BY embedding <-> $1 LIMIT 5",
                "SELECT id FROM items ORDER BY embedding <-> $1 DESC LIMIT 5",
                "SELECT id FROM items ORDER BY embedding <-> $1 NULLS FIRST LIMIT 5",
                "SELECT id FROM items ORDER BY embedding <-> $1",
                "SELECT id FROM items ORDER BY embedding <-> $1 LIMIT ALL",
                "SELECT count(*) FROM items ORDER BY embedding <-> $1 LIMIT 5",
                "SELECT id, rank() OVER (ORDER BY id) FROM items ORDER BY embedding <-> $1 LIMIT 5",
                "SELECT category FROM items GROUP BY category ORDER BY min(embedding <-> $1) LIMIT 5",
                "WITH q AS (SELECT 1) SELECT id FROM items ORDER BY embedding <-> $1 LIMIT 5",
                "SELECT id FROM items ORDER BY embedding <-> $1 LIMIT 5 FOR UPDATE",
                "SELECT id FROM items, cats ORDER BY embedding <-> $1 LIMIT 5",
                "SELECT id FROM items ORDER BY embedding <#> $1 LIMIT 5",
                "SELECT id FROM items ORDER BY $1 <-> embedding LIMIT 5",
                "SELECT id FROM other JOIN items ON true ORDER BY embedding <-> $1 LIMIT 5",
                "SELECT id FROM items ORDER BY name, embedding <-> $1 LIMIT 5",
                "SELECT id FROM items ORDER BY embedding <-> $1 LIMIT 5 OFFSET id",
                "SELECT id FROM items TABLESAMPLE SYSTEM (10) ORDER BY embedding <-> $1 LIMIT 3",
                "SELECT x.id FROM (SELECT id, embedding FROM items) x ORDER BY x.embedding <-> $1 LIMIT 3",
                "SELECT id FROM items ORDER BY embedding <-> $1 FETCH FIRST 3 ROWS ONLY"})
        void shapesTheEngineCannotServeKeepRule2(String sql) {
            StatementPlan p = plan(sql);
            assertThat(p).as(sql).isInstanceOf(StatementPlan.Rewrite.class);
            StatementPlan.Rewrite r = (StatementPlan.Rewrite) p;
            assertThat(r.sql()).isEqualTo(sql);
            assertThat(r.params().isVector(1)).isTrue();
            assertThat(r.params().extras()).isEmpty();
        }

        @Test
        void setOperationsKeepRule2() {
            StatementPlan.Rewrite r = rewrite("(SELECT id FROM items ORDER BY embedding <-> '[1,2,3]' LIMIT 5) UNION ALL (SELECT 1)");
            assertThat(norm(r.sql())).isEqualTo("(SELECT id FROM items ORDER BY embedding <-> $1 LIMIT 5) UNION ALL (SELECT 1)");
        }

        @Test
        void aLiteralOfTheWrongDimensionIsLeftToPostgres() {
            StatementPlan.Rewrite r = rewrite("SELECT id FROM items ORDER BY embedding <-> '[1,2]' LIMIT 5");
            assertThat(norm(r.sql())).isEqualTo("SELECT id FROM items ORDER BY embedding <-> $1 LIMIT 5");
        }

        @Test
        void aMalformedQueryLiteralIsRefused() {
            assertThat(reject("SELECT id FROM items ORDER BY embedding <-> '[1,2,x]' LIMIT 5").sqlState()).isEqualTo("22P02");
        }

        @Test
        void everyClientParameterStaysReferenced() {
            StatementPlan.Knn k = knn("SELECT id, $3::text AS tag FROM items WHERE name = $2 ORDER BY embedding <-> $1 LIMIT $4 OFFSET $5");
            Matcher m = Pattern.compile("\\$(\\d+)").matcher(k.sql());
            java.util.Set<Integer> seen = new java.util.TreeSet<>();
            while (m.find()) {
                seen.add(Integer.parseInt(m.group(1)));
            }
            assertThat(seen).containsExactly(1, 2, 3, 4, 5, 6, 7);
            assertThat(k.params().totalParams()).isEqualTo(7);
        }
    }

    @Test
    void aLiteralAssignedToAVectorColumnIsCheckedAgainstItsDimensions() {
        // pgvector coerces the literal to vector(3) when the statement is parsed, so the error
        // comes even when no row would be written.
        assertThat(reject("UPDATE items SET embedding = '[1,2]' WHERE id = -1"))
                .isEqualTo(new ProxyCommand.Reject("22000", "expected 3 dimensions, not 2", true));
        assertThat(reject("INSERT INTO items (id, embedding) VALUES (1, '[1,2,3,4]')"))
                .isEqualTo(new ProxyCommand.Reject("22000", "expected 3 dimensions, not 4", true));
        assertThat(rewrite("UPDATE items SET embedding = '[1,2,3]' WHERE id = 1").params().extras())
                .hasSize(1).first().isInstanceOf(ParamPlan.VectorValue.class);
    }
}
