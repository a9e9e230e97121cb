package io.neurondb.proxy.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import org.slf4j.LoggerFactory;

/** Maps the config's PostgreSQL-style level names onto the logging backend. */
final class LogLevels {

    private LogLevels() {
    }

    /** {@code debug}, {@code info}, {@code warning} or {@code error}; checked by the config loader. */
    static void applyRootLevel(String level) {
        // NEURONDB_LOG_LEVEL, read by logback.xml, wins: it is how an operator raises the
        // level for one run without editing the config.
        if (System.getenv("NEURONDB_LOG_LEVEL") != null) {
            return;
        }
        Level mapped = switch (level) {
            case "debug" -> Level.DEBUG;
            case "warning" -> Level.WARN;
            case "error" -> Level.ERROR;
            default -> Level.INFO;
        };
        if (LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME) instanceof Logger root) {
            root.setLevel(mapped);
        }
    }
}
