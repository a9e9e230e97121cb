package io.neurondb.proxy.net;

import io.neurondb.proxy.config.HostAndPort;
import io.neurondb.proxy.config.TlsSettings;
import io.neurondb.proxy.config.TlsSettings.UpstreamTlsMode;
import io.neurondb.proxy.protocol.StartupPacket;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

import io.vertx.core.net.ClientSSLOptions;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.PemTrustOptions;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Opens connections to the server: TCP with a connect timeout, then the SSLRequest exchange
 * when upstream TLS is on. One per event loop, so a session's server socket lives on the same
 * thread as its client socket.
 */
public final class UpstreamConnector {

    private final NetClient client;
    private final HostAndPort server;
    private final UpstreamTlsMode tlsMode;
    private final ClientSSLOptions sslOptions;

    public UpstreamConnector(Vertx vertx, HostAndPort server, Duration connectTimeout, TlsSettings tls) {
        this.server = server;
        this.tlsMode = tls.upstreamMode();
        this.client = vertx.createNetClient(new NetClientOptions()
                .setConnectTimeout((int) connectTimeout.toMillis())
                .setSslHandshakeTimeout(connectTimeout.toMillis())
                .setSslHandshakeTimeoutUnit(TimeUnit.MILLISECONDS)
                .setTcpNoDelay(true));
        this.sslOptions = sslOptions(tls);
    }

    /** How the proxy checks the server's certificate, for its relayed and its own connections alike. */
    public static ClientSSLOptions sslOptions(TlsSettings tls) {
        ClientSSLOptions ssl = new ClientSSLOptions();
        if (tls.upstreamMode() == UpstreamTlsMode.VERIFY_FULL) {
            ssl.setTrustOptions(new PemTrustOptions().addCertPath(tls.upstreamCaFile().toString()))
                    .setHostnameVerificationAlgorithm("HTTPS");
        } else {
            // prefer/require encrypt without verifying, as libpq's sslmode of the same names.
            ssl.setTrustAll(true).setHostnameVerificationAlgorithm("");
        }
        return ssl;
    }

    public HostAndPort server() {
        return server;
    }

    /** A connected socket, TLS already negotiated where configured, no handlers set. */
    public Future<NetSocket> connect() {
        Future<NetSocket> tcp = client.connect(server.port(), server.host());
        return tlsMode == UpstreamTlsMode.DISABLE ? tcp : tcp.compose(this::negotiateTls);
    }

    /** A plain connection for a CancelRequest, which PostgreSQL accepts without TLS. */
    public Future<NetSocket> connectPlain() {
        return client.connect(server.port(), server.host());
    }

    private Future<NetSocket> negotiateTls(NetSocket socket) {
        Promise<NetSocket> result = Promise.promise();
        socket.handler(reply -> {
            socket.handler(null);
            byte answer = reply.getByte(0);
            if (answer == 'S') {
                if (reply.length() > 1) {
                    // Bytes after 'S' were not protected by TLS: refuse them (CVE-2021-23222).
                    fail(socket, result, "server sent unencrypted data after accepting SSL");
                    return;
                }
                socket.upgradeToSsl(sslOptions, server.host()).onComplete(ar -> {
                    if (ar.succeeded()) {
                        result.complete(socket);
                    } else {
                        fail(socket, result, "TLS handshake with server failed: " + ar.cause().getMessage());
                    }
                });
            } else if (answer == 'N' && tlsMode == UpstreamTlsMode.PREFER) {
                result.complete(socket);
            } else if (answer == 'N') {
                fail(socket, result, "server does not support SSL, but upstream_tls.mode is " + tlsMode.name().toLowerCase().replace('_', '-'));
            } else {
                fail(socket, result, "unexpected reply to SSLRequest: " + (char) answer);
            }
        });
        socket.exceptionHandler(e -> fail(socket, result, e.getMessage()));
        socket.write(StartupPacket.encodeSslRequestPacket());
        return result.future();
    }

    private static void fail(NetSocket socket, Promise<NetSocket> result, String why) {
        socket.close();
        result.tryFail(why);
    }

    public Future<Void> close() {
        return client.close();
    }

}
