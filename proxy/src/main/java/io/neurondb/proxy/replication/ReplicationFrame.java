package io.neurondb.proxy.replication;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * The envelope of the streaming replication COPY stream (PostgreSQL docs, "Streaming
 * Replication Protocol"): the payload of each CopyData message from the server is an
 * {@link XLogData} ('w') or a {@link PrimaryKeepalive} ('k'); the client answers with
 * {@link StandbyStatusUpdate} ('r'). Only needed when speaking the protocol directly (pgjdbc's
 * replication API hides it).
 */
public sealed interface ReplicationFrame {

    /** 'w': WAL data; for logical replication {@code data} is one pgoutput message. {@code data} is not copied. */
    record XLogData(long walStart, long walEnd, long sendTime, byte[] data) implements ReplicationFrame {
        @Override
        public boolean equals(Object o) {
            return o instanceof XLogData x && walStart == x.walStart && walEnd == x.walEnd
                    && sendTime == x.sendTime && Arrays.equals(data, x.data);
        }

        @Override
        public int hashCode() {
            return Long.hashCode(walStart) * 31 + Arrays.hashCode(data);
        }

        @Override
        public String toString() {
            return "XLogData[walStart=" + Lsn.format(walStart) + ", walEnd=" + Lsn.format(walEnd) + ", sendTime="
                    + sendTime + ", data=" + HexFormat.of().formatHex(data, 0, Math.min(data.length, 32))
                    + (data.length > 32 ? "…(" + data.length + " bytes)" : "") + "]";
        }

        /** The payload decoded as one pgoutput message (see {@link PgOutputDecoder}). */
        public PgOutputMessage decode(boolean inStream) {
            return PgOutputDecoder.decode(data, inStream);
        }
    }

    /** 'k': keepalive; when {@code replyRequested} the client must send a status update promptly. */
    record PrimaryKeepalive(long walEnd, long sendTime, boolean replyRequested) implements ReplicationFrame {
    }

    /**
     * 'r': the client's progress: WAL {@code written}, {@code flushed} (durable — the slot's
     * confirmed position follows this) and {@code applied}, the client's {@code clock} in
     * PostgreSQL microseconds, and whether it asks the server to reply at once.
     */
    record StandbyStatusUpdate(long written, long flushed, long applied, long clock, boolean replyRequested)
            implements ReplicationFrame {
        public static final int SIZE = 1 + 8 + 8 + 8 + 8 + 1;

        /** The CopyData payload (34 bytes). */
        public byte[] encode() {
            ByteBuffer b = ByteBuffer.allocate(SIZE);
            b.put((byte) 'r').putLong(written).putLong(flushed).putLong(applied).putLong(clock)
                    .put((byte) (replyRequested ? 1 : 0));
            return b.array();
        }
    }

    /** Decodes one CopyData payload sent by the server ('w' or 'k'); the buffer's position is not changed. */
    static ReplicationFrame decode(ByteBuffer payload) {
        if (!payload.hasRemaining()) {
            throw new PgOutputException("replication frame: empty frame at offset 0", 0);
        }
        byte type = payload.get(payload.position());
        WireReader r = new WireReader(payload, "replication frame " + PgOutputException.describe(type));
        r.byte1("type");
        ReplicationFrame f = switch (type) {
            case 'w' -> new XLogData(r.int64("WAL start"), r.int64("WAL end"), r.int64("send time"), r.rest());
            case 'k' -> new PrimaryKeepalive(r.int64("WAL end"), r.int64("send time"), r.int8("reply requested") != 0);
            case 'r' -> new StandbyStatusUpdate(r.int64("written LSN"), r.int64("flushed LSN"), r.int64("applied LSN"),
                    r.int64("clock"), r.int8("reply requested") != 0);
            default -> throw new PgOutputException("replication frame: unknown frame type "
                    + PgOutputException.describe(type) + " at offset 0", 0);
        };
        r.expectEnd();
        return f;
    }

    static ReplicationFrame decode(byte[] payload) {
        return decode(ByteBuffer.wrap(payload));
    }

    /** Encodes a standby status update ('r') payload. */
    static byte[] standbyStatusUpdate(long written, long flushed, long applied, long clock, boolean replyRequested) {
        return new StandbyStatusUpdate(written, flushed, applied, clock, replyRequested).encode();
    }
}
