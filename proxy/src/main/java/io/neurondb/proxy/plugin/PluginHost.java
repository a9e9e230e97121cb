package io.neurondb.proxy.plugin;

import io.neurondb.plugin.api.PluginContext;
import io.neurondb.plugin.api.PluginService;
import org.pf4j.DefaultPluginManager;
import org.pf4j.ExtensionFactory;
import org.pf4j.PluginManager;
import org.pf4j.PluginState;
import org.pf4j.PluginWrapper;
import org.pf4j.SingletonExtensionFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * Loads the plugin JARs (or zips, or folders) in the plugins directory with PF4J at start and
 * starts their {@link PluginService}s. A plugin that fails to load, or whose service fails to
 * start, is logged and skipped: none of its extensions are used and the proxy serves on.
 */
public final class PluginHost implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(PluginHost.class);

    private final PluginManager manager;
    /** Plugins PF4J started whose own services then failed; their extensions are not used. */
    private final Set<String> failedToStart = new LinkedHashSet<>();
    private final List<PluginService> runningServices = new ArrayList<>();

    private PluginHost(PluginManager manager) {
        this.manager = manager;
    }

    public static PluginHost load(Path pluginsDir) {
        try {
            Files.createDirectories(pluginsDir);
        } catch (IOException e) {
            log.error("event=plugins_dir_unusable dir={} error=\"{}\"; running without plugins", pluginsDir, e.getMessage());
        }
        PluginManager manager = new DefaultPluginManager(pluginsDir) {
            // One instance per extension class, whichever extension point it is asked for by:
            // a plugin's service and its observer, say, are the same object sharing state.
            @Override
            protected ExtensionFactory createExtensionFactory() {
                return new SingletonExtensionFactory(this);
            }
        };
        // PF4J logs and skips a plugin it cannot load or start, and marks it FAILED; the
        // catch below is for failures of the whole scan.
        try {
            manager.loadPlugins();
            manager.startPlugins();
        } catch (RuntimeException e) {
            log.error("event=plugin_scan_failed dir={} error=\"{}\"", pluginsDir, e.toString());
        }
        PluginHost host = new PluginHost(manager);
        for (PluginWrapper p : manager.getPlugins()) {
            log.info("event=plugin plugin_id={} version={} state={} path={}", p.getPluginId(),
                    p.getDescriptor().getVersion(), p.getPluginState(), p.getPluginPath());
        }
        if (manager.getPlugins().isEmpty()) {
            log.info("event=no_plugins dir={}", pluginsDir);
        }
        return host;
    }

    /**
     * Starts every plugin's {@link PluginService}s, in plugin load order, with the context
     * {@code contexts} makes for the plugin id. A plugin any of whose services throws is marked
     * failed: the services of it that did start are stopped, and its extensions are not used.
     */
    public void startServices(Function<String, PluginContext> contexts) {
        for (PluginWrapper p : manager.getStartedPlugins()) {
            String id = p.getPluginId();
            List<PluginService> started = new ArrayList<>();
            try {
                for (PluginService service : manager.getExtensions(PluginService.class, id)) {
                    service.start(contexts.apply(id));
                    started.add(service);
                }
                runningServices.addAll(started);
            } catch (Exception | LinkageError e) {
                log.error("event=plugin_start_failed plugin_id={} error=\"{}\"; running without this plugin", id, e.toString());
                failedToStart.add(id);
                started.forEach(PluginHost::stopQuietly);
            }
        }
    }

    /** Extensions of {@code type} from started plugins; one that cannot be created is skipped. */
    public <T> List<T> extensions(Class<T> type) {
        List<T> found = new ArrayList<>();
        for (PluginWrapper p : manager.getStartedPlugins()) {
            if (failedToStart.contains(p.getPluginId())) {
                continue;
            }
            try {
                found.addAll(manager.getExtensions(type, p.getPluginId()));
            } catch (RuntimeException | LinkageError e) {
                log.error("event=extension_failed plugin_id={} type={} error=\"{}\"", p.getPluginId(), type.getSimpleName(), e.toString());
            }
        }
        return found;
    }

    /** The id of the plugin an extension instance comes from (for its settings section), or null. */
    public String pluginIdOf(Object extension) {
        PluginWrapper p = manager.whichPlugin(extension.getClass());
        return p == null ? null : p.getPluginId();
    }

    public List<String> startedPluginIds() {
        return manager.getStartedPlugins().stream().map(PluginWrapper::getPluginId)
                .filter(id -> !failedToStart.contains(id)).toList();
    }

    /** Plugins that were found but are not in use: PF4J could not start them, or their services failed. */
    public List<String> notStartedPluginIds() {
        List<String> ids = new ArrayList<>(manager.getPlugins().stream().filter(p -> p.getPluginState() != PluginState.STARTED)
                .map(PluginWrapper::getPluginId).toList());
        ids.addAll(failedToStart);
        return ids;
    }

    private static void stopQuietly(PluginService service) {
        try {
            service.stop();
        } catch (RuntimeException | LinkageError e) {
            log.warn("event=plugin_stop_failed service={} error=\"{}\"", service.getClass().getName(), e.toString());
        }
    }

    /**
     * Tells every running service the configuration was reloaded; one that refuses keeps its
     * settings. False when any refused.
     */
    public boolean reloadServices() {
        boolean all = true;
        for (PluginService service : runningServices) {
            try {
                service.reload();
            } catch (RuntimeException | LinkageError e) {
                all = false;
                log.error("event=plugin_reload_failed service={} error=\"{}\"; its running settings stay",
                        service.getClass().getName(), String.valueOf(e.getMessage()).replace('"', '\''));
            }
        }
        return all;
    }

    /** Stops the running services, last started first. Called before Vert.x closes, which they use. */
    public void stopServices() {
        for (int i = runningServices.size() - 1; i >= 0; i--) {
            stopQuietly(runningServices.get(i));
        }
        runningServices.clear();
    }

    @Override
    public void close() {
        stopServices();
        manager.stopPlugins();
        manager.unloadPlugins();
    }
}
