package io.neurondb.proxy.session;

import io.neurondb.proxy.sql.StatementCorpus;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Locale;

import static org.assertj.core.api.Assertions.assertThat;

class AutocommitStatementsTest {

    @Test
    void oneQueryOrDataChangeIsAutocommit() {
        for (String sql : List.of("SELECT 1", "  select abalance from pgbench_accounts where aid = 5;", "INSERT INTO t VALUES (1)",
                "update t set a = 1", "DELETE FROM t", "WITH x AS (SELECT 1) SELECT * FROM x", "VALUES (1)", "TABLE t",
                "SELECT 1;  \n", "select\n1", "SELECT(1)")) {
            assertThat(AutocommitStatements.isOne(sql)).as(sql).isTrue();
        }
    }

    @Test
    void anythingThatMayLeaveTheServerBusyOrChangedIsNot() {
        for (String sql : List.of("BEGIN", "begin; select 1", "START TRANSACTION", "SET search_path = a", "RESET ALL", "COPY t FROM STDIN",
                "COPY t TO STDOUT", "SELECT 1; BEGIN", "select 1;select 2", "SELECT ';'; BEGIN", "-- c\nSELECT 1", "/* c */ SELECT 1",
                "SELECTX 1", "select_1", "select1", "CALL p()", "DO $$ begin end $$", "", "   ", "LISTEN x", "SHOW x", "\u00a0SELECT 1",
                "PREPARE p AS SELECT 1", "EXECUTE p", "COMMIT", "SAVEPOINT s", "DISCARD ALL", "DECLARE c CURSOR WITH HOLD FOR SELECT 1")) {
            assertThat(AutocommitStatements.isOne(sql)).as(sql).isFalse();
        }
    }

    @Test
    void aParseBodyIsReadUpToItsTerminatingZero() {
        // Parse: statement name (empty), the text, then parameter types the check must not read as text.
        Buffer parse = Buffer.buffer().appendByte((byte) 0).appendString("SELECT $1").appendByte((byte) 0)
                .appendShort((short) 1).appendInt(';');
        assertThat(AutocommitStatements.isOne(parse, 1, parse.length())).isTrue();
        Buffer two = Buffer.buffer().appendByte((byte) 0).appendString("SELECT 1; BEGIN").appendByte((byte) 0).appendShort((short) 0);
        assertThat(AutocommitStatements.isOne(two, 1, two.length())).isFalse();
    }

    /** Over the whole statement corpus: what passes is one statement that neither opens a transaction, copies nor sets. */
    @Test
    void nothingInTheCorpusThatPassesOpensATransactionCopiesOrSets() {
        int passed = 0;
        for (String sql : StatementCorpus.statements()) {
            if (!AutocommitStatements.isOne(sql)) {
                continue;
            }
            passed++;
            String lower = sql.strip().toLowerCase(Locale.ROOT);
            assertThat(lower).as(sql).doesNotStartWith("begin").doesNotStartWith("start").doesNotStartWith("copy")
                    .doesNotStartWith("set").doesNotStartWith("reset").doesNotStartWith("listen");
            SessionVariables variables = new SessionVariables();
            variables.sawSql(sql);
            assertThat(variables.hasPending()).as(sql).isFalse();
            int semicolon = sql.indexOf(';');
            assertThat(semicolon < 0 || sql.substring(semicolon + 1).isBlank()).as(sql).isTrue();
        }
        assertThat(passed).isGreaterThan(100);
    }
}
