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

    private final Channel source;
    private final Channel destination;
    private final DrainWatcher watcher = new DrainWatcher();
    private boolean holding;

    /** Reading {@code source} is held while {@code destination} is not writable. */
    FlowControl(NetSocket source, NetSocket destination) {
        this.source = channel(source);
        this.destination = channel(destination);
        this.destination.pipeline().addFirst(watcher);
    }

    /** Called after writing to the destination. */
    void afterWrite() {
        if (!holding && !destination.isWritable()) {
            holding = true;
            source.config().setAutoRead(false);
        }
    }

    /** Stops watching (the server connection goes back to the pool) and lets the source read again. */
    void detach() {
        if (destination.pipeline().context(watcher) != null) {
            destination.pipeline().remove(watcher);
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

    /** Sees the destination's writability come back, on the channel's event loop. */
    private final class DrainWatcher extends ChannelInboundHandlerAdapter {
        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable()) {
                release();
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public boolean isSharable() {
            return false;
        }
    }
}
