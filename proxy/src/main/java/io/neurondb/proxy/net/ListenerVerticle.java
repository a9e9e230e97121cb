package io.neurondb.proxy.net;

import io.neurondb.proxy.config.ProxyConfig;
import io.neurondb.proxy.session.ClientSession;
import io.neurondb.proxy.session.SessionServices;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;

import java.util.function.Function;

/**
 * Accepts client connections on one event loop. The proxy deploys one instance per event
 * loop on the same port; Vert.x spreads accepted connections across them, and each session's
 * server connection is opened from the same loop, so a session never changes threads.
 */
public final class ListenerVerticle extends VerticleBase {

    private final ProxyConfig config;
    private final Function<UpstreamConnector, SessionServices> servicesFactory;
    private NetServer server;
    private UpstreamConnector upstream;

    public ListenerVerticle(ProxyConfig config, Function<UpstreamConnector, SessionServices> servicesFactory) {
        this.config = config;
        this.servicesFactory = servicesFactory;
    }

    @Override
    public Future<?> start() {
        upstream = new UpstreamConnector(vertx, config.upstream().address(), config.connectTimeout(), config.tls());
        SessionServices services = servicesFactory.apply(upstream);
        NetServerOptions options = new NetServerOptions()
                .setHost(config.listen().host())
                .setPort(config.listen().port())
                .setTcpNoDelay(true)
                .setReuseAddress(true);
        server = vertx.createNetServer(options);
        server.connectHandler(socket -> new ClientSession(services, socket).start());
        return server.listen();
    }

    @Override
    public Future<?> stop() {
        return server.close().compose(v -> upstream.close());
    }
}
