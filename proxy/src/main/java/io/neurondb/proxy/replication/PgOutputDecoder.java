package io.neurondb.proxy.replication;

import io.neurondb.proxy.replication.PgOutputMessage.Begin;
import io.neurondb.proxy.replication.PgOutputMessage.Column;
import io.neurondb.proxy.replication.PgOutputMessage.Commit;
import io.neurondb.proxy.replication.PgOutputMessage.Delete;
import io.neurondb.proxy.replication.PgOutputMessage.Insert;
import io.neurondb.proxy.replication.PgOutputMessage.Message;
import io.neurondb.proxy.replication.PgOutputMessage.Origin;
import io.neurondb.proxy.replication.PgOutputMessage.Relation;
import io.neurondb.proxy.replication.PgOutputMessage.StreamAbort;
import io.neurondb.proxy.replication.PgOutputMessage.StreamCommit;
import io.neurondb.proxy.replication.PgOutputMessage.StreamStart;
import io.neurondb.proxy.replication.PgOutputMessage.StreamStop;
import io.neurondb.proxy.replication.PgOutputMessage.Truncate;
import io.neurondb.proxy.replication.PgOutputMessage.Type;
import io.neurondb.proxy.replication.PgOutputMessage.Update;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Decodes one pgoutput message (protocol v1 or v2) — the payload of one XLogData frame — into
 * a {@link PgOutputMessage}.
 *
 * <p>Decoding is bounded: every count and length is checked against the bytes that remain,
 * and an unknown type, a truncated message, a bad tuple kind or trailing bytes raise a
 * {@link PgOutputException} naming the type byte and offset. No other exception escapes.
 *
 * <p>In protocol v2 the change messages (Relation, Type, Insert, Update, Delete, Truncate,
 * Message) start with an extra xid when they are inside a StreamStart…StreamStop block. The
 * static {@link #decode(ByteBuffer, boolean)} is told so; an instance tracks it itself from the
 * StreamStart/StreamStop messages it has decoded ({@link #next}).
 */
public final class PgOutputDecoder {

    private static final int MAX_COLUMNS = 1664; // MaxTupleAttributeNumber

    private boolean inStream;

    /** Decodes a whole array as one message, outside a stream block. */
    public static PgOutputMessage decode(byte[] message) {
        return decode(ByteBuffer.wrap(message), false);
    }

    /** Decodes a whole array as one message; {@code inStream}: inside StreamStart…StreamStop. */
    public static PgOutputMessage decode(byte[] message, boolean inStream) {
        return decode(ByteBuffer.wrap(message), inStream);
    }

    /**
     * Decodes the bytes from {@code message}'s position to its limit as one message. The
     * buffer's position is not changed.
     *
     * @param inStream whether the message is inside a StreamStart…StreamStop block (protocol v2
     *                 streaming), so that change messages carry an xid
     */
    public static PgOutputMessage decode(ByteBuffer message, boolean inStream) {
        if (!message.hasRemaining()) {
            throw new PgOutputException("pgoutput message: empty message at offset 0", 0);
        }
        byte type = message.get(message.position());
        WireReader r = new WireReader(message, "pgoutput message " + PgOutputException.describe(type));
        r.byte1("type");
        PgOutputMessage m = switch (type) {
            case 'B' -> new Begin(r.int64("final LSN"), r.int64("commit timestamp"), r.uint32("xid"));
            case 'C' -> new Commit(r.int8("flags"), r.int64("commit LSN"), r.int64("end LSN"),
                    r.int64("commit timestamp"));
            case 'O' -> new Origin(r.int64("origin LSN"), r.cstring("origin name"));
            case 'R' -> relation(r, xid(r, inStream));
            case 'Y' -> new Type(xid(r, inStream), r.uint32("type OID"), r.cstring("namespace"), r.cstring("type name"));
            case 'I' -> insert(r, xid(r, inStream));
            case 'U' -> update(r, xid(r, inStream));
            case 'D' -> delete(r, xid(r, inStream));
            case 'T' -> truncate(r, xid(r, inStream));
            case 'M' -> message(r, xid(r, inStream));
            case 'S' -> streamStart(r);
            case 'E' -> new StreamStop();
            case 'c' -> new StreamCommit(r.uint32("xid"), r.int8("flags"), r.int64("commit LSN"), r.int64("end LSN"),
                    r.int64("commit timestamp"));
            case 'A' -> streamAbort(r);
            default -> throw new PgOutputException("pgoutput message: unknown message type "
                    + PgOutputException.describe(type) + " at offset 0"
                    + (type == 'b' || type == 'P' || type == 'K' || type == 'r' || type == 'p'
                    ? " (two-phase messages of protocol v3 are not supported)" : ""), 0);
        };
        r.expectEnd();
        return m;
    }

    /** A decoder that tracks whether it is inside a stream block. */
    public PgOutputDecoder() {
    }

    /** Whether the last decoded message left this decoder inside a StreamStart…StreamStop block. */
    public boolean inStream() {
        return inStream;
    }

    public PgOutputMessage next(byte[] message) {
        return next(ByteBuffer.wrap(message));
    }

    /**
     * Decodes the next message of a replication stream, reading a streamed xid when inside a
     * stream block and updating that state on StreamStart/StreamStop. A StreamStart inside a
     * block, or a StreamStop, StreamCommit or StreamAbort outside/inside where the protocol does
     * not allow it, is a {@link PgOutputException}.
     */
    public PgOutputMessage next(ByteBuffer message) {
        PgOutputMessage m = decode(message, inStream);
        switch (m) {
            case StreamStart s when inStream ->
                    throw new PgOutputException("pgoutput stream: StreamStart for xid " + s.xid()
                            + " inside an open stream block at offset 0", 0);
            case StreamStart s -> inStream = true;
            case StreamStop s when !inStream ->
                    throw new PgOutputException("pgoutput stream: StreamStop outside a stream block at offset 0", 0);
            case StreamStop s -> inStream = false;
            case StreamCommit c when inStream ->
                    throw new PgOutputException("pgoutput stream: StreamCommit inside a stream block at offset 0", 0);
            case StreamAbort a when inStream ->
                    throw new PgOutputException("pgoutput stream: StreamAbort inside a stream block at offset 0", 0);
            default -> {
            }
        }
        return m;
    }

    private static long xid(WireReader r, boolean inStream) {
        return inStream ? r.uint32("streamed xid") : PgOutputMessage.NO_XID;
    }

    private static Relation relation(WireReader r, long xid) {
        long relId = r.uint32("relation OID");
        String namespace = r.cstring("namespace");
        String name = r.cstring("relation name");
        char replIdent = (char) r.int8("replica identity");
        int n = count(r, r.int16("column count"), "column count");
        List<Column> cols = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int flags = r.int8("column " + i + " flags");
            String colName = r.cstring("column " + i + " name");
            long typeOid = r.uint32("column " + i + " type OID");
            int typmod = r.int32("column " + i + " typmod");
            cols.add(new Column(flags, colName, typeOid, typmod));
        }
        return new Relation(xid, relId, namespace, name, replIdent, cols);
    }

    private static Insert insert(WireReader r, long xid) {
        long relId = r.uint32("relation OID");
        byte marker = r.byte1("new tuple marker");
        if (marker != 'N') {
            throw r.error("expected new tuple marker 'N', got " + PgOutputException.describe(marker));
        }
        return new Insert(xid, relId, tuple(r));
    }

    private static Update update(WireReader r, long xid) {
        long relId = r.uint32("relation OID");
        byte marker = r.byte1("tuple marker");
        Optional<TupleData> oldKey = Optional.empty();
        Optional<TupleData> oldTuple = Optional.empty();
        if (marker == 'K' || marker == 'O') {
            TupleData old = tuple(r);
            if (marker == 'K') {
                oldKey = Optional.of(old);
            } else {
                oldTuple = Optional.of(old);
            }
            marker = r.byte1("new tuple marker");
        }
        if (marker != 'N') {
            throw r.error("expected tuple marker 'K', 'O' or 'N', got " + PgOutputException.describe(marker));
        }
        return new Update(xid, relId, oldKey, oldTuple, tuple(r));
    }

    private static Delete delete(WireReader r, long xid) {
        long relId = r.uint32("relation OID");
        byte marker = r.byte1("old tuple marker");
        if (marker == 'K') {
            return new Delete(xid, relId, Optional.of(tuple(r)), Optional.empty());
        }
        if (marker == 'O') {
            return new Delete(xid, relId, Optional.empty(), Optional.of(tuple(r)));
        }
        throw r.error("expected old tuple marker 'K' or 'O', got " + PgOutputException.describe(marker));
    }

    private static Truncate truncate(WireReader r, long xid) {
        int n = r.int32("relation count");
        if (n < 0 || (long) n * 4 > r.remaining() - 1L) {
            throw r.error("relation count " + n + " does not fit in the " + r.remaining() + " byte(s) left");
        }
        int options = r.int8("options");
        List<Long> ids = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            ids.add(r.uint32("relation OID " + i));
        }
        return new Truncate(xid, options, ids);
    }

    private static Message message(WireReader r, long xid) {
        int flags = r.int8("flags");
        long lsn = r.int64("message LSN");
        String prefix = r.cstring("prefix");
        int len = r.int32("content length");
        return new Message(xid, flags, lsn, prefix, r.bytes(len, "content"));
    }

    private static StreamStart streamStart(WireReader r) {
        long xid = r.uint32("xid");
        int first = r.int8("first segment");
        return new StreamStart(xid, first == 1);
    }

    private static StreamAbort streamAbort(WireReader r) {
        long xid = r.uint32("xid");
        long subXid = r.uint32("subtransaction xid");
        if (r.remaining() == 0) {
            return new StreamAbort(xid, subXid);
        }
        // Protocol v4 parallel streaming adds the abort LSN and timestamp.
        return new StreamAbort(xid, subXid, r.int64("abort LSN"), r.int64("abort timestamp"));
    }

    /** A TupleData: Int16 column count, then per column a kind byte and, for 't'/'b', Int32 length + bytes. */
    static TupleData tuple(WireReader r) {
        int n = count(r, r.int16("tuple column count"), "tuple column count");
        List<TupleData.Value> values = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            byte kind = r.byte1("column " + i + " kind");
            values.add(switch (kind) {
                case 'n' -> TupleData.Null.INSTANCE;
                case 'u' -> TupleData.UnchangedToast.INSTANCE;
                case 't' -> new TupleData.Text(r.bytes(r.int32("column " + i + " length"), "column " + i + " value"));
                case 'b' -> new TupleData.Binary(r.bytes(r.int32("column " + i + " length"), "column " + i + " value"));
                default -> throw r.error("unknown tuple column kind " + PgOutputException.describe(kind)
                        + " for column " + i);
            });
        }
        return new TupleData(values);
    }

    /** Validates a column count: non-negative, at most MaxTupleAttributeNumber, and each column needs ≥ 1 byte. */
    private static int count(WireReader r, int n, String field) {
        if (n < 0 || n > MAX_COLUMNS) {
            throw r.error(field + " " + n + " out of range 0.." + MAX_COLUMNS);
        }
        if (n > r.remaining()) {
            throw r.error("truncated: " + field + " " + n + " but only " + r.remaining() + " byte(s) left");
        }
        return n;
    }
}
