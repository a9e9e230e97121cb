package io.neurondb.proxy.replication;

import org.postgresql.replication.LogSequenceNumber;
import org.postgresql.replication.PGReplicationStream;

import java.nio.ByteBuffer;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * Reads a pgoutput v1 stream, groups its messages into committed transactions and hands them
 * to a {@link TransactionSink} in commit order. The slot's flushed position is reported as what
 * the sink says is durable, never more; the applied/received position as what was applied.
 * Runs on the caller's thread until the stream fails or {@code stop} says so.
 */
public final class SlotStream {

    /** How long to wait for new data before doing idle work again. */
    private static final long IDLE_PARK_NANOS = 2_000_000L;

    private final PGReplicationStream stream;
    private final TransactionSink sink;
    private final Duration statusInterval;
    private final Map<Long, PgOutputMessage.Relation> relations = new HashMap<>();

    private PgOutputMessage.Begin begin;
    private List<ReplicatedTransaction.Change> changes = new ArrayList<>();
    private long lastStatus = System.nanoTime();
    private long durable;

    public SlotStream(PGReplicationStream stream, TransactionSink sink, Duration statusInterval, long durable) {
        this.stream = stream;
        this.sink = sink;
        this.statusInterval = statusInterval;
        this.durable = durable;
    }

    public void run(BooleanSupplier stop) throws SQLException {
        while (!stop.getAsBoolean()) {
            ByteBuffer buffer = stream.readPending();
            if (buffer == null) {
                if (begin == null) {
                    long received = stream.getLastReceiveLSN().asLong();
                    if (received != 0) {
                        sink.caughtUp(received);
                    }
                    between();
                }
                java.util.concurrent.locks.LockSupport.parkNanos(IDLE_PARK_NANOS);
                continue;
            }
            handle(PgOutputDecoder.decode(buffer, false));
        }
    }

    private void handle(PgOutputMessage message) throws SQLException {
        switch (message) {
            case PgOutputMessage.Begin b -> {
                begin = b;
                changes = new ArrayList<>();
            }
            case PgOutputMessage.Relation r -> relations.put(r.relationId(), r);
            case PgOutputMessage.Insert i -> changes.add(new ReplicatedTransaction.Upsert(relation(i.relationId()), false,
                    Optional.empty(), i.newTuple()));
            case PgOutputMessage.Update u -> changes.add(new ReplicatedTransaction.Upsert(relation(u.relationId()), true,
                    u.old(), u.newTuple()));
            case PgOutputMessage.Delete d -> changes.add(new ReplicatedTransaction.Removal(relation(d.relationId()), d.old()));
            case PgOutputMessage.Truncate t -> {
                List<PgOutputMessage.Relation> rels = new ArrayList<>();
                for (long id : t.relationIds()) {
                    rels.add(relation(id));
                }
                changes.add(new ReplicatedTransaction.Truncation(rels));
            }
            case PgOutputMessage.Commit c -> {
                PgOutputMessage.Begin b = begin;
                begin = null;
                List<ReplicatedTransaction.Change> done = changes;
                changes = new ArrayList<>();
                sink.apply(new ReplicatedTransaction(b == null ? 0 : b.xid(), c.commitLsn(), c.endLsn(), c.commitInstant(), done));
                stream.setAppliedLSN(LogSequenceNumber.valueOf(c.endLsn()));
                between();
            }
            default -> {
                // Origin, Type, Message: nothing to apply.
            }
        }
    }

    private void between() throws SQLException {
        long d = sink.between();
        if (d > durable) {
            durable = d;
            stream.setFlushedLSN(LogSequenceNumber.valueOf(d));
        }
        long now = System.nanoTime();
        if (now - lastStatus >= statusInterval.toNanos()) {
            lastStatus = now;
            stream.forceUpdateStatus();
        }
    }

    private PgOutputMessage.Relation relation(long id) {
        PgOutputMessage.Relation r = relations.get(id);
        if (r == null) {
            throw new IllegalStateException("change for relation " + id + " before its Relation message");
        }
        return r;
    }
}
