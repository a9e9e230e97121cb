package io.neurondb.proxy.protocol;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.buffer.impl.BufferImpl;

/**
 * Finding a byte in a buffer with one bulk scan (Netty's, a word at a time on the buffers
 * Vert.x wraps) rather than a bounds- and reference-checked {@link Buffer#getByte} per byte,
 * which is what looking for a C string's end or a {@code ;} in a query cost per byte.
 */
final class ByteSearch {

    private ByteSearch() {
    }

    /** The index of the first {@code value} in {@code [from, to)} of {@code b}, or -1. */
    static int indexOf(Buffer b, int from, int to, byte value) {
        if (from >= to) {
            return -1;
        }
        if (b instanceof BufferImpl impl) {
            // A Vert.x buffer's indexes are its Netty buffer's (slices are slices there too).
            return impl.byteBuf().indexOf(from, to, value);
        }
        for (int i = from; i < to; i++) {
            if (b.getByte(i) == value) {
                return i;
            }
        }
        return -1;
    }
}
