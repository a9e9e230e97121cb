package io.neurondb.proxy.sql;

import io.neurondb.plugin.api.NormalizedSql;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class SqlNormalizerTest {

    private static String text(String sql) {
        return SqlNormalizer.normalize(sql).text();
    }

    private static String fp(String sql) {
        return SqlNormalizer.normalize(sql).fingerprint();
    }

    @Test
    void stringsAndNumbersBecomeNumberedPlaceholders() {
        assertThat(text("SELECT * FROM users WHERE email = 'ann@example.com' AND age > 42 AND score < 1.5e3"))
                .isEqualTo("SELECT * FROM users WHERE email = $1 AND age > $2 AND score < $3");
        assertThat(text("SELECT E'it\\'s', B'101', X'ff', N'x', U&'d\\0061t'"))
                .isEqualTo("SELECT $1, $2, $3, $4, $5");
    }

    @Test
    void statementsDifferingOnlyInLiteralsShareAFingerprint() {
        assertThat(fp("SELECT pg_sleep(0.5)")).isEqualTo(fp("SELECT pg_sleep(2)"));
        assertThat(fp("SELECT * FROM t WHERE name = 'bob'")).isEqualTo(fp("select *   from T where NAME='alice' -- who"));
        assertThat(fp("SELECT * FROM t WHERE a = 1")).isNotEqualTo(fp("SELECT * FROM t WHERE b = 1"));
        assertThat(fp("SELECT * FROM t WHERE a = 1")).isNotEqualTo(fp("SELECT * FROM t WHERE a > 1"));
        assertThat(fp("SELECT 1")).matches("[0-9a-f]{16}");
    }

    @Test
    void aLiteralAndABindParameterGroupTogether() {
        assertThat(fp("SELECT * FROM t WHERE id = 7")).isEqualTo(fp("SELECT * FROM t WHERE id = $1"));
    }

    @Test
    void literalsAreNumberedAfterTheStatementsOwnParameters() {
        assertThat(text("SELECT * FROM t WHERE a = $2 AND b = 'x' AND c = $1"))
                .isEqualTo("SELECT * FROM t WHERE a = $2 AND b = $3 AND c = $1");
    }

    @Test
    void dollarQuotedStringsAreLiterals() {
        assertThat(text("SELECT $$secret$$, $tag$it's $$ nested$tag$ FROM t"))
                .isEqualTo("SELECT $1, $2 FROM t");
    }

    @Test
    void commentsAreDroppedAndSpaceCollapsed() {
        String n = text("SELECT /* user=ann@example.com */ a,\n\t  b -- ssn 123-45-6789\nFROM t");
        assertThat(n).isEqualTo("SELECT a, b FROM t");
        assertThat(n).doesNotContain("ann").doesNotContain("123");
        assertThat(text("SELECT count(*) FROM t")).isEqualTo("SELECT count(*) FROM t");
    }

    @Test
    void castsKeepTheTypeAndLoseTheValue() {
        assertThat(text("SELECT '2024-01-01'::date, CAST('5' AS int), interval '1 day', '[1,2,3]'::vector(3)"))
                .isEqualTo("SELECT $1::date, CAST($2 AS int), interval $3, $4::vector($5)");
        assertThat(fp("SELECT '[1,2,3]'::vector <-> embedding FROM items"))
                .isEqualTo(fp("SELECT '[9,9,9]'::vector <-> embedding FROM items"));
    }

    @Test
    void negativeNumbersAreOneConstantButSubtractionStays() {
        assertThat(text("SELECT * FROM t WHERE a = -5 AND b IN (-1, 2)")).isEqualTo("SELECT * FROM t WHERE a = $1 AND b IN ($2 /*, ... */)");
        assertThat(fp("SELECT * FROM t WHERE a = -5")).isEqualTo(fp("SELECT * FROM t WHERE a = 5"));
        assertThat(text("SELECT a -1 FROM t")).isEqualTo("SELECT a -$1 FROM t");
        assertThat(text("SELECT x-1 FROM t")).isEqualTo("SELECT x-$1 FROM t");
    }

    @Test
    void inListsOfAnyLengthGroupTogether() {
        assertThat(text("SELECT * FROM t WHERE id IN (1, 2, 3)")).isEqualTo("SELECT * FROM t WHERE id IN ($1 /*, ... */)");
        assertThat(fp("SELECT * FROM t WHERE id IN (1, 2, 3)")).isEqualTo(fp("SELECT * FROM t WHERE id IN (4)"));
        assertThat(fp("SELECT * FROM t WHERE id IN ('a','b')")).isEqualTo(fp("SELECT * FROM t WHERE id in ($1, $2, $3)"));
        assertThat(text("SELECT * FROM t WHERE id = ANY(ARRAY[1,2,3])")).isEqualTo("SELECT * FROM t WHERE id = ANY(ARRAY[$1 /*, ... */])");
        // A subquery is not a list of constants.
        assertThat(text("SELECT * FROM t WHERE id IN (SELECT id FROM u WHERE v = 1)"))
                .isEqualTo("SELECT * FROM t WHERE id IN (SELECT id FROM u WHERE v = $1)");
        assertThat(text("SELECT * FROM t WHERE (a, b) IN ((1, 2), (3, 4))"))
                .isEqualTo("SELECT * FROM t WHERE (a, b) IN (($1, $2), ($3, $4))");
    }

    @Test
    void identifiersAndKeywordsAreKept() {
        assertThat(text("SELECT \"Weird Col\", t1.x2 FROM s.\"T\" t1 ORDER BY embedding <=> $1 LIMIT 10"))
                .isEqualTo("SELECT \"Weird Col\", t1.x2 FROM s.\"T\" t1 ORDER BY embedding <=> $1 LIMIT $2");
        assertThat(fp("SELECT a FROM \"T\"")).isNotEqualTo(fp("SELECT a FROM t"));
    }

    @Test
    void trailingSemicolonDoesNotSplitAGroup() {
        assertThat(fp("SELECT 1;")).isEqualTo(fp("SELECT 2"));
        assertThat(text("BEGIN; SELECT 1; COMMIT;")).isEqualTo("BEGIN; SELECT $1; COMMIT");
    }

    @Test
    void unparseableTextShowsNothingOfTheStatement() {
        String n = text("SELECT 'unterminated secret");
        assertThat(n).doesNotContain("secret").startsWith("/* statement not normalised");
        assertThat(fp("SELECT 'unterminated secret")).isEqualTo(fp("SELECT 'unterminated secret"));
    }

    @Test
    void lazyHandleNormalisesOnFirstUseAndTextsWithoutLiteralsAreCached() {
        NormalizedSql lazy = SqlNormalizer.lazy("SELECT 'x' FROM t");
        assertThat(lazy.text()).isEqualTo("SELECT $1 FROM t");
        assertThat(lazy.fingerprint()).isEqualTo(SqlNormalizer.cached("SELECT 'y' FROM t").fingerprint());
        // Texts without literals (prepared statements) are cached; texts with literals are not.
        assertThat(SqlNormalizer.cached("SELECT a FROM t WHERE b = $1")).isSameAs(SqlNormalizer.cached("SELECT a FROM t WHERE b = $1"));
        assertThat(SqlNormalizer.cached("SELECT 'x' FROM t")).isEqualTo(SqlNormalizer.cached("SELECT 'x' FROM t"))
                .isNotSameAs(SqlNormalizer.cached("SELECT 'x' FROM t"));
    }
}
