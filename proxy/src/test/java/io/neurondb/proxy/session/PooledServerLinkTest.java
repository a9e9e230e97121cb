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

    // ---- lending a connection behind the last statement ----

    /** The part of a lease the link uses: the host state it keeps on the connection. */
    private static io.neurondb.plugin.api.BackendConnectionProvider.BackendLease lease() {
        java.util.Map<String, Object> attachments = new java.util.HashMap<>();
        return new io.neurondb.plugin.api.BackendConnectionProvider.BackendLease() {
            @Override
            public io.vertx.core.net.NetSocket socket() {
                return null;
            }

            @Override
            public int processId() {
                return 1;
            }

            @Override
            public int secretKey() {
                return 2;
            }

            @Override
            public java.util.Map<String, Object> attachments() {
                return attachments;
            }

            @Override
            public void release(boolean reusable) {
            }
        };
    }

    private static Frame frame(byte type, Buffer body) {
        Buffer b = Buffer.buffer().appendByte(type).appendInt(body.length() + 4).appendBuffer(body);
        return new Frame(type, b, 0, b.length());
    }

    private static Frame parse(String name, String sql) {
        return frame(PgProtocol.PARSE, Buffer.buffer().appendString(name).appendByte((byte) 0).appendString(sql).appendByte((byte) 0).appendShort((short) 0));
    }

    private static Frame bind(String statement) {
        return frame(PgProtocol.BIND, Buffer.buffer().appendByte((byte) 0).appendString(statement).appendByte((byte) 0)
                .appendShort((short) 0).appendShort((short) 0).appendShort((short) 0));
    }

    private static Frame execute() {
        return frame(PgProtocol.EXECUTE, Buffer.buffer().appendByte((byte) 0).appendInt(0));
    }

    private static Frame sync() {
        return frame(PgProtocol.SYNC, Buffer.buffer());
    }

    private static Frame ready(char status) {
        return frame(PgProtocol.READY_FOR_QUERY, Buffer.buffer().appendByte((byte) status));
    }

    private static void send(PooledServerLink link, Frame... frames) {
        for (Frame f : frames) {
            link.outgoing(f, x -> {
            }, x -> {
            });
        }
    }

    @Test
    void oneAutocommitQueryEndsIdleAndASecondOrATransactionDoesNot() {
        PooledServerLink link = new PooledServerLink(true, 10, new SessionVariables());
        link.attach(lease());
        assertThat(link.endsIdle()).as("nothing sent").isFalse();
        send(link, query("SELECT abalance FROM pgbench_accounts WHERE aid = 7"));
        assertThat(link.endsIdle()).isTrue();
        send(link, query("SELECT 2"));
        assertThat(link.endsIdle()).as("two queries: the server answers the first, then is busy again").isFalse();

        link.incoming(ready('I'));
        link.incoming(ready('I'));
        send(link, query("BEGIN"));
        assertThat(link.endsIdle()).isFalse();
        link.incoming(ready('T'));
        send(link, query("SELECT 1"));
        assertThat(link.endsIdle()).as("inside BEGIN").isFalse();
    }

    @Test
    void anExtendedBatchEndsIdleWhenItsStatementIsKnownOnTheConnection() {
        PooledServerLink link = new PooledServerLink(true, 10, new SessionVariables());
        link.attach(lease());
        send(link, parse("", "SELECT $1"), bind(""), execute());
        assertThat(link.endsIdle()).as("no Sync yet").isFalse();
        send(link, sync());
        assertThat(link.endsIdle()).as("unnamed statement").isTrue();
        link.incoming(frame(PgProtocol.PARSE_COMPLETE, Buffer.buffer()));
        link.incoming(ready('I'));

        send(link, parse("s1", "SELECT $1"), bind("s1"), execute(), sync());
        assertThat(link.endsIdle()).as("a named Parse changes the connection's statements").isFalse();
        link.incoming(frame(PgProtocol.PARSE_COMPLETE, Buffer.buffer()));
        link.incoming(ready('I'));

        send(link, bind("s1"), execute(), sync());
        assertThat(link.endsIdle()).as("prepared there now").isTrue();
        link.incoming(ready('I'));

        send(link, parse("s2", "BEGIN"));
        link.incoming(frame(PgProtocol.PARSE_COMPLETE, Buffer.buffer()));
        send(link, sync());
        link.incoming(ready('I'));
        send(link, bind("s2"), execute(), sync());
        assertThat(link.endsIdle()).as("BEGIN").isFalse();
    }

    @Test
    void whatIsSentAfterTheConnectionWasLentOnWaitsForTheNextLease() {
        PooledServerLink link = new PooledServerLink(true, 10, new SessionVariables());
        link.attach(lease());
        List<Frame> sent = new java.util.ArrayList<>();
        link.outgoing(query("SELECT 1"), sent::add, x -> {
        });
        link.holdBack();
        assertThat(link.endsIdle()).isFalse();
        link.outgoing(query("SELECT 2"), sent::add, x -> {
        });
        assertThat(sent).hasSize(1);
        assertThat(link.hasDetached()).isTrue();
        assertThat(link.readyForQueriesOwed()).isEqualTo(1);
    }
}
