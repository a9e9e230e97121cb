package io.neurondb.proxy.replication;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Where the changes of large in-progress transactions wait for their commit (pgoutput protocol
 * 2, {@code streaming 'on'}): one file per streamed transaction under a directory of the data
 * directory, so memory holds only a write buffer per open transaction however large it grows.
 * Each record is the raw pgoutput message as received, with the xid of the (sub)transaction it
 * belongs to. A subtransaction abort only marks its xid; its records are skipped when the
 * transaction is read back at commit. A whole abort deletes the file.
 *
 * <p>Not thread-safe: used by the one thread that reads the replication stream.
 */
public final class StreamSpool {

    private static final String SUFFIX = ".spool";
    private static final int BUFFER = 64 * 1024;

    private final Path dir;
    private final Map<Long, Spooled> open = new HashMap<>();

    public StreamSpool(Path dir) {
        this.dir = dir;
    }

    public Path dir() {
        return dir;
    }

    /** Forgets every transaction and deletes every spool file (the server streams them again from their first segment). */
    public void reset() throws IOException {
        for (Spooled s : List.copyOf(open.values())) {
            s.discard();
        }
        open.clear();
        if (Files.isDirectory(dir)) {
            try (var files = Files.list(dir)) {
                for (Path f : files.filter(p -> p.getFileName().toString().endsWith(SUFFIX)).toList()) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }

    /** Transactions streamed but not yet committed or aborted. */
    public int openTransactions() {
        return open.size();
    }

    /**
     * The spool of streamed transaction {@code xid} for a new stream block. A first segment
     * starts it afresh (after a reconnect the server sends the transaction again from its
     * start); a later segment of a transaction never started is a protocol error.
     */
    Spooled segment(long xid, boolean firstSegment) throws IOException {
        Spooled s = open.get(xid);
        if (firstSegment || s == null) {
            if (!firstSegment) {
                throw new PgOutputException("pgoutput stream: a later segment of streamed transaction " + xid
                        + " arrived without its first segment at offset 0", 0);
            }
            if (s != null) {
                s.discard();
            }
            Files.createDirectories(dir);
            s = new Spooled(xid, dir.resolve(xid + SUFFIX));
            open.put(xid, s);
        }
        return s;
    }

    /** StreamAbort: the whole transaction ({@code subXid == xid}) or one of its subtransactions rolled back. */
    void abort(long xid, long subXid) throws IOException {
        Spooled s = open.get(xid);
        if (s == null) {
            return; // nothing of it was streamed to us
        }
        if (xid == subXid) {
            open.remove(xid);
            s.discard();
        } else {
            s.aborted.add(subXid);
        }
    }

    /** StreamCommit: the transaction's spool, closed for writing, to read back; null when nothing of it was streamed. */
    Spooled commit(long xid) throws IOException {
        Spooled s = open.remove(xid);
        if (s != null) {
            s.closeWriter();
        }
        return s;
    }

    /** One streamed transaction's records on disk. */
    static final class Spooled {
        final long xid;
        final Path file;
        final Set<Long> aborted = new HashSet<>();
        private DataOutputStream out;
        long records;
        long bytes;

        private Spooled(long xid, Path file) throws IOException {
            this.xid = xid;
            this.file = file;
            this.out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file), BUFFER));
        }

        /** Appends one message (position to limit of {@code message}, which is not moved) of (sub)transaction {@code changeXid}. */
        void append(long changeXid, ByteBuffer message) throws IOException {
            ByteBuffer m = message.duplicate();
            int n = m.remaining();
            out.writeInt((int) changeXid);
            out.writeInt(n);
            if (m.hasArray()) {
                out.write(m.array(), m.arrayOffset() + m.position(), n);
            } else {
                byte[] b = new byte[n];
                m.get(b);
                out.write(b);
            }
            records++;
            bytes += n + 8L;
        }

        /** The end of a stream block: what is buffered goes to the file, so memory stays bounded between blocks. */
        void flush() throws IOException {
            out.flush();
        }

        void closeWriter() throws IOException {
            if (out != null) {
                out.close();
                out = null;
            }
        }

        boolean abortedXid(long changeXid) {
            return aborted.contains(changeXid);
        }

        Reader read() throws IOException {
            closeWriter();
            return new Reader(new DataInputStream(new BufferedInputStream(Files.newInputStream(file), BUFFER)));
        }

        void discard() throws IOException {
            try {
                closeWriter();
            } finally {
                Files.deleteIfExists(file);
            }
        }
    }

    /** Reads records back in the order they were spooled. */
    static final class Reader implements AutoCloseable {
        private final DataInputStream in;
        private long xid;
        private byte[] message = new byte[0];

        private Reader(DataInputStream in) {
            this.in = in;
        }

        /** Moves to the next record; false at the end. */
        boolean next() throws IOException {
            int x;
            try {
                x = in.readInt();
            } catch (EOFException end) {
                return false;
            }
            int n = in.readInt();
            if (n < 0) {
                throw new IOException("corrupt spool record length " + n);
            }
            xid = Integer.toUnsignedLong(x);
            message = new byte[n];
            in.readFully(message);
            return true;
        }

        long xid() {
            return xid;
        }

        byte[] message() {
            return message;
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }
}
