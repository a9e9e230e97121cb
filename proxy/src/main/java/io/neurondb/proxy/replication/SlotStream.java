package io.neurondb.proxy.replication;

import org.postgresql.replication.LogSequenceNumber;
import org.postgresql.replication.PGReplicationStream;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.sql.SQLException;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * Reads a pgoutput stream (protocol 1, or 2 with large transactions streamed before they
 * commit) and hands its committed transactions to a {@link TransactionSink} in commit order,
 * through a {@link TransactionAssembler}. The slot's flushed position is reported as what the
 * sink says is durable, never more; the applied/received position as what was applied. Runs on
 * the caller's thread until the stream fails or {@code stop} says so.
 */
public final class SlotStream {

    /**
     * How long to wait for new data before polling again: 2 ms while data keeps coming, growing
     * to 10 ms after 100 ms without any. pgjdbc's replication stream can only be polled; at a
     * fixed 2 ms an idle database cost its follower thread 500 wake-ups a second (a few percent
     * of the proxy's CPU in a relay profile), and 10 ms is well inside the staleness bound and
     * the commit-to-searchable budget.
     */
    private static final long BUSY_PARK_NANOS = 2_000_000L;
    private static final long IDLE_PARK_NANOS = 10_000_000L;
    private static final int POLLS_BEFORE_IDLE = 50;

    private final PGReplicationStream stream;
    private final TransactionSink sink;
    private final Duration statusInterval;
    private final StreamSpool spool;
    private final TransactionAssembler assembler;

    private long lastStatus = System.nanoTime();
    private long durable;

    /**
     * @param spool where streamed transactions wait for their commit; emptied when the stream
     *              starts and when it ends (the server sends open transactions again after a reconnect)
     * @param label names the stream in log lines (the database)
     */
    public SlotStream(PGReplicationStream stream, TransactionSink sink, Duration statusInterval, long durable,
                      StreamSpool spool, String label) {
        this.stream = stream;
        this.sink = sink;
        this.statusInterval = statusInterval;
        this.durable = durable;
        this.spool = spool;
        this.assembler = new TransactionAssembler(sink, spool, label).onProgress(this::statusIfDue);
    }

    public void run(BooleanSupplier stop) throws SQLException, IOException {
        spool.reset();
        int emptyPolls = 0;
        try {
            while (!stop.getAsBoolean()) {
                ByteBuffer buffer = stream.readPending();
                if (buffer == null) {
                    if (assembler.idle()) {
                        // Nothing pending and no transaction open: everything the server sent is applied.
                        sink.caughtUp(stream.getLastReceiveLSN().asLong());
                        between();
                    }
                    emptyPolls = Math.min(emptyPolls + 1, POLLS_BEFORE_IDLE);
                    java.util.concurrent.locks.LockSupport.parkNanos(emptyPolls < POLLS_BEFORE_IDLE ? BUSY_PARK_NANOS : IDLE_PARK_NANOS);
                    continue;
                }
                emptyPolls = 0;
                long committed = assembler.accept(buffer);
                if (committed != 0) {
                    stream.setAppliedLSN(LogSequenceNumber.valueOf(committed));
                    between();
                }
            }
        } finally {
            try {
                spool.reset();
            } catch (IOException ignored) {
                // left for the next start, which empties the directory again
            }
        }
    }

    private void between() throws SQLException {
        long d = sink.between();
        if (d > durable) {
            durable = d;
            stream.setFlushedLSN(LogSequenceNumber.valueOf(d));
        }
        statusIfDue();
    }

    /** Sends a standby status update when one is due (also while a long streamed commit is applied). */
    private void statusIfDue() {
        long now = System.nanoTime();
        if (now - lastStatus >= statusInterval.toNanos()) {
            lastStatus = now;
            try {
                stream.forceUpdateStatus();
            } catch (SQLException e) {
                throw new IllegalStateException("standby status update failed: " + e.getMessage(), e);
            }
        }
    }
}
