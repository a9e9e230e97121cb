package io.neurondb.proxy.protocol;

import io.vertx.core.buffer.Buffer;

import java.util.function.Consumer;

/**
 * Splits a byte stream into {@link Frame}s. It waits for a whole header, checks the length
 * against {@link FrameLimits} before buffering a body, and hands out each message as a
 * bounded slice, so one bad message cannot desynchronise the stream or exhaust memory.
 *
 * <p>A connection starts in {@link Expect#STARTUP} (untyped packets: Int32 length, body).
 * The owner switches to {@link Expect#TYPED} once the startup packet is handled; the switch
 * takes effect for the very next frame, even inside the same chunk. Pure: no I/O.
 */
public final class FrameDecoder {

    public enum Expect { STARTUP, TYPED }

    private final FrameLimits limits;
    private Expect expect;
    private Buffer pending = null;
    /** Bytes of {@link #pending} already handed out as frames. */
    private int consumed;
    private boolean paused;
    /** The frame just handed out is to be handed out again after the pause. */
    private boolean pushedBack;

    public FrameDecoder(FrameLimits limits, Expect initial) {
        this.limits = limits;
        this.expect = initial;
    }

    public void expect(Expect next) {
        this.expect = next;
    }

    /**
     * Stops handing out frames after the current one; bytes stay buffered until
     * {@link #resume}. Used while the owner waits for something asynchronous.
     */
    public void pause() {
        paused = true;
    }

    /**
     * Called from the sink: the frame being handled is not taken yet; it is handed out again
     * on {@link #resume}. Pauses the decoder.
     */
    public void pushBack() {
        pushedBack = true;
        paused = true;
    }

    public boolean isPaused() {
        return paused;
    }

    /** Whether bytes beyond the frames handed out so far have arrived. */
    public boolean hasBufferedBytes() {
        return pending != null && pending.length() > consumed;
    }

    /**
     * Appends {@code chunk} and hands every complete frame to {@code sink} in order, until
     * the bytes run out or the decoder is paused. The chunk is only borrowed: frames handed
     * out are views on it, valid during the call, and whatever the decoder keeps for later is
     * copied before it returns, so the caller may recycle the chunk's memory afterwards.
     *
     * @throws ProtocolException on a length or type the protocol does not allow; the decoder
     *                           is unusable afterwards
     */
    public void feed(Buffer chunk, Consumer<Frame> sink) {
        if (pending == null) {
            pending = chunk;
            consumed = 0;
        } else {
            Buffer joined = Buffer.buffer(pending.length() + chunk.length());
            joined.appendBuffer(pending, consumed, pending.length() - consumed).appendBuffer(chunk);
            pending = joined;
            consumed = 0;
        }
        drain(sink);
        if (pending == chunk) {
            pending = Buffer.buffer(chunk.length() - consumed).appendBuffer(chunk, consumed, chunk.length() - consumed);
            consumed = 0;
        }
    }

    /**
     * Takes the bytes buffered beyond the frames handed out (a copy, or null when there are
     * none) and forgets them: the rest of the stream is someone else's from here. Used when a
     * pooled server connection passes to the next holder in the middle of a read.
     */
    public Buffer takeBuffered() {
        if (!hasBufferedBytes()) {
            pending = null;
            consumed = 0;
            return null;
        }
        Buffer rest = Buffer.buffer(pending.length() - consumed).appendBuffer(pending, consumed, pending.length() - consumed);
        pending = null;
        consumed = 0;
        return rest;
    }

    /** Clears the pause and hands out frames already buffered. */
    public void resume(Consumer<Frame> sink) {
        paused = false;
        if (pending != null) {
            drain(sink);
        }
    }

    private void drain(Consumer<Frame> sink) {
        Buffer buf = pending;
        int pos = consumed;
        int end = buf.length();
        while (!paused) {
            int frameLength = expect == Expect.TYPED ? typedFrameLength(buf, pos, end) : startupFrameLength(buf, pos, end);
            if (frameLength < 0 || end - pos < frameLength) {
                break;
            }
            byte type = expect == Expect.TYPED ? buf.getByte(pos) : Frame.UNTYPED;
            Frame frame = new Frame(type, buf, pos, pos + frameLength);
            pos += frameLength;
            consumed = pos;
            sink.accept(frame);
            if (pushedBack) {
                pushedBack = false;
                pos -= frameLength;
                consumed = pos;
            }
        }
        if (pos == end) {
            pending = null;
            consumed = 0;
        } else if (pos > 0) {
            // Copy the tail so the next chunk is joined to a small buffer, not to everything
            // already handed out.
            pending = Buffer.buffer(end - pos).appendBuffer(buf, pos, end - pos);
            consumed = 0;
        }
    }

    /** Total length of the typed frame at {@code pos}, or -1 if its header is incomplete. */
    private int typedFrameLength(Buffer buf, int pos, int end) {
        if (end - pos < PgProtocol.TYPED_HEADER_LENGTH) {
            return -1;
        }
        byte type = buf.getByte(pos);
        if (limits.checkFrontendTypes() && !PgProtocol.isFrontendType(type)) {
            throw ProtocolException.violation("invalid frontend message type " + PgProtocol.describeType(type));
        }
        int length = buf.getInt(pos + 1);
        if (length < 4) {
            throw ProtocolException.violation("invalid message length " + length + " for message type " + PgProtocol.describeType(type));
        }
        int max = limits.maxFor(type);
        if (length > max) {
            throw new ProtocolException(SqlState.PROGRAM_LIMIT_EXCEEDED,
                    "message of type " + PgProtocol.describeType(type) + " is " + length + " bytes, over the limit of " + max);
        }
        return length + 1;
    }

    private int startupFrameLength(Buffer buf, int pos, int end) {
        if (end - pos < 4) {
            return -1;
        }
        int length = buf.getInt(pos);
        // 8 = length word + protocol code, the smallest valid startup-phase packet.
        if (length < 8 || length > FrameLimits.MAX_STARTUP_PACKET_BYTES) {
            throw ProtocolException.violation("invalid length of startup packet: " + length);
        }
        return length;
    }
}
