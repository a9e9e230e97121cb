package io.neurondb.proxy.sql;

import io.neurondb.proxy.sql.SqlToken.Kind;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SqlTokenizerTest {

    private static List<String> texts(String sql) {
        return SqlTokenizer.tokenize(sql).stream().map(SqlToken::text).toList();
    }

    private static List<Kind> kinds(String sql) {
        return SqlTokenizer.tokenize(sql).stream().map(SqlToken::kind).toList();
    }

    @Test
    void knnQueryWithEveryVectorOperator() {
        assertThat(texts("SELECT id FROM items ORDER BY embedding <-> $1 LIMIT 10"))
                .containsExactly("SELECT", "id", "FROM", "items", "ORDER", "BY", "embedding", "<->", "$1", "LIMIT", "10");
        for (String op : List.of("<->", "<#>", "<=>", "<+>")) {
            List<SqlToken> tokens = SqlTokenizer.tokenize("SELECT a" + op + "'[1,2]'::vector");
            assertThat(tokens.get(2).isOperator(op)).as(op).isTrue();
            assertThat(tokens.get(3).kind()).isEqualTo(Kind.STRING);
            assertThat(tokens.get(4).isOperator("::")).isTrue();
        }
    }

    @Test
    void operatorsInsideLiteralsIdentifiersAndCommentsAreNotOperators() {
        String sql = "SELECT '<->' AS \"a<=>b\" -- ORDER BY x <-> y\n /* <+> /* nested */ <#> */ FROM t";
        assertThat(SqlTokenizer.tokenize(sql)).noneMatch(t -> t.kind() == Kind.OPERATOR);
        assertThat(texts(sql)).containsExactly("SELECT", "'<->'", "AS", "\"a<=>b\"", "FROM", "t");
    }

    @Test
    void stringForms() {
        assertThat(kinds("'it''s' E'a\\'b' $$x'y$$ $fn$ body $$ $fn$ U&'\\0041' B'101' X'ff'"))
                .containsOnly(Kind.STRING).hasSize(7);
        assertThat(texts("E'a\\'b', 1")).containsExactly("E'a\\'b'", ",", "1");
    }

    @Test
    void identifiersFoldLikePostgres() {
        List<SqlToken> t = SqlTokenizer.tokenize("CREATE INDEX \"My\"\"Idx\" ON Items USING HNSW (Embedding vector_cosine_ops)");
        assertThat(t.get(2).kind()).isEqualTo(Kind.QUOTED_IDENTIFIER);
        assertThat(t.get(2).normalized()).isEqualTo("My\"Idx");
        assertThat(t.get(4).normalized()).isEqualTo("items");
        assertThat(t.get(6).isWord("hnsw")).isTrue();
    }

    @Test
    void trailingPlusOrMinusIsSplitOffAsPostgresDoes() {
        assertThat(texts("a<-1")).containsExactly("a", "<", "-", "1");
        assertThat(texts("a <+> b")).containsExactly("a", "<+>", "b");
        assertThat(texts("a @- b")).containsExactly("a", "@-", "b");
        assertThat(texts("x--comment\n+1")).containsExactly("x", "+", "1");
    }

    @Test
    void numbersParametersAndCasts() {
        assertThat(kinds("1 2.5 .5 1e10 3.0E-2 $12 x::real[]"))
                .containsExactly(Kind.NUMBER, Kind.NUMBER, Kind.NUMBER, Kind.NUMBER, Kind.NUMBER, Kind.PARAMETER,
                        Kind.WORD, Kind.OPERATOR, Kind.WORD, Kind.PUNCTUATION, Kind.PUNCTUATION);
        assertThat(texts("arr[1:2]")).containsExactly("arr", "[", "1", ":", "2", "]");
    }

    @Test
    void positionsPointBackIntoTheText() {
        String sql = "SELECT  x <=> $2";
        for (SqlToken t : SqlTokenizer.tokenize(sql)) {
            assertThat(sql.substring(t.start(), t.end())).isEqualTo(t.text());
        }
    }

    @Test
    void unterminatedInputIsASyntaxError() {
        assertThatThrownBy(() -> SqlTokenizer.tokenize("SELECT 'abc")).isInstanceOf(SqlSyntaxException.class)
                .hasMessageContaining("unterminated quoted string");
        assertThatThrownBy(() -> SqlTokenizer.tokenize("SELECT $$abc")).hasMessageContaining("unterminated dollar-quoted string");
        assertThatThrownBy(() -> SqlTokenizer.tokenize("SELECT /* /* */")).hasMessageContaining("unterminated /* comment");
        assertThatThrownBy(() -> SqlTokenizer.tokenize("SELECT \"abc")).hasMessageContaining("unterminated quoted identifier");
    }

    @Test
    void steppingMeetsTheSameTokensAsBuildingThem() {
        List<String> corpus = StatementCorpus.statements();
        assertThat(corpus).hasSizeGreaterThan(1000);
        int failed = 0;
        for (String sql : corpus) {
            List<SqlToken> built;
            try {
                built = SqlTokenizer.tokenize(sql);
            } catch (SqlSyntaxException e) {
                failed++;
                SqlTokenizer t = SqlTokenizer.stepping(sql);
                assertThatThrownBy(() -> {
                    while (t.advance()) {
                        // steps to the same error
                    }
                }).as(sql).isInstanceOf(SqlSyntaxException.class).hasMessage(e.getMessage());
                continue;
            }
            SqlTokenizer t = SqlTokenizer.stepping(sql);
            for (SqlToken expected : built) {
                assertThat(t.advance()).as(sql).isTrue();
                assertThat(new SqlToken(t.kind(), sql.substring(t.start(), t.end()), t.start(), t.end())).as(sql).isEqualTo(expected);
                assertThat(t.textIs(expected.text().toUpperCase(java.util.Locale.ROOT))).as(sql).isTrue();
            }
            assertThat(t.advance()).as(sql).isFalse();
        }
        assertThat(failed).as("statements with a syntax error in the corpus").isPositive();
    }

    @Test
    void steppingComparesTheCurrentTokenOnly() {
        SqlTokenizer t = SqlTokenizer.stepping("SELECT '[1]' <-> x");
        assertThat(t.advance()).isTrue();
        assertThat(t.textIs("select")).isTrue();
        assertThat(t.textIs("sel")).isFalse();
        assertThat(t.textHas('[')).isFalse(); // the next token has one, this one not
        assertThat(t.advance()).isTrue();
        assertThat(t.kind()).isEqualTo(Kind.STRING);
        assertThat(t.textHas('[')).isTrue();
        assertThat(t.advance()).isTrue();
        assertThat(t.textIs("<->")).isTrue();
        assertThat(t.advance()).isTrue();
        assertThat(t.advance()).isFalse();
    }
}
