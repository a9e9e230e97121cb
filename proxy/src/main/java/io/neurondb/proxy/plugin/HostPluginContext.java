package io.neurondb.proxy.plugin;

import io.micrometer.core.instrument.MeterRegistry;
import io.neurondb.plugin.api.PluginContext;
import io.neurondb.plugin.api.ProxyStatus;
import io.neurondb.plugin.api.UpstreamServer;
import io.vertx.core.Vertx;

import java.nio.file.Path;
import java.util.Map;

/** What the host hands one plugin's services at start. */
public record HostPluginContext(String pluginId, Map<String, Object> settings, Map<String, String> environment,
                                Vertx vertx, UpstreamServer upstream, Path dataDir, int metricsPort,
                                MeterRegistry meterRegistry, ProxyStatus status) implements PluginContext {

    public HostPluginContext {
        // YAML may give a key no value: keep nulls, which Map.copyOf refuses
        settings = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(settings));
        environment = Map.copyOf(environment);
    }

    @Override
    public String toString() {
        // settings may hold secrets (auth files, keys); name the plugin only
        return "HostPluginContext[" + pluginId + "]";
    }
}
