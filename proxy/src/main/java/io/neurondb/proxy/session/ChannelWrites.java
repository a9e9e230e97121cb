package io.neurondb.proxy.session;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetSocket;

/**
 * Every byte a session sends goes through here, straight into the Netty channel. Vert.x's own
 * write path adds a queue hop and a promise per message; and mixing the two paths could
 * reorder messages, since Vert.x holds writes back in its own queue while the channel is not
 * writable. Backpressure is unaffected: {@code writeQueueFull()} and the drain handler follow
 * the channel's writability, which these writes count towards.
 */
final class ChannelWrites {

    private ChannelWrites() {
    }

    /** Sends {@code bytes}, which Netty releases once written. */
    static void send(NetSocket socket, ByteBuf bytes) {
        Channel channel = ((NetSocketInternal) socket).channelHandlerContext().channel();
        channel.writeAndFlush(bytes, channel.voidPromise());
    }

    /**
     * Queues {@code bytes} without flushing: the next write with a flush, or {@link #flush},
     * sends them together with what follows, in one system call.
     */
    static void queue(NetSocket socket, ByteBuf bytes) {
        Channel channel = ((NetSocketInternal) socket).channelHandlerContext().channel();
        channel.write(bytes, channel.voidPromise());
    }

    static void flush(NetSocket socket) {
        ((NetSocketInternal) socket).channelHandlerContext().channel().flush();
    }

    /**
     * Sends a Vert.x buffer. Only heap buffers the proxy owns (copies and messages it encoded)
     * come here; Vert.x hands them out as slices whose release does nothing.
     */
    static void send(NetSocket socket, Buffer bytes) {
        send(socket, ((BufferInternal) bytes).getByteBuf());
    }
}
