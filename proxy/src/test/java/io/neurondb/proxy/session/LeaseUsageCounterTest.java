package io.neurondb.proxy.session;

import io.neurondb.plugin.api.BackendConnectionProvider.LeaseUsage;
import io.neurondb.proxy.protocol.PgProtocol;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** What a pooled session counts as queries and transactions for SHOW STATS. */
class LeaseUsageCounterTest {

    private static void complete(LeaseUsageCounter c) {
        c.shown(PgProtocol.COMMAND_COMPLETE, (byte) 0);
    }

    private static void ready(LeaseUsageCounter c, char status) {
        c.shown(PgProtocol.READY_FOR_QUERY, (byte) status);
    }

    @Test
    void autocommitStatementIsOneQueryAndOneTransaction() {
        LeaseUsageCounter c = new LeaseUsageCounter();
        c.querySent();
        c.shown(PgProtocol.ROW_DESCRIPTION, (byte) 0);
        complete(c);
        ready(c, 'I');
        LeaseUsage u = c.take();
        assertThat(u.queries()).isEqualTo(1);
        assertThat(u.transactions()).isEqualTo(1);
        assertThat(c.take()).isSameAs(LeaseUsage.NONE);
    }

    @Test
    void explicitTransactionOfTwoStatementsIsFourQueriesAndOneTransaction() {
        LeaseUsageCounter c = new LeaseUsageCounter();
        // BEGIN and the first statement pipelined before one Sync (as pgjdbc sends them).
        c.querySent();
        c.querySent();
        complete(c);
        complete(c);
        ready(c, 'T');
        c.querySent();
        complete(c);
        ready(c, 'T');
        c.querySent(); // COMMIT
        complete(c);
        ready(c, 'I');
        LeaseUsage u = c.take();
        assertThat(u.queries()).isEqualTo(4);
        assertThat(u.transactions()).isEqualTo(1);
        assertThat(u.transactionMicros()).isGreaterThanOrEqualTo(u.queryMicros() - 1);
    }

    @Test
    void multiStatementQueryCountsOnceAndAnErrorEndsThePipeline() {
        LeaseUsageCounter c = new LeaseUsageCounter();
        c.querySent(); // "SELECT 1; SELECT 2" as one Query
        complete(c);
        complete(c);
        ready(c, 'I');
        c.querySent(); // two Executes, the first fails: the second is skipped up to the Sync
        c.querySent();
        c.shown(PgProtocol.ERROR_RESPONSE, (byte) 0);
        ready(c, 'I');
        c.shown(PgProtocol.EMPTY_QUERY_RESPONSE, (byte) 0); // nothing pending: not a query
        LeaseUsage u = c.take();
        assertThat(u.queries()).isEqualTo(2);
        assertThat(u.transactions()).isEqualTo(2);
    }

    @Test
    void bytesAndAnOpenTransactionCarryOverReports() {
        LeaseUsageCounter c = new LeaseUsageCounter();
        c.toServer(30);
        c.fromServer(70);
        c.querySent();
        complete(c);
        ready(c, 'T');
        LeaseUsage first = c.take();
        assertThat(first.bytesToServer()).isEqualTo(30);
        assertThat(first.bytesFromServer()).isEqualTo(70);
        assertThat(first.transactions()).isZero();
        c.querySent();
        complete(c);
        ready(c, 'I');
        LeaseUsage second = c.take();
        assertThat(second.transactions()).isEqualTo(1);
        assertThat(second.queries()).isEqualTo(1);
        assertThat(second.bytesToServer()).isZero();
    }
}
