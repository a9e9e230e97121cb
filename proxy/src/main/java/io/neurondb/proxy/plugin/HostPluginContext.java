package io.neurondb.proxy.plugin;

import io.micrometer.core.instrument.MeterRegistry;
import io.neurondb.plugin.api.PluginContext;
import io.neurondb.plugin.api.ProxyStatus;
import io.neurondb.plugin.api.UpstreamServer;
import io.vertx.core.Vertx;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * What the host hands one plugin's services. The settings section is replaced when the
 * configuration is reloaded; everything else is fixed for the proxy's life.
 */
public final class HostPluginContext implements PluginContext {

    private final String pluginId;
    private volatile Map<String, Object> settings;
    private final Map<String, String> environment;
    private final Vertx vertx;
    private final UpstreamServer upstream;
    private final Path dataDir;
    private final int metricsPort;
    private final MeterRegistry meterRegistry;
    private final ProxyStatus status;
    private volatile BooleanSupplier reloadRequest = () -> true;
    private volatile java.util.function.Function<String, io.vertx.core.Future<DatabaseHold>> databaseRelease =
            db -> io.vertx.core.Future.succeededFuture(DatabaseHold.NONE);
    private volatile Runnable shutdownRequest = () -> {
        throw new UnsupportedOperationException("no shutdown hook installed");
    };

    public HostPluginContext(String pluginId, Map<String, Object> settings, Map<String, String> environment,
                             Vertx vertx, UpstreamServer upstream, Path dataDir, int metricsPort,
                             MeterRegistry meterRegistry, ProxyStatus status) {
        this.pluginId = pluginId;
        this.settings = copy(settings);
        this.environment = Map.copyOf(environment);
        this.vertx = vertx;
        this.upstream = upstream;
        this.dataDir = dataDir;
        this.metricsPort = metricsPort;
        this.meterRegistry = meterRegistry;
        this.status = status;
    }

    private static Map<String, Object> copy(Map<String, Object> settings) {
        // YAML may give a key no value: keep nulls, which Map.copyOf refuses
        return Collections.unmodifiableMap(new LinkedHashMap<>(settings));
    }

    /** The section as re-read by a reload; services see it from their next {@code settings()}. */
    public void updateSettings(Map<String, Object> newSettings) {
        settings = copy(newSettings);
    }

    /** What {@link #releaseDatabase} does: the engine side letting go of a database. */
    public void onDatabaseRelease(java.util.function.Function<String, io.vertx.core.Future<DatabaseHold>> release) {
        this.databaseRelease = release;
    }

    @Override
    public io.vertx.core.Future<DatabaseHold> releaseDatabase(String database) {
        return databaseRelease.apply(database);
    }

    /** What {@link #requestReload()} does: the host's reload. */
    public void onReloadRequest(BooleanSupplier reload) {
        this.reloadRequest = reload;
    }

    /** What {@link #requestShutdown()} does: the host's shutdown. */
    public void onShutdownRequest(Runnable shutdown) {
        this.shutdownRequest = shutdown;
    }

    @Override
    public void requestShutdown() {
        shutdownRequest.run();
    }

    @Override
    public String pluginId() {
        return pluginId;
    }

    @Override
    public Map<String, Object> settings() {
        return settings;
    }

    @Override
    public Map<String, String> environment() {
        return environment;
    }

    @Override
    public Vertx vertx() {
        return vertx;
    }

    @Override
    public UpstreamServer upstream() {
        return upstream;
    }

    @Override
    public Path dataDir() {
        return dataDir;
    }

    @Override
    public int metricsPort() {
        return metricsPort;
    }

    @Override
    public MeterRegistry meterRegistry() {
        return meterRegistry;
    }

    @Override
    public ProxyStatus status() {
        return status;
    }

    @Override
    public boolean requestReload() {
        return reloadRequest.getAsBoolean();
    }

    @Override
    public String toString() {
        // settings may hold secrets (auth files, keys); name the plugin only
        return "HostPluginContext[" + pluginId + "]";
    }
}
