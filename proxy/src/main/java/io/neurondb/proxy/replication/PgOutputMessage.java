package io.neurondb.proxy.replication;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * One message of PostgreSQL's {@code pgoutput} logical replication plugin, protocol versions 1
 * and 2 (PostgreSQL docs, "Logical Replication Message Formats"). Decode with
 * {@link PgOutputDecoder}.
 *
 * <p>Conventions: LSNs are {@code long} ({@link Lsn}); timestamps are PostgreSQL microseconds
 * since 2000-01-01 UTC ({@link PgTime#toInstant}); transaction ids and OIDs are unsigned 32-bit
 * values widened to {@code long}. In protocol v2, messages sent inside a
 * {@link StreamStart}…{@link StreamStop} block carry the xid of the streamed (in-progress)
 * transaction; outside a stream block their {@code xid} is {@link #NO_XID} (0,
 * {@code InvalidTransactionId}).
 */
public sealed interface PgOutputMessage {

    /** {@code InvalidTransactionId}: the message was not part of a streamed transaction. */
    long NO_XID = 0L;

    /** The message type byte, e.g. {@code 'B'}. */
    char type();

    /** Messages that may carry the xid of a streamed transaction (protocol v2). */
    sealed interface Streamable extends PgOutputMessage {
        /** The streamed transaction's xid, or {@link #NO_XID} outside a stream block. */
        long xid();

        default boolean streamed() {
            return xid() != NO_XID;
        }
    }

    /** 'B': a (non-streamed) transaction begins; its changes follow, then {@link Commit}. */
    record Begin(long finalLsn, long commitTime, long xid) implements PgOutputMessage {
        @Override
        public char type() {
            return 'B';
        }

        public Instant commitInstant() {
            return PgTime.toInstant(commitTime);
        }
    }

    /** 'C': the transaction begun by the last {@link Begin} committed. {@code flags} is currently 0. */
    record Commit(int flags, long commitLsn, long endLsn, long commitTime) implements PgOutputMessage {
        @Override
        public char type() {
            return 'C';
        }

        public Instant commitInstant() {
            return PgTime.toInstant(commitTime);
        }
    }

    /** 'O': the transaction originated on another node ({@code originLsn} is its commit LSN there). */
    record Origin(long originLsn, String name) implements PgOutputMessage {
        @Override
        public char type() {
            return 'O';
        }
    }

    /**
     * 'R': the description of a relation, sent before the first change to it (and again after
     * it changes). {@code namespace} is empty for {@code pg_catalog}; {@code replicaIdentity} is
     * {@code relreplident}: 'd' default, 'n' nothing, 'f' full, 'i' index.
     */
    record Relation(long xid, long relationId, String namespace, String name, char replicaIdentity,
                    List<Column> columns) implements Streamable {
        public Relation {
            columns = List.copyOf(columns);
        }

        @Override
        public char type() {
            return 'R';
        }

        /** Index of the column with this name, or -1. */
        public int columnIndex(String columnName) {
            for (int i = 0; i < columns.size(); i++) {
                if (columns.get(i).name().equals(columnName)) {
                    return i;
                }
            }
            return -1;
        }
    }

    /** A column of a {@link Relation}; flag bit 1 marks a replica identity (key) column. */
    record Column(int flags, String name, long typeOid, int typmod) {
        public static final int FLAG_KEY = 1;

        public boolean isKey() {
            return (flags & FLAG_KEY) != 0;
        }
    }

    /** 'Y': the name of a non-built-in data type, sent before a {@link Relation} that uses it. */
    record Type(long xid, long typeOid, String namespace, String name) implements Streamable {
        @Override
        public char type() {
            return 'Y';
        }
    }

    /** 'I': a new row. */
    record Insert(long xid, long relationId, TupleData newTuple) implements Streamable {
        @Override
        public char type() {
            return 'I';
        }
    }

    /**
     * 'U': an updated row. At most one of {@code oldKey} ('K': the old replica identity columns,
     * sent when the key changed; other columns are NULL there) and {@code oldTuple} ('O': the
     * whole old row, with REPLICA IDENTITY FULL) is present. Columns of {@code newTuple} may be
     * {@link TupleData.UnchangedToast}: keep the old value.
     */
    record Update(long xid, long relationId, Optional<TupleData> oldKey, Optional<TupleData> oldTuple,
                  TupleData newTuple) implements Streamable {
        public Update {
            if (oldKey.isPresent() && oldTuple.isPresent()) {
                throw new IllegalArgumentException("an update has an old key or an old tuple, not both");
            }
        }

        @Override
        public char type() {
            return 'U';
        }

        /** The old key or old tuple, whichever was sent. */
        public Optional<TupleData> old() {
            return oldKey.isPresent() ? oldKey : oldTuple;
        }
    }

    /**
     * 'D': a deleted row, identified by exactly one of {@code oldKey} ('K') or {@code oldTuple}
     * ('O', REPLICA IDENTITY FULL).
     */
    record Delete(long xid, long relationId, Optional<TupleData> oldKey, Optional<TupleData> oldTuple)
            implements Streamable {
        public Delete {
            if (oldKey.isPresent() == oldTuple.isPresent()) {
                throw new IllegalArgumentException("a delete has exactly one of old key and old tuple");
            }
        }

        @Override
        public char type() {
            return 'D';
        }

        public TupleData old() {
            return oldKey.orElseGet(oldTuple::orElseThrow);
        }
    }

    /** 'T': TRUNCATE of one or more relations; {@code options} bit 1 CASCADE, bit 2 RESTART IDENTITY. */
    record Truncate(long xid, int options, List<Long> relationIds) implements Streamable {
        public static final int OPTION_CASCADE = 1;
        public static final int OPTION_RESTART_IDENTITY = 2;

        public Truncate {
            relationIds = List.copyOf(relationIds);
        }

        @Override
        public char type() {
            return 'T';
        }

        public boolean cascade() {
            return (options & OPTION_CASCADE) != 0;
        }

        public boolean restartIdentity() {
            return (options & OPTION_RESTART_IDENTITY) != 0;
        }
    }

    /**
     * 'M': a logical decoding message ({@code pg_logical_emit_message}; only sent with the
     * {@code messages 'true'} option). {@code flags} bit 1: transactional. {@code content} is not
     * copied: do not modify it.
     */
    record Message(long xid, int flags, long lsn, String prefix, byte[] content) implements Streamable {
        public static final int FLAG_TRANSACTIONAL = 1;

        @Override
        public char type() {
            return 'M';
        }

        public boolean transactional() {
            return (flags & FLAG_TRANSACTIONAL) != 0;
        }

        public String contentAsString() {
            return new String(content, StandardCharsets.UTF_8);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Message m && xid == m.xid && flags == m.flags && lsn == m.lsn
                    && prefix.equals(m.prefix) && Arrays.equals(content, m.content);
        }

        @Override
        public int hashCode() {
            return (Long.hashCode(lsn) * 31 + prefix.hashCode()) * 31 + Arrays.hashCode(content);
        }

        @Override
        public String toString() {
            return "Message[xid=" + xid + ", flags=" + flags + ", lsn=" + Lsn.format(lsn) + ", prefix=" + prefix
                    + ", content=" + content.length + " bytes]";
        }
    }

    /** 'S' (v2): a block of changes of the in-progress transaction {@code xid} follows, until {@link StreamStop}. */
    record StreamStart(long xid, boolean firstSegment) implements PgOutputMessage {
        @Override
        public char type() {
            return 'S';
        }
    }

    /** 'E' (v2): the current stream block ends. */
    record StreamStop() implements PgOutputMessage {
        @Override
        public char type() {
            return 'E';
        }
    }

    /** 'c' (v2): the streamed transaction {@code xid} committed; apply its changes now. */
    record StreamCommit(long xid, int flags, long commitLsn, long endLsn, long commitTime) implements PgOutputMessage {
        @Override
        public char type() {
            return 'c';
        }

        public Instant commitInstant() {
            return PgTime.toInstant(commitTime);
        }
    }

    /**
     * 'A' (v2): the streamed transaction {@code xid} (when {@code subXid == xid}) or its
     * subtransaction {@code subXid} aborted; discard its changes. {@code abortLsn} and
     * {@code abortTime} are only sent by protocol v4 with parallel streaming; otherwise 0.
     */
    record StreamAbort(long xid, long subXid, long abortLsn, long abortTime) implements PgOutputMessage {
        public StreamAbort(long xid, long subXid) {
            this(xid, subXid, Lsn.INVALID, 0L);
        }

        @Override
        public char type() {
            return 'A';
        }

        /** True when the whole transaction aborted (not only a subtransaction). */
        public boolean wholeTransaction() {
            return xid == subXid;
        }
    }
}
