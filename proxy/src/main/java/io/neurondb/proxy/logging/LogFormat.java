package io.neurondb.proxy.logging;

import java.util.Locale;

/**
 * How log lines are written, for the whole process: {@code text} (key=value) or {@code json}.
 * Starts from {@code NEURONDB_LOG_FORMAT} (so the first lines, written before the
 * configuration is read, already have the right form), then follows {@code log_format}.
 */
public enum LogFormat {
    TEXT, JSON;

    private static volatile LogFormat current = fromEnvironment();

    public static LogFormat current() {
        return current;
    }

    public static void set(LogFormat format) {
        current = format;
    }

    /** {@code text} or {@code json}, as the config loader checked it. */
    public static LogFormat parse(String name) {
        return valueOf(name.strip().toUpperCase(Locale.ROOT));
    }

    private static LogFormat fromEnvironment() {
        String env = System.getenv("NEURONDB_LOG_FORMAT");
        return env != null && env.strip().equalsIgnoreCase("json") ? JSON : TEXT;
    }
}
