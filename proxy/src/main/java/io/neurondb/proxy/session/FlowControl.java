package io.neurondb.proxy.session;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetSocket;

/**
 * Backpressure between the two sockets of a session, at the Netty level: when the
 * destination cannot take more (its channel is not writable), stop reading the source
 * ({@code autoRead} off) until the destination drains.
 *
 * <p>Why not {@code NetSocket.pause()}: Vert.x applies it to its own buffered data handler,
 * and the session reads raw messages, which it would keep delivering. With reads off, the
 * kernel buffers fill and the peer blocks in its write: a server that produces a large result
 * for a client that stops reading waits in {@code ClientWrite} instead of filling the proxy.
 */
final class FlowControl {

    private static final String WATCHER = "neurondb-drain-watcher";

    private final Channel source;
    private final DrainWatcher watcher;
    /** Set on the session's loop, cleared there or on the destination's loop (a pooled server socket may live on another). */
    private volatile boolean holding;

    /** Reading {@code source} is held while {@code destination} is not writable. */
    FlowControl(NetSocket source, NetSocket destination) {
        this.source = channel(source);
        this.watcher = DrainWatcher.on(channel(destination));
        watcher.owner = this;
    }

    /** Called after writing to the destination. */
    void afterWrite() {
        if (!holding && !watcher.channel.isWritable()) {
            holding = true;
            source.config().setAutoRead(false);
            if (watcher.channel.isWritable()) {
                release(); // it drained between the check and the flag, unseen by the watcher
            }
        }
    }

    /** Stops watching (the server connection goes back to the pool) and lets the source read again. */
    void detach() {
        if (watcher.owner == this) {
            watcher.owner = null;
        }
        release();
    }

    private void release() {
        if (holding) {
            holding = false;
            source.config().setAutoRead(true);
        }
    }

    private static Channel channel(NetSocket socket) {
        return ((NetSocketInternal) socket).channelHandlerContext().channel();
    }

    /**
     * Sees a channel's writability come back, on the channel's event loop, and tells whichever
     * flow control currently writes to it. One per channel for the channel's life: a pooled
     * server connection changes sessions at every transaction, and adding and removing a
     * pipeline handler each time cost more than the rest of the lease hand-over.
     */
    private static final class DrainWatcher extends ChannelInboundHandlerAdapter {
        final Channel channel;
        volatile FlowControl owner;

        private DrainWatcher(Channel channel) {
            this.channel = channel;
        }

        static DrainWatcher on(Channel channel) {
            if (channel.pipeline().get(WATCHER) instanceof DrainWatcher existing) {
                return existing;
            }
            DrainWatcher w = new DrainWatcher(channel);
            channel.pipeline().addFirst(WATCHER, w);
            return w;
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            FlowControl current = owner;
            if (current != null && ctx.channel().isWritable()) {
                current.release();
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public boolean isSharable() {
            return false;
        }
    }
}
