package io.neurondb.proxy;

import io.neurondb.engine.compute.ComputeBackend;
import io.neurondb.engine.compute.CpuComputeBackend;
import io.neurondb.gpu.GpuSupport;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.neurondb.plugin.api.MetricsBinder;
import io.neurondb.plugin.api.SqlFunction;
import io.neurondb.plugin.api.AdminCommand;
import io.neurondb.plugin.api.BackendConnectionProvider;
import io.neurondb.plugin.api.PluginContext;
import io.neurondb.plugin.api.StatementObserver;
import io.neurondb.plugin.api.UpstreamServer;
import io.neurondb.proxy.config.ProxyConfig;
import io.neurondb.proxy.config.UpstreamUrl;
import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.proxy.metrics.HostMeters;
import io.neurondb.proxy.metrics.SessionMeters;
import io.neurondb.proxy.net.CancelRegistry;
import io.neurondb.proxy.net.ClientTlsUpgrade;
import io.neurondb.proxy.net.ListenerVerticle;
import io.neurondb.proxy.plugin.HostPluginContext;
import io.neurondb.proxy.plugin.HostStatus;
import io.neurondb.proxy.plugin.PluginFunctions;
import io.neurondb.proxy.plugin.PluginHost;
import io.neurondb.proxy.session.SessionServices;
import io.neurondb.proxy.session.ProxyFacts;
import io.neurondb.proxy.route.StatementRouter;
import io.neurondb.proxy.vectors.VectorDatabases;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The running proxy: wires configuration, the optional local PostgreSQL, plugins and the
 * listeners together, and takes them down in reverse order.
 */
public final class NeuronDbProxy implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(NeuronDbProxy.class);

    private final ProxyConfig config;
    private final LocalPostgres localPostgres;
    private final PluginHost plugins;
    private final Vertx vertx;
    private final GpuSupport gpu;
    private final ComputeBackend compute;
    private final VectorDatabases vectors;
    private final CompositeMeterRegistry meters;
    /** Each plugin's context, by plugin id: a reload replaces their settings sections. */
    private final Map<String, HostPluginContext> pluginContexts;

    /** Bound on the SQL text the statement router keeps plans for. */
    private static final long ROUTER_CACHE_BYTES = 32L << 20;

    private NeuronDbProxy(ProxyConfig config, LocalPostgres localPostgres, PluginHost plugins, Vertx vertx,
                          GpuSupport gpu, ComputeBackend compute, VectorDatabases vectors, CompositeMeterRegistry meters,
                          Map<String, HostPluginContext> pluginContexts) {
        this.config = config;
        this.localPostgres = localPostgres;
        this.plugins = plugins;
        this.vertx = vertx;
        this.gpu = gpu;
        this.compute = compute;
        this.vectors = vectors;
        this.meters = meters;
        this.pluginContexts = pluginContexts;
    }

    /**
     * Applies the plugin sections of a re-read configuration and tells every running plugin
     * service (SIGHUP, a console's RELOAD). Other settings need a restart.
     */
    public synchronized boolean reloadPlugins(ProxyConfig reread) {
        pluginContexts.forEach((id, context) -> context.updateSettings(reread.pluginSettings(id)));
        boolean all = plugins.reloadServices();
        log.info("event=plugins_reloaded plugins={} all_accepted={}", pluginContexts.keySet(), all);
        return all;
    }

    /** What a plugin's {@code requestReload()} runs: by default {@link #reloadPlugins} with the sections the proxy has. */
    public void onReloadRequest(java.util.function.BooleanSupplier reload) {
        pluginContexts.values().forEach(c -> c.onReloadRequest(reload));
    }

    /**
     * What a plugin's {@code requestShutdown()} (a console's SHUTDOWN) runs. By default the proxy
     * closes itself on a thread of its own; the command-line entry point makes it exit the process.
     */
    public void onShutdownRequest(Runnable shutdown) {
        pluginContexts.values().forEach(c -> c.onShutdownRequest(shutdown));
    }

    /** The host's meter registry: the proxy's meters and every plugin's; exporters add theirs to it. */
    public MeterRegistry meters() {
        return meters;
    }

    /** The engine side of the databases behind the proxy; null when vector routing is off. */
    public VectorDatabases vectors() {
        return vectors;
    }

    /** Starts everything and returns once the listeners accept connections. */
    public static NeuronDbProxy start(ProxyConfig config) {
        return start(config, List.of());
    }

    /**
     * @param extraObservers observers added beside the plugins' (used by embedding code and tests)
     */
    public static NeuronDbProxy start(ProxyConfig config, List<StatementObserver> extraObservers) {
        LocalPostgres local = null;
        if (config.embeddedUpstream()) {
            local = LocalPostgres.builder(config.dataDir().resolve("postgres"))
                    .binDir(config.embedded().binDir())
                    .port(config.embedded().port())
                    .build()
                    .start();
            config = config.withUpstream(new UpstreamUrl(local.host(), local.port(), "postgres", LocalPostgres.SUPERUSER, local.superuserPassword()));
        }
        // Detection logs one line saying why the GPU is not used, when it is not.
        GpuSupport gpu = GpuSupport.detect();
        ComputeBackend compute = gpu.orCpu(new CpuComputeBackend());
        log.info("event=compute_backend backend={} gpu_devices={}", compute.name(), gpu.deviceCount());
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(config.eventLoops()).setPreferNativeTransport(true));
        if (!vertx.isNativeTransportEnabled()) {
            log.info("event=native_transport_unavailable reason=\"{}\"; using Java NIO", vertx.unavailableNativeTransportCause());
        }
        CancelRegistry cancels = new CancelRegistry();
        AtomicLong connectionIds = new AtomicLong();
        ClientTlsUpgrade clientTls = config.tls().clientTlsEnabled()
                ? new ClientTlsUpgrade(config.tls().certFile(), config.tls().keyFile(), config.connectTimeout().toMillis())
                : null;
        ProxyConfig effective = config;
        VectorDatabases vectors = null;
        if (config.upstream().user() == null) {
            log.warn("event=vector_routing_off reason=\"the upstream URL has no user: the proxy needs its own login to read the vector catalog and tables\"");
        } else {
            vectors = new VectorDatabases(vertx, config.upstream(), compute, Math.max(1, Runtime.getRuntime().availableProcessors()))
                    .upstreamTls(config.tls())
                    .replication(config.replication(), config.dataDir());
        }
        CompositeMeterRegistry meters = new CompositeMeterRegistry();
        if (vectors != null) {
            vectors.meterRegistry(meters);
            if (config.openIndexedDatabasesAtStart()) {
                vectors.openIndexedDatabases();
            }
        }
        Map<String, HostPluginContext> contexts = new java.util.concurrent.ConcurrentHashMap<>();
        PluginHost plugins = startPlugins(config, vertx, vectors, meters, contexts);
        SessionMeters sessionMeters = HostMeters.bind(meters, vertx, vectors, gpu, plugins);
        List<StatementObserver> observers = new ArrayList<>(plugins.extensions(StatementObserver.class));
        observers.addAll(extraObservers);
        PluginFunctions functions = new PluginFunctions(plugins.extensions(SqlFunction.class));
        StatementRouter router = new StatementRouter(ROUTER_CACHE_BYTES, java.util.Set.copyOf(functions.names()));
        ProxyFacts facts = new ProxyFacts(gpu.enabled(), gpu.deviceCount());
        BackendConnectionProvider pool = activeProvider(plugins);
        List<AdminCommand> adminCommands = List.copyOf(plugins.extensions(AdminCommand.class));
        VectorDatabases vectorsForSessions = vectors;
        try {
            vertx.deployVerticle(() -> new ListenerVerticle(effective, upstream -> new SessionServices(
                            upstream, cancels, effective.clientLimits(), effective.clientLoginTimeout(), clientTls, List.copyOf(observers), connectionIds,
                            router, vectorsForSessions, facts, functions, sessionMeters, pool, adminCommands)),
                    new DeploymentOptions().setInstances(config.eventLoops()))
                    .await(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            if (vectors != null) {
                vectors.close();
            }
            vertx.close();
            plugins.close();
            compute.close();
            if (local != null) {
                local.stop();
            }
            throw new IllegalStateException("cannot listen on " + config.listen() + ": " + rootMessage(e), e);
        }
        log.info("event=listening address={} upstream={} event_loops={} client_tls={} plugins={} plugin_functions={}",
                config.listen(), config.upstream(), config.eventLoops(), clientTls != null, plugins.startedPluginIds(),
                functions.names());
        NeuronDbProxy proxy = new NeuronDbProxy(effective, local, plugins, vertx, gpu, compute, vectors, meters, contexts);
        // Started without a file to re-read (embedding code, tests), a reload keeps the sections it has.
        proxy.onReloadRequest(() -> proxy.reloadPlugins(proxy.config()));
        // Never on the caller's thread: it is a worker the closing Vert.x would wait for.
        proxy.onShutdownRequest(() -> new Thread(proxy::close, "neurondb-requested-shutdown").start());
        return proxy;
    }

    /** Loads the plugins, binds their meters and starts their services, before any client is accepted. */
    private static PluginHost startPlugins(ProxyConfig config, Vertx vertx, VectorDatabases vectors, MeterRegistry meters,
                                           Map<String, HostPluginContext> contexts) {
        PluginHost plugins = PluginHost.load(config.pluginsDir());
        UpstreamUrl u = config.upstream();
        UpstreamServer upstream = new UpstreamServer(u.host(), u.port(), u.database(), u.user(), u.password(),
                config.tls().upstreamMode().name().toLowerCase(Locale.ROOT).replace('_', '-'),
                config.tls().upstreamCaFile() == null ? null : config.tls().upstreamCaFile().toString());
        HostStatus status = new HostStatus(vertx, u, vectors, (int) config.connectTimeout().toMillis());
        plugins.startServices(id -> contexts.computeIfAbsent(id, i -> {
            HostPluginContext context = new HostPluginContext(i, config.pluginSettings(i),
                    System.getenv(), vertx, upstream, config.dataDir(), config.metricsPort(), meters, status);
            if (vectors != null) {
                context.onDatabaseRelease(db -> vectors.holdForDrop(db).map(hold -> new PluginContext.DatabaseHold() {
                    @Override
                    public void dropped() {
                        hold.dropped();
                    }

                    @Override
                    public void kept() {
                        hold.kept();
                    }
                }));
            }
            return context;
        }));
        for (MetricsBinder binder : plugins.extensions(MetricsBinder.class)) {
            binder.bindTo(meters);
        }
        return plugins;
    }

    /**
     * The pooling provider sessions use, or null for 1:1 sessions: the first that says it is
     * active (a pooling plugin stays inactive unless configured).
     */
    private static BackendConnectionProvider activeProvider(PluginHost plugins) {
        for (BackendConnectionProvider p : plugins.extensions(BackendConnectionProvider.class)) {
            try {
                if (p.active()) {
                    log.info("event=pooling_provider name={}", p.name());
                    return p;
                }
            } catch (RuntimeException e) {
                log.error("event=pooling_provider_failed provider={} error=\"{}\"", p.getClass().getName(), e.toString());
            }
        }
        return null;
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }

    public ProxyConfig config() {
        return config;
    }

    /** The local PostgreSQL when the proxy started one, else null. */
    public LocalPostgres localPostgres() {
        return localPostgres;
    }

    public PluginHost plugins() {
        return plugins;
    }

    /** What GPU detection found; answers neurondb.gpu_enabled() and gpu_device_count(). */
    public GpuSupport gpu() {
        return gpu;
    }

    /** Where bulk distance work runs: the GPU backend, or the CPU one. */
    public ComputeBackend compute() {
        return compute;
    }

    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    /** How long shutdown waits for the replication streams' last checkpoints (a stream waits up to 60 s for its own, then 10 s for its thread). */
    private static final java.time.Duration VECTORS_CLOSE_TIMEOUT = java.time.Duration.ofSeconds(75);

    /** Stops everything; a second call (a requested shutdown, then the owner's close) does nothing. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        if (vectors != null && !vectors.close(VECTORS_CLOSE_TIMEOUT)) {
            log.warn("event=shutdown_incomplete part=vector_databases reason=\"replication streams did not stop within {} s; "
                    + "the slots keep everything after the last checkpoint\"", VECTORS_CLOSE_TIMEOUT.toSeconds());
        }
        plugins.stopServices();
        try {
            vertx.close().await(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            log.warn("event=shutdown_incomplete error=\"{}\"", e.toString());
        }
        plugins.close();
        compute.close();
        if (localPostgres != null) {
            localPostgres.stop();
        }
        log.info("event=stopped");
    }
}
