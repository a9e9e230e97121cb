package io.neurondb.proxy.config;

import io.neurondb.proxy.protocol.FrameLimits;

import java.nio.file.Path;
import java.util.Map;
import java.time.Duration;

/**
 * Everything the proxy is configured with, after the file and the environment overrides
 * were merged and checked. Documented key by key in {@code conf/neurondb.yaml}.
 *
 * @param upstream the server, or null to start a local PostgreSQL from the system binaries
 * @param logFormat how log lines are written: {@code text} (key=value) or {@code json}
 * @param openIndexedDatabasesAtStart whether databases with engine indexes are opened (built,
 *                                    followed) when the proxy starts rather than at their first client
 */
public record ProxyConfig(
        HostAndPort listen,
        UpstreamUrl upstream,
        int metricsPort,
        Path dataDir,
        Path pluginsDir,
        int eventLoops,
        Duration connectTimeout,
        Duration clientLoginTimeout,
        FrameLimits clientLimits,
        TlsSettings tls,
        EmbeddedSettings embedded,
        String logLevel,
        Map<String, Map<String, Object>> pluginSettings,
        String logFormat,
        io.neurondb.proxy.replication.ReplicationSettings replication,
        boolean openIndexedDatabasesAtStart) {

    public ProxyConfig {
        pluginSettings = Map.copyOf(pluginSettings);
    }

    /** The same configuration pointing at another upstream (the local PostgreSQL once started). */
    public ProxyConfig withUpstream(UpstreamUrl newUpstream) {
        return new ProxyConfig(listen, newUpstream, metricsPort, dataDir, pluginsDir, eventLoops, connectTimeout,
                clientLoginTimeout, clientLimits, tls, embedded, logLevel, pluginSettings, logFormat, replication,
                openIndexedDatabasesAtStart);
    }

    /** The {@code plugins: <pluginId>:} section, empty when the file has none. */
    public Map<String, Object> pluginSettings(String pluginId) {
        return pluginSettings.getOrDefault(pluginId, Map.of());
    }

    /**
     * The local PostgreSQL started when no upstream is configured.
     *
     * @param binDir directory with initdb/pg_ctl/postgres, or null to look for one
     * @param port   port for it, 0 for any free one
     */
    public record EmbeddedSettings(Path binDir, int port) {
    }

    public boolean embeddedUpstream() {
        return upstream == null;
    }
}
