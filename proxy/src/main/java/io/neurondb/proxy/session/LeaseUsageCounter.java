package io.neurondb.proxy.session;

import io.neurondb.plugin.api.BackendConnectionProvider.LeaseUsage;
import io.neurondb.proxy.protocol.PgProtocol;

/**
 * Counts a pooled session's work on its server connection for the provider's statistics
 * (SHOW STATS). Owned by one session and touched only on its event loop, so plain fields:
 * the hot path pays a few additions and a clock read per query, nothing per row.
 *
 * <p>A query is a Query or an Execute sent to the server; it completes at the first
 * CommandComplete, EmptyQueryResponse or ErrorResponse the client is shown after it (so a
 * multi-statement Query counts once, as PgBouncer does), and queries pipelined before a Sync
 * are timed from the previous one's completion. A ReadyForQuery ends what is still pending
 * (an error skips the rest up to the Sync). A transaction runs from the first query sent while
 * none is open to the ReadyForQuery 'I' the client is shown; a statement outside BEGIN is one.
 */
final class LeaseUsageCounter {

    private long queries;
    private long transactions;
    private long bytesToServer;
    private long bytesFromServer;
    private long queryNanos;
    private long transactionNanos;

    private int pendingQueries;
    private long queryStartNanos;
    private long transactionStartNanos;
    private boolean inTransaction;

    /** A Query or an Execute goes to the server. */
    void querySent() {
        if (pendingQueries == 0 || !inTransaction) {
            long now = System.nanoTime();
            if (pendingQueries == 0) {
                queryStartNanos = now;
            }
            if (!inTransaction) {
                inTransaction = true;
                transactionStartNanos = now;
            }
        }
        pendingQueries++;
    }

    /** A server frame the client is shown (not one the proxy answered for itself or hid). */
    void shown(byte type, byte transactionStatus) {
        switch (type) {
            case PgProtocol.COMMAND_COMPLETE, PgProtocol.EMPTY_QUERY_RESPONSE, PgProtocol.ERROR_RESPONSE -> {
                if (pendingQueries > 0) {
                    long now = System.nanoTime();
                    queries++;
                    queryNanos += now - queryStartNanos;
                    queryStartNanos = now;
                    pendingQueries--;
                }
            }
            case PgProtocol.READY_FOR_QUERY -> {
                pendingQueries = 0;
                if (transactionStatus == 'I' && inTransaction) {
                    transactions++;
                    transactionNanos += System.nanoTime() - transactionStartNanos;
                    inTransaction = false;
                }
            }
            default -> {
            }
        }
    }

    void toServer(int bytes) {
        bytesToServer += bytes;
    }

    void fromServer(int bytes) {
        bytesFromServer += bytes;
    }

    /**
     * What was counted since the last call, for the provider; counting starts again from zero.
     * A transaction still open stays open (its time is reported when it ends).
     */
    LeaseUsage take() {
        if (queries == 0 && transactions == 0 && bytesToServer == 0 && bytesFromServer == 0) {
            return LeaseUsage.NONE;
        }
        LeaseUsage u = new LeaseUsage(queries, transactions, bytesToServer, bytesFromServer, queryNanos / 1000, transactionNanos / 1000);
        queries = 0;
        transactions = 0;
        bytesToServer = 0;
        bytesFromServer = 0;
        queryNanos %= 1000;
        transactionNanos %= 1000;
        return u;
    }

    /** The lease went back: whatever was pending belongs to no connection now. */
    void detached() {
        pendingQueries = 0;
        inTransaction = false;
    }
}
