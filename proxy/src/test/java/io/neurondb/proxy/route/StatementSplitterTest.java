package io.neurondb.proxy.route;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class StatementSplitterTest {

    @Test
    void splitsAtTopLevelSemicolons() {
        assertThat(StatementSplitter.split("SELECT 1; SELECT 2;SELECT 3"))
                .containsExactly("SELECT 1", "SELECT 2", "SELECT 3");
    }

    @Test
    void singleStatementWithAndWithoutTrailingSemicolon() {
        assertThat(StatementSplitter.split("SELECT 1")).containsExactly("SELECT 1");
        assertThat(StatementSplitter.split("  SELECT 1 ;  ")).containsExactly("SELECT 1");
    }

    @Test
    void emptyWhitespaceAndCommentOnlyPiecesAreDropped() {
        assertThat(StatementSplitter.split("")).isEmpty();
        assertThat(StatementSplitter.split("   ")).isEmpty();
        assertThat(StatementSplitter.split(";;;")).isEmpty();
        assertThat(StatementSplitter.split("-- nothing\n; /* nor here */ ;")).isEmpty();
        assertThat(StatementSplitter.split("SELECT 1;; -- done\n")).containsExactly("SELECT 1");
    }

    @Test
    void keepsTheExactSourceTextIncludingComments() {
        assertThat(StatementSplitter.split("/* hint */ SELECT  1 -- one\n;\nSELECT 'a;b' AS \"x;y\""))
                .containsExactly("/* hint */ SELECT  1 -- one", "SELECT 'a;b' AS \"x;y\"");
    }

    @Test
    void semicolonsInsideLiteralsIdentifiersAndCommentsDoNotSplit() {
        assertThat(StatementSplitter.split("SELECT ';', E'\\';', $$;$$, $t$ ; $t$ FROM \"a;\" -- ; x\n WHERE 1 = 1 /* ; */"))
                .hasSize(1);
        assertThat(StatementSplitter.split("SELECT 1 /* a; /* nested; */ still; */; SELECT 2"))
                .containsExactly("SELECT 1 /* a; /* nested; */ still; */", "SELECT 2");
    }

    @Test
    void semicolonsInsideParenthesesDoNotSplit() {
        String rule = "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2))";
        assertThat(StatementSplitter.split(rule + "; SELECT 1")).containsExactly(rule, "SELECT 1");
    }

    @Test
    void dollarQuotedFunctionBodyIsOneStatement() {
        String fn = "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN PERFORM 1; RETURN 2; END $$";
        assertThat(StatementSplitter.split(fn + "; SELECT f()")).containsExactly(fn, "SELECT f()");
        String tagged = "CREATE FUNCTION g() RETURNS int AS $body$ SELECT 1; $$ not the end $$; $body$ LANGUAGE sql";
        assertThat(StatementSplitter.split(tagged + ";SELECT 2")).containsExactly(tagged, "SELECT 2");
    }

    @Test
    void beginAtomicBodyIsOneStatement() {
        String fn = "CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT a + 1; SELECT a + 2; END";
        assertThat(StatementSplitter.split(fn + "; SELECT f(1);"))
                .containsExactly(fn, "SELECT f(1)");
    }

    @Test
    void beginAtomicBodyWithCaseEndAndOrReplaceProcedure() {
        String proc = "create or replace procedure p() language sql begin atomic "
                + "insert into t values (case when true then 1 else 2 end); "
                + "select case when 1 = 1 then 'a' end; "
                + "end";
        assertThat(StatementSplitter.split(proc + ";\nCALL p()")).containsExactly(proc, "CALL p()");
    }

    @Test
    void transactionBeginAndEndAreOrdinaryStatements() {
        assertThat(StatementSplitter.split("BEGIN; INSERT INTO t VALUES (1); END; COMMIT"))
                .containsExactly("BEGIN", "INSERT INTO t VALUES (1)", "END", "COMMIT");
        assertThat(StatementSplitter.split("SELECT CASE WHEN x THEN 1 END FROM t; SELECT 2"))
                .containsExactly("SELECT CASE WHEN x THEN 1 END FROM t", "SELECT 2");
    }

    @Test
    void functionStateResetsAfterEachStatement() {
        String fn = "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END";
        assertThat(StatementSplitter.split(fn + "; BEGIN; SELECT 1; COMMIT"))
                .containsExactly(fn, "BEGIN", "SELECT 1", "COMMIT");
    }

    @Test
    void unbalancedCloseParenthesisDoesNotSwallowLaterSemicolons() {
        assertThat(StatementSplitter.split("SELECT 1); SELECT 2")).containsExactly("SELECT 1)", "SELECT 2");
    }

    @Test
    void untokenizableTextIsReturnedWholeForPostgresToReject() {
        assertThat(StatementSplitter.split("SELECT 1; SELECT 'unterminated")).containsExactly("SELECT 1; SELECT 'unterminated");
    }

    @Test
    void vectorStatementsSplitCleanly() {
        assertThat(StatementSplitter.split("CREATE EXTENSION IF NOT EXISTS vector;"
                + "CREATE TABLE items (id bigserial PRIMARY KEY, embedding vector(3));"
                + "INSERT INTO items (embedding) VALUES ('[1,2,3]'), ('[4,5,6]');"
                + "SELECT * FROM items ORDER BY embedding <-> '[3,1,2]' LIMIT 5;"))
                .containsExactly("CREATE EXTENSION IF NOT EXISTS vector",
                        "CREATE TABLE items (id bigserial PRIMARY KEY, embedding vector(3))",
                        "INSERT INTO items (embedding) VALUES ('[1,2,3]'), ('[4,5,6]')",
                        "SELECT * FROM items ORDER BY embedding <-> '[3,1,2]' LIMIT 5");
    }

    @Test
    void soleStatementIsSeenWithoutTokenizingOnlyWhenCertain() {
        assertThat(StatementSplitter.soleStatement("SELECT abalance FROM pgbench_accounts WHERE aid = 42;"))
                .isEqualTo("SELECT abalance FROM pgbench_accounts WHERE aid = 42");
        assertThat(StatementSplitter.soleStatement("  SELECT 1 ; ;\n")).isEqualTo("SELECT 1");
        assertThat(StatementSplitter.soleStatement("SELECT * FROM items ORDER BY embedding <-> '[3,1,2]' LIMIT 5"))
                .isEqualTo("SELECT * FROM items ORDER BY embedding <-> '[3,1,2]' LIMIT 5");
        // Not certain without the tokenizer: left to split().
        assertThat(StatementSplitter.soleStatement("SELECT 1; SELECT 2")).isNull();
        assertThat(StatementSplitter.soleStatement("SELECT ';'")).isNull();
        assertThat(StatementSplitter.soleStatement("SELECT \"a;\" FROM t")).isNull();
        assertThat(StatementSplitter.soleStatement("SELECT 1 -- note;")).isNull();
        assertThat(StatementSplitter.soleStatement("SELECT 1 /* ; */")).isNull();
        assertThat(StatementSplitter.soleStatement("SELECT $$a;b$$")).isNull();
        assertThat(StatementSplitter.soleStatement(" ; ")).isNull();
        assertThat(StatementSplitter.soleStatement("")).isNull();
    }

    @Test
    void soleStatementAgreesWithSplitWheneverItAnswers() {
        String[] corpus = {
                "SELECT 1", "SELECT 1;", "select 1 ;;  ", "INSERT INTO t VALUES ('a''b', 2);",
                "UPDATE pgbench_accounts SET abalance = abalance + -1 WHERE aid = 7;",
                "SELECT e'\\'';'", "SELECT 'x' || 'y'", "CREATE TABLE t (v vector(3))",
                "SELECT * FROM t WHERE v <=> '[1,2,3]' < 0.5 ;", "COPY t FROM STDIN", "BEGIN", "END;",
        };
        for (String sql : corpus) {
            String sole = StatementSplitter.soleStatement(sql);
            if (sole != null) {
                assertThat(StatementSplitter.split(sql)).as(sql).containsExactly(sole);
            }
        }
    }
}
