package io.neurondb.proxy.session;

import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;

import java.util.function.Consumer;

/**
 * The read being handled on one side of a session: a pooled Netty buffer, lent to the
 * handler as a Vert.x view (no copy) and released when the handler returns. Frames are
 * windows on it only for that long; whatever must outlive it is copied.
 */
final class BorrowedRead {

    private Buffer view;
    private ByteBuf memory;

    /**
     * Hands one socket message to {@code handler}; {@code pending} is the batch that may still
     * hold windows on it afterwards, and is made to copy them before the memory goes back.
     */
    void handle(Object message, Consumer<Buffer> handler, WriteBatch pending) {
        if (!(message instanceof ByteBuf bytes)) {
            ReferenceCountUtil.release(message);
            return;
        }
        view = BufferInternal.buffer(bytes);
        memory = bytes;
        try {
            handler.accept(view);
        } finally {
            pending.stopBorrowing(view);
            view = null;
            memory = null;
            bytes.release();
        }
    }

    /** The view of the read being handled, or null between reads. */
    Buffer view() {
        return view;
    }

    /** Its memory, for retained slices that outlive the handler. */
    ByteBuf memory() {
        return memory;
    }
}
