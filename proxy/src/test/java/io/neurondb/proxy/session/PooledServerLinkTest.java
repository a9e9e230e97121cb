package io.neurondb.proxy.session;

import io.neurondb.proxy.protocol.Frame;
import io.neurondb.proxy.protocol.MessageWriter;
import io.neurondb.proxy.protocol.PgProtocol;
import io.neurondb.proxy.sql.StatementCorpus;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class PooledServerLinkTest {

    private static Frame query(String sql) {
        Buffer b = MessageWriter.typed(PgProtocol.QUERY, sql.length() * 3 + 1).cstring(sql).finish();
        return new Frame(PgProtocol.QUERY, b, 0, b.length());
    }

    @Test
    void queriesThatSetResetOrListenAreRead() {
        for (String sql : List.of("SET search_path = app", "  set statement_timeout TO 5", "\tReSeT ALL", "RESET search_path",
                "LISTEN ch", "listen ch", "SELECT 1; SET search_path = app", "select 1;select 2", "\u00a0SET x = 1")) {
            assertThat(PooledServerLink.mayBeSetOrListen(query(sql))).as(sql).isTrue();
        }
        for (String sql : List.of("SELECT 1", "select 1;", "SELECT 1 ;  \n", "", "UPDATE t SET a = 1", "SELECT 'SET'")) {
            assertThat(PooledServerLink.mayBeSetOrListen(query(sql))).as(sql).isFalse();
        }
    }

    /** What the byte-level test passes over, the session's setting tracker would not have noted either. */
    @Test
    void aQueryPassedOverHoldsNoSettingChange() {
        int passedOver = 0;
        for (String sql : StatementCorpus.statements()) {
            if (!PooledServerLink.mayBeSetOrListen(query(sql))) {
                passedOver++;
                SessionVariables variables = new SessionVariables();
                variables.sawSql(sql);
                assertThat(variables.hasPending()).as(sql).isFalse();
                assertThat(sql.stripLeading().toLowerCase(java.util.Locale.ROOT)).as(sql).doesNotStartWith("listen");
            }
        }
        assertThat(passedOver).isGreaterThan(1000);
    }
}
