package io.neurondb.proxy.replication;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Turns pgoutput messages (protocol 1, or 2 with streaming) into committed transactions for a
 * {@link TransactionSink}, in commit order.
 *
 * <p>An ordinary transaction (Begin … Commit) is collected in memory and handed over whole. A
 * streamed transaction arrives in blocks (StreamStart … StreamStop) while it is still running,
 * possibly interleaved with other transactions: its messages go to a {@link StreamSpool} file
 * as they come, untouched, and only at StreamCommit are they read back, decoded and applied —
 * in parts of {@link #PART_SIZE} changes, so memory holds one part, never the transaction.
 * StreamAbort drops the transaction, or skips the changes of the aborted subtransaction. The
 * relation descriptions a streamed transaction carries take effect at its commit, not before:
 * another transaction decoded meanwhile keeps seeing the ones that were current for it.
 */
public final class TransactionAssembler {

    private static final Logger log = LoggerFactory.getLogger(TransactionAssembler.class);

    /** Changes of a streamed transaction handed to the sink at a time. */
    static final int PART_SIZE = 1024;

    private final TransactionSink sink;
    private final StreamSpool spool;
    private final String label;
    private final PgOutputDecoder decoder = new PgOutputDecoder();
    private final Map<Long, PgOutputMessage.Relation> relations = new HashMap<>();
    private Runnable progress = () -> {
    };

    private PgOutputMessage.Begin begin;
    private List<ReplicatedTransaction.Change> changes = new ArrayList<>();
    private StreamSpool.Spooled block;

    /** @param label names the stream in log lines (the database) */
    public TransactionAssembler(TransactionSink sink, StreamSpool spool, String label) {
        this.sink = sink;
        this.spool = spool;
        this.label = label;
    }

    /** Called after each part of a long streamed commit is applied (the stream sends status updates there). */
    public TransactionAssembler onProgress(Runnable progress) {
        this.progress = progress;
        return this;
    }

    /** Neither an ordinary transaction nor a stream block is open: everything received so far is applied or spooled. */
    public boolean idle() {
        return begin == null && block == null;
    }

    /**
     * Takes one message (the payload of one XLogData frame, from its position to its limit; the
     * buffer is not moved). Returns the end LSN of the transaction this message committed and
     * applied, or 0.
     */
    public long accept(ByteBuffer message) throws IOException {
        PgOutputMessage m = decoder.next(message);
        switch (m) {
            case PgOutputMessage.StreamStart s -> {
                block = spool.segment(s.xid(), s.firstSegment());
                return 0;
            }
            case PgOutputMessage.StreamStop s -> {
                block.flush();
                block = null;
                return 0;
            }
            case PgOutputMessage.StreamAbort a -> {
                spool.abort(a.xid(), a.subXid());
                log.debug("event=streamed_transaction_aborted db={} xid={} subxid={}", label, a.xid(), a.subXid());
                return 0;
            }
            case PgOutputMessage.StreamCommit c -> {
                return commitStreamed(c);
            }
            default -> {
            }
        }
        if (m instanceof PgOutputMessage.Origin) {
            return 0; // where a transaction came from (sent after Begin or StreamStart): nothing to apply
        }
        if (block != null) {
            if (!(m instanceof PgOutputMessage.Streamable s)) {
                throw new PgOutputException("pgoutput stream: message " + PgOutputException.describe((byte) m.type())
                        + " inside a stream block at offset 0", 0);
            }
            block.append(s.xid(), message);
            return 0;
        }
        switch (m) {
            case PgOutputMessage.Begin b -> {
                begin = b;
                changes = new ArrayList<>();
            }
            case PgOutputMessage.Relation r -> relations.put(r.relationId(), r);
            case PgOutputMessage.Commit c -> {
                PgOutputMessage.Begin b = begin;
                begin = null;
                List<ReplicatedTransaction.Change> done = changes;
                changes = new ArrayList<>();
                sink.apply(new ReplicatedTransaction(b == null ? 0 : b.xid(), c.commitLsn(), c.endLsn(), c.commitInstant(), done));
                return c.endLsn();
            }
            default -> {
                ReplicatedTransaction.Change change = change(m, relations);
                if (change != null) {
                    changes.add(change);
                }
            }
        }
        return 0;
    }

    /** Reads a committed streamed transaction back from its spool and applies it part by part. */
    private long commitStreamed(PgOutputMessage.StreamCommit c) throws IOException {
        StreamSpool.Spooled spooled = spool.commit(c.xid());
        if (spooled == null) {
            // The commit of a transaction none of whose blocks reached us: applying it empty would
            // silently lose its changes, so the stream starts over from the durable position.
            throw new IllegalStateException("stream commit of transaction " + c.xid() + " whose changes were not received");
        }
        long start = System.nanoTime();
        Map<Long, PgOutputMessage.Relation> rels = new HashMap<>(relations);
        List<ReplicatedTransaction.Change> part = new ArrayList<>();
        long applied = 0;
        long skipped = 0;
        try (StreamSpool.Reader r = spooled.read()) {
            while (r.next()) {
                byte[] bytes = r.message();
                boolean metadata = bytes.length > 0 && (bytes[0] == 'R' || bytes[0] == 'Y');
                if (!metadata && spooled.abortedXid(r.xid())) {
                    skipped++;
                    continue; // a change of a rolled-back subtransaction
                }
                PgOutputMessage m = PgOutputDecoder.decode(bytes, true);
                if (m instanceof PgOutputMessage.Relation rel) {
                    rels.put(rel.relationId(), rel);
                    continue;
                }
                ReplicatedTransaction.Change change = change(m, rels);
                if (change == null) {
                    continue;
                }
                part.add(change);
                if (part.size() >= PART_SIZE) {
                    sink.applyPart(new ReplicatedTransaction(c.xid(), c.commitLsn(), c.endLsn(), c.commitInstant(), part));
                    applied += part.size();
                    part = new ArrayList<>();
                    progress.run();
                }
            }
        } finally {
            spooled.discard();
        }
        applied += part.size();
        sink.apply(new ReplicatedTransaction(c.xid(), c.commitLsn(), c.endLsn(), c.commitInstant(), part));
        relations.putAll(rels);
        log.info("event=streamed_transaction_applied db={} xid={} changes={} skipped_subtransaction_changes={} spooled_bytes={} seconds={}",
                label, c.xid(), applied, skipped, spooled.bytes, String.format("%.3f", (System.nanoTime() - start) / 1e9));
        return c.endLsn();
    }

    /** The row change a message describes, null for messages without one (Type, Message, Origin). */
    private static ReplicatedTransaction.Change change(PgOutputMessage m, Map<Long, PgOutputMessage.Relation> rels) {
        return switch (m) {
            case PgOutputMessage.Insert i -> new ReplicatedTransaction.Upsert(relation(rels, i.relationId()), false,
                    Optional.empty(), i.newTuple());
            case PgOutputMessage.Update u -> new ReplicatedTransaction.Upsert(relation(rels, u.relationId()), true,
                    u.old(), u.newTuple());
            case PgOutputMessage.Delete d -> new ReplicatedTransaction.Removal(relation(rels, d.relationId()), d.old());
            case PgOutputMessage.Truncate t -> {
                List<PgOutputMessage.Relation> list = new ArrayList<>();
                for (long id : t.relationIds()) {
                    list.add(relation(rels, id));
                }
                yield new ReplicatedTransaction.Truncation(list);
            }
            default -> null;
        };
    }

    private static PgOutputMessage.Relation relation(Map<Long, PgOutputMessage.Relation> rels, long id) {
        PgOutputMessage.Relation r = rels.get(id);
        if (r == null) {
            throw new IllegalStateException("change for relation " + id + " before its Relation message");
        }
        return r;
    }
}
