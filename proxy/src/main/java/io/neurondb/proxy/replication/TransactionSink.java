package io.neurondb.proxy.replication;

/**
 * What a {@link SlotStream} feeds. Every call comes from the stream's own thread, one at a
 * time, so the sink needs no locking against itself.
 */
public interface TransactionSink {

    /** Applies one committed transaction (or the last part of a streamed one); called in commit order. */
    void apply(ReplicatedTransaction transaction);

    /**
     * Applies a part of a large streamed transaction that committed: more parts follow, the
     * last through {@link #apply}. Parts carry the transaction's LSNs; the transaction counts
     * as applied (its end LSN reached) only with the last.
     */
    void applyPart(ReplicatedTransaction part);

    /**
     * No transaction is open and everything received is applied: the sink is current up to
     * {@code lsn} (the server's last reported position, 0 before the first), which may move its
     * applied position. Called whenever the stream is drained, so its time says how current the
     * sink is.
     */
    void caughtUp(long lsn);

    /**
     * Between transactions, when work is due (checkpoints, queued tasks). Returns the position
     * that is durable: the slot's flushed position may advance up to it.
     */
    long between();
}
