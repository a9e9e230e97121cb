package io.neurondb.proxy.plugin;

import org.pf4j.DefaultPluginManager;
import org.pf4j.PluginManager;
import org.pf4j.PluginState;
import org.pf4j.PluginWrapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Loads the plugin JARs (or zips, or folders) in the plugins directory with PF4J at start.
 * A plugin that fails to load or start is logged and skipped; the proxy serves on without it.
 */
public final class PluginHost implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(PluginHost.class);

    private final PluginManager manager;

    private PluginHost(PluginManager manager) {
        this.manager = manager;
    }

    public static PluginHost load(Path pluginsDir) {
        try {
            Files.createDirectories(pluginsDir);
        } catch (IOException e) {
            log.error("event=plugins_dir_unusable dir={} error=\"{}\"; running without plugins", pluginsDir, e.getMessage());
        }
        PluginManager manager = new DefaultPluginManager(pluginsDir);
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

    /** Extensions of {@code type} from started plugins; one that cannot be created is skipped. */
    public <T> List<T> extensions(Class<T> type) {
        List<T> found = new ArrayList<>();
        for (PluginWrapper p : manager.getStartedPlugins()) {
            try {
                found.addAll(manager.getExtensions(type, p.getPluginId()));
            } catch (RuntimeException | LinkageError e) {
                log.error("event=extension_failed plugin_id={} type={} error=\"{}\"", p.getPluginId(), type.getSimpleName(), e.toString());
            }
        }
        return found;
    }

    public List<String> startedPluginIds() {
        return manager.getStartedPlugins().stream().map(PluginWrapper::getPluginId).toList();
    }

    /** Plugins that were found but did not start (FAILED, DISABLED, ...). */
    public List<String> notStartedPluginIds() {
        return manager.getPlugins().stream().filter(p -> p.getPluginState() != PluginState.STARTED)
                .map(PluginWrapper::getPluginId).toList();
    }

    @Override
    public void close() {
        manager.stopPlugins();
        manager.unloadPlugins();
    }
}
