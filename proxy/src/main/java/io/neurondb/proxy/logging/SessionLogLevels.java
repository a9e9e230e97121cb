package io.neurondb.proxy.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import org.slf4j.LoggerFactory;
import org.slf4j.Marker;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * {@code SET neurondb.log_level} per session: each session registers how to read its current
 * level, and a logback turbo filter applies it to the proxy's lines about that session (those
 * that start {@code conn={}} with the session's connection id as first argument):
 * <ul>
 *   <li>{@code debug}: the session's DEBUG lines are written even when the proxy logs at INFO,
 *       so one client can be traced without raising the whole proxy's level;</li>
 *   <li>{@code info}: the session's DEBUG lines are left out, also when the proxy logs at DEBUG;</li>
 *   <li>{@code warning} / {@code error}: the session's lines below WARN / ERROR are left out;</li>
 *   <li>not set (every session's default, and after RESET; the supplier gives null): the
 *       proxy's level applies unchanged.</li>
 * </ul>
 * Lines about no session, and TRACE lines, are never changed. Sessions register at their first
 * {@code SET neurondb.log_level}; while none has, the filter costs one emptiness check per
 * logging call (it runs for every call, even below the proxy's level), else a string prefix
 * check and a map lookup for session lines.
 */
public final class SessionLogLevels {

    private static final Map<Long, Supplier<String>> SESSIONS = new ConcurrentHashMap<>();
    private static final String SESSION_LINE = "conn={}";
    private static volatile boolean installed;

    private SessionLogLevels() {
    }

    /** From now until {@link #unregister}, lines about {@code connectionId} follow {@code level} (read at each line). */
    public static void register(long connectionId, Supplier<String> level) {
        install();
        SESSIONS.put(connectionId, level);
    }

    public static void unregister(long connectionId) {
        SESSIONS.remove(connectionId);
    }

    /**
     * Whether a DEBUG line about session {@code connectionId} may be written: a cheap guard for
     * lines logged on every transaction, which would otherwise box their arguments for nothing.
     */
    public static boolean debugEnabled(org.slf4j.Logger log, long connectionId) {
        return log.isDebugEnabled() || (!SESSIONS.isEmpty() && SESSIONS.containsKey(connectionId));
    }

    /** Adds the filter to logback once (a no-op with another SLF4J binding); also re-added after a logback reset. */
    static void install() {
        if (installed && present()) {
            return;
        }
        synchronized (SessionLogLevels.class) {
            if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context && !present(context)) {
                Filter f = new Filter();
                f.setName(Filter.NAME);
                f.start();
                context.addTurboFilter(f);
            }
            installed = true;
        }
    }

    private static boolean present() {
        return !(LoggerFactory.getILoggerFactory() instanceof LoggerContext context) || present(context);
    }

    private static boolean present(LoggerContext context) {
        return context.getTurboFilterList().stream().anyMatch(t -> Filter.NAME.equals(t.getName()));
    }

    /** What the filter decides for one line; package-private for tests. */
    static FilterReply decide(Level level, String format, Object[] params) {
        if (SESSIONS.isEmpty() || format == null || params == null || params.length == 0 || !format.startsWith(SESSION_LINE)
                || !(params[0] instanceof Long id) || level.levelInt < Level.DEBUG_INT) {
            return FilterReply.NEUTRAL;
        }
        Supplier<String> session = SESSIONS.get(id);
        String setting = session == null ? null : session.get();
        if (setting == null) {
            return FilterReply.NEUTRAL;
        }
        return switch (setting) {
            case "debug" -> FilterReply.ACCEPT;
            case "info" -> level.levelInt < Level.INFO_INT ? FilterReply.DENY : FilterReply.NEUTRAL;
            case "warning" -> level.levelInt < Level.WARN_INT ? FilterReply.DENY : FilterReply.NEUTRAL;
            case "error" -> level.levelInt < Level.ERROR_INT ? FilterReply.DENY : FilterReply.NEUTRAL;
            default -> FilterReply.NEUTRAL;
        };
    }

    /** The turbo filter; it runs before logback's level check, so it can let a DEBUG line through. */
    static final class Filter extends TurboFilter {

        static final String NAME = "neurondb-session-log-level";

        @Override
        public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
            return SessionLogLevels.decide(level, format, params);
        }
    }
}
