import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;

/**
 * A benchmark peer, not part of the product: the least a Netty middle can do. Every client
 * connection gets its own server connection on the same event loop and bytes are copied both
 * ways untouched: no protocol parsing, no pooling, no Vert.x. What this costs per transaction
 * is the floor under any proxy built on Netty's epoll transport on the same machine.
 *
 * Usage: java -cp <netty jars>:. BareRelay LISTEN_PORT UPSTREAM_PORT EVENT_LOOPS
 */
public final class BareRelay {

    public static void main(String[] args) throws Exception {
        int listenPort = Integer.parseInt(args[0]);
        int upstreamPort = Integer.parseInt(args[1]);
        int loops = Integer.parseInt(args[2]);
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(loops, EpollIoHandler.newFactory());
        new ServerBootstrap().group(group).channel(EpollServerSocketChannel.class)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.AUTO_READ, false) // until the server side is connected
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel client) {
                        client.pipeline().addLast(new ClientSide(client, upstreamPort));
                    }
                })
                .bind("127.0.0.1", listenPort).sync().channel().closeFuture().sync();
    }

    private static final class ClientSide extends ChannelInboundHandlerAdapter {
        private final Channel client;
        private final int upstreamPort;
        private Channel server;

        ClientSide(Channel client, int upstreamPort) {
            this.client = client;
            this.upstreamPort = upstreamPort;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            new Bootstrap().group(client.eventLoop()).channel(EpollSocketChannel.class)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .handler(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext s, Object message) {
                            client.writeAndFlush(message, client.voidPromise());
                        }

                        @Override
                        public void channelInactive(ChannelHandlerContext s) {
                            client.close();
                        }
                    })
                    .connect("127.0.0.1", upstreamPort)
                    .addListener((ChannelFutureListener) connected -> {
                        if (!connected.isSuccess()) {
                            client.close();
                            return;
                        }
                        server = connected.channel();
                        client.config().setAutoRead(true);
                    });
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object message) {
            server.writeAndFlush(message, server.voidPromise());
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (server != null) {
                server.close();
            }
        }
    }
}
