package io.neurondb.proxy.net;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.neurondb.proxy.config.ConfigException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetSocket;

import javax.net.ssl.SSLException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Turns an accepted plaintext client connection into TLS after it asked with SSLRequest.
 *
 * <p>Why not {@code NetSocket.upgradeToSsl}: with one listener per event loop on a shared
 * port, Vert.x 5.0 gives only the first listener the TLS context manager, so an upgrade on a
 * connection accepted by any other listener fails with a NullPointerException. The handler is
 * therefore put into the Netty pipeline here, from one context built once from the PEM files.
 */
public final class ClientTlsUpgrade {

    private final SslContext context;
    private final long handshakeTimeoutMillis;

    public ClientTlsUpgrade(Path certFile, Path keyFile, long handshakeTimeoutMillis) {
        try {
            this.context = SslContextBuilder.forServer(certFile.toFile(), keyFile.toFile()).build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new ConfigException("tls.cert_file / tls.key_file: cannot use " + certFile + " and " + keyFile + ": " + e.getMessage(), e);
        }
        this.handshakeTimeoutMillis = handshakeTimeoutMillis;
    }

    /**
     * Writes {@code reply} (the 'S') in plaintext, then starts the server side of the TLS
     * handshake; completes when the handshake has.
     */
    public Future<Void> upgrade(NetSocket socket, Buffer reply) {
        ChannelHandlerContext ctx = ((NetSocketInternal) socket).channelHandlerContext();
        Promise<Void> done = Promise.promise();
        // The handler may only go in once the 'S' has left: added earlier it would encrypt it,
        // and the client would wait for an answer that never comes.
        socket.write(reply).onComplete(written -> {
            if (written.failed()) {
                done.tryFail(written.cause());
                return;
            }
            SslHandler handler = context.newHandler(ctx.alloc());
            handler.setHandshakeTimeout(handshakeTimeoutMillis, TimeUnit.MILLISECONDS);
            ctx.pipeline().addFirst("ssl", handler);
            handler.handshakeFuture().addListener(f -> {
                if (f.isSuccess()) {
                    done.tryComplete();
                } else {
                    done.tryFail(f.cause());
                }
            });
        });
        return done.future();
    }
}
