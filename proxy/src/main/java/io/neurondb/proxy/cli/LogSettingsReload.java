package io.neurondb.proxy.cli;

import io.neurondb.proxy.config.ConfigException;
import io.neurondb.proxy.config.ConfigLoader;
import io.neurondb.proxy.config.ProxyConfig;
import io.neurondb.proxy.logging.LogFormat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;

/**
 * Re-reads the configuration file and applies what can change without a restart in the
 * logging: {@code log_level} and {@code log_format}. Triggered by SIGHUP ({@code kill -HUP
 * <pid>}, as PostgreSQL and PgBouncer reload; other reload actions register with
 * {@link Sighup} too). A file that no longer loads is reported and the running settings stay.
 */
public final class LogSettingsReload {

    private static final Logger log = LoggerFactory.getLogger(LogSettingsReload.class);

    private final ConfigLoader loader;
    private final Path file;

    public LogSettingsReload(ConfigLoader loader, Path file) {
        this.loader = loader;
        this.file = file;
    }

    /** Applies the configuration's logging settings now. */
    public static void apply(ProxyConfig config) {
        LogLevels.applyRootLevel(config.logLevel());
        LogFormat.set(LogFormat.parse(config.logFormat()));
    }

    /** Reloads; true when the file loaded and its settings now apply. */
    public boolean reload() {
        ProxyConfig config;
        try {
            config = loader.load(file);
        } catch (ConfigException e) {
            log.warn("event=log_settings_reload_failed file={} error=\"{}\"", file, e.getMessage().replace('"', '\''));
            return false;
        }
        // Said before the new level applies, so raising it to warning or error still shows the line.
        log.info("event=log_settings_reloaded file={} log_level={} log_format={}", file, config.logLevel(), config.logFormat());
        apply(config);
        return true;
    }

    /** Reloads on SIGHUP (see {@link Sighup}). False when the JVM does not let the signal be handled. */
    public boolean installOnSighup() {
        return Sighup.register(this::reload);
    }
}
