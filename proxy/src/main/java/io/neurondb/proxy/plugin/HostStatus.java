package io.neurondb.proxy.plugin;

import io.neurondb.plugin.api.ProxyStatus;
import io.neurondb.proxy.config.UpstreamUrl;
import io.neurondb.proxy.vectors.IndexStatus;
import io.neurondb.proxy.vectors.VectorDatabases;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClientOptions;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** {@link ProxyStatus} over the proxy's engine side and its upstream login. */
public final class HostStatus implements ProxyStatus {

    private final Vertx vertx;
    private final UpstreamUrl upstream;
    private final VectorDatabases vectors;
    private final int connectTimeoutMillis;

    /** @param vectors the engine side, or null when vector routing is off (no proxy login) */
    public HostStatus(Vertx vertx, UpstreamUrl upstream, VectorDatabases vectors, int connectTimeoutMillis) {
        this.vertx = vertx;
        this.upstream = upstream;
        this.vectors = vectors;
        this.connectTimeoutMillis = connectTimeoutMillis;
    }

    @Override
    public Future<Void> pingUpstream() {
        if (vectors != null) {
            return vectors.ping();
        }
        // Without a login of its own the proxy can only see whether the server accepts connections.
        return vertx.createNetClient(new NetClientOptions().setConnectTimeout(connectTimeoutMillis))
                .connect(upstream.port(), upstream.host())
                .compose(socket -> socket.close());
    }

    @Override
    public boolean indexesKnown() {
        return vectors == null || vectors.discovered();
    }

    @Override
    public List<IndexInfo> indexes() {
        if (vectors == null) {
            return List.of();
        }
        List<IndexInfo> all = new ArrayList<>();
        for (Map.Entry<String, List<IndexStatus>> db : vectors.stats().entrySet()) {
            for (IndexStatus s : db.getValue()) {
                all.add(new IndexInfo(db.getKey(), s.indexName(), s.tableName(), s.columnName(), s.method(),
                        s.state().sqlName(), s.rows(), s.memoryBytes(), s.buildSeconds()));
            }
        }
        return all;
    }
}
