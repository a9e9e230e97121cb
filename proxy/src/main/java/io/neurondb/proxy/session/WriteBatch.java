package io.neurondb.proxy.session;

import io.netty.buffer.ByteBuf;
import io.neurondb.proxy.protocol.Frame;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetSocket;

/**
 * Collects what one read produced so it goes out in one socket write. Frames that lie next to
 * each other in the buffer they were read from (the common case: a client's
 * Bind/Execute/Sync, a server's DataRows and CommandComplete) are sent as one slice of that
 * buffer, with no copy; anything else is copied into a batch buffer. A decoder's slice is
 * never appended to.
 */
final class WriteBatch {

    /** A run of adjacent frames: {@code [runStart, runEnd)} of {@code runSource}. */
    private Buffer runSource;
    private int runStart;
    private int runEnd;
    /** Bytes that could not be kept as a run, in order; null while everything is one run. */
    private Buffer copied;

    void add(Frame frame) {
        if (copied == null && runSource == frame.source() && runEnd == frame.start()) {
            runEnd = frame.end();
        } else if (copied == null && runSource == null) {
            runSource = frame.source();
            runStart = frame.start();
            runEnd = frame.end();
        } else {
            add(frame.bytes());
        }
    }

    /** Bytes the proxy wrote itself (a re-encoded message). */
    void add(Buffer bytes) {
        if (copied == null) {
            copied = Buffer.buffer(runEnd - runStart + bytes.length() + 64);
            if (runSource != null) {
                copied.appendBuffer(runSource, runStart, runEnd - runStart);
            }
            runSource = null;
        }
        copied.appendBuffer(bytes);
    }

    /** Bytes collected so far. */
    int length() {
        return copied != null ? copied.length() : runEnd - runStart;
    }

    boolean isEmpty() {
        return runSource == null && copied == null;
    }

    /**
     * Writes the collected bytes to {@code destination} and empties the batch. A run that lies
     * in the read being handled goes out as that read's memory (all of it, or a retained slice),
     * which Netty releases once written: no copy on the way through the proxy.
     */
    void writeTo(NetSocket destination, BorrowedRead read) {
        writeTo(destination, read, true);
    }

    /** Like {@link #writeTo(NetSocket, BorrowedRead)}; without {@code flush} the bytes wait for the socket's next flush. */
    void writeTo(NetSocket destination, BorrowedRead read, boolean flush) {
        if (copied == null && runSource != null && runSource == read.view()) {
            ByteBuf memory = read.memory();
            // The usual reply or request is the whole read: the read's own buffer goes out, with a
            // reference of its own. A slice would be one more object per write, and each
            // of Netty's looks at it (memory address, reference count) one more indirection.
            // Netty moves the buffer's reader index as it writes; nothing reads the read after
            // this (the decoder took every frame: the run covers it all).
            ByteBuf out = runStart == memory.readerIndex() && runEnd == memory.writerIndex()
                    ? memory.retain()
                    : memory.retainedSlice(runStart, runEnd - runStart);
            clear();
            send(destination, out, flush);
            return;
        }
        Buffer out = take();
        if (out != null) {
            send(destination, ((io.vertx.core.internal.buffer.BufferInternal) out).getByteBuf(), flush);
        }
    }

    private static void send(NetSocket destination, ByteBuf bytes, boolean flush) {
        if (flush) {
            ChannelWrites.send(destination, bytes);
        } else {
            ChannelWrites.queue(destination, bytes);
        }
    }

    /**
     * Makes the batch independent of {@code borrowed}, whose memory is about to be recycled:
     * a run in it is copied. Needed only when a batch could not be written during the read.
     */
    void stopBorrowing(Buffer borrowed) {
        if (copied == null && runSource != null && runSource == borrowed) {
            copied = Buffer.buffer(runEnd - runStart).appendBuffer(runSource, runStart, runEnd - runStart);
            runSource = null;
        }
    }

    private void clear() {
        runSource = null;
        copied = null;
        runStart = runEnd = 0;
    }

    /** The collected bytes, or null if none; the batch is empty afterwards. */
    Buffer take() {
        Buffer out = copied != null ? copied
                : runSource == null ? null
                // A run that is the whole buffer (a frame kept aside as its own copy) needs no slice.
                : runStart == 0 && runEnd == runSource.length() ? runSource
                : runSource.slice(runStart, runEnd);
        clear();
        return out;
    }
}
