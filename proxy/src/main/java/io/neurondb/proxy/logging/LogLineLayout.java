package io.neurondb.proxy.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.StackTraceElementProxy;
import ch.qos.logback.core.LayoutBase;

import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

/**
 * One line per event, whatever the event holds (a message with newlines, a stack trace):
 * {@code text} is {@code <time> level=... logger=... thread=... <message>} with the message's
 * own {@code key=value} pairs (the house style: {@code conn=12 event=session_ready ...}), and
 * {@code json} is one object with {@code ts}, {@code level}, {@code logger}, {@code thread}
 * and each of the message's pairs as a field ({@code "conn":12}); a message that is not
 * all pairs is kept whole in {@code msg}. A throwable goes into {@code exception} and
 * {@code stack}. Which one is {@link LogFormat#current()}, so it can change at a reload.
 */
public final class LogLineLayout extends LayoutBase<ILoggingEvent> {

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSXXX")
            .withZone(ZoneId.systemDefault());
    private static final List<String> RESERVED = List.of("ts", "level", "logger", "thread", "msg", "exception", "stack");

    @Override
    public String doLayout(ILoggingEvent event) {
        return LogFormat.current() == LogFormat.JSON ? json(event) : text(event);
    }

    private static String text(ILoggingEvent e) {
        StringBuilder b = new StringBuilder(160);
        b.append(TIME.format(Instant.ofEpochMilli(e.getTimeStamp())))
                .append(" level=").append(e.getLevel())
                .append(" logger=").append(shortName(e.getLoggerName()))
                .append(" thread=").append(e.getThreadName())
                .append(' ');
        escapeLineBreaks(b, e.getFormattedMessage());
        IThrowableProxy t = e.getThrowableProxy();
        if (t != null) {
            b.append(" exception=\"");
            escapeLineBreaks(b, (t.getClassName() + ": " + t.getMessage()).replace('"', '\''));
            b.append("\" stack=\"");
            escapeLineBreaks(b, stack(t).replace('"', '\''));
            b.append('"');
        }
        return b.append(System.lineSeparator()).toString();
    }

    private static String json(ILoggingEvent e) {
        StringBuilder b = new StringBuilder(200).append('{');
        field(b, "ts", TIME.format(Instant.ofEpochMilli(e.getTimeStamp())));
        field(b, "level", e.getLevel().toString());
        field(b, "logger", e.getLoggerName());
        field(b, "thread", e.getThreadName());
        String message = e.getFormattedMessage();
        List<String[]> pairs = pairs(message);
        if (pairs == null) {
            field(b, "msg", message);
        } else {
            for (String[] p : pairs) {
                String key = RESERVED.contains(p[0]) ? "msg_" + p[0] : p[0];
                if (p[1].matches("-?[0-9]{1,18}")) {
                    b.append(',');
                    string(b, key);
                    b.append(':').append(p[1]);
                } else {
                    field(b, key, p[1]);
                }
            }
        }
        IThrowableProxy t = e.getThrowableProxy();
        if (t != null) {
            field(b, "exception", t.getClassName() + ": " + t.getMessage());
            field(b, "stack", stack(t));
        }
        return b.append('}').append(System.lineSeparator()).toString();
    }

    /**
     * The message as {@code key=value} pairs (a value may be {@code "quoted"}), or null when
     * it is not only pairs.
     */
    static List<String[]> pairs(String message) {
        if (message == null || message.isBlank()) {
            return null;
        }
        List<String[]> out = new ArrayList<>();
        int n = message.length();
        int i = 0;
        while (i < n) {
            while (i < n && message.charAt(i) == ' ') {
                i++;
            }
            if (i >= n) {
                break;
            }
            int keyStart = i;
            while (i < n && isKeyChar(message.charAt(i))) {
                i++;
            }
            if (i == keyStart || i >= n || message.charAt(i) != '=') {
                return null;
            }
            String key = message.substring(keyStart, i);
            i++;
            String value;
            if (i < n && message.charAt(i) == '"') {
                // Up to the quote that ends the value: one followed by a space or the end.
                int close = i + 1;
                while (true) {
                    close = message.indexOf('"', close);
                    if (close < 0) {
                        return null;
                    }
                    if (close + 1 == n || message.charAt(close + 1) == ' ') {
                        break;
                    }
                    close++;
                }
                value = message.substring(i + 1, close);
                i = close + 1;
            } else {
                int end = message.indexOf(' ', i);
                end = end < 0 ? n : end;
                value = message.substring(i, end);
                i = end;
            }
            out.add(new String[]{key, value});
        }
        return out.isEmpty() ? null : out;
    }

    private static boolean isKeyChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    }

    private static String stack(IThrowableProxy t) {
        StringBuilder b = new StringBuilder();
        for (IThrowableProxy cause = t; cause != null; cause = cause.getCause()) {
            if (cause != t) {
                b.append("Caused by: ").append(cause.getClassName()).append(": ").append(cause.getMessage()).append('\n');
            }
            for (StackTraceElementProxy frame : cause.getStackTraceElementProxyArray()) {
                b.append("\tat ").append(frame.getStackTraceElement()).append('\n');
            }
        }
        return b.toString().strip();
    }

    private static String shortName(String logger) {
        int dot = logger.lastIndexOf('.');
        return dot < 0 ? logger : logger.substring(dot + 1);
    }

    private static void escapeLineBreaks(StringBuilder b, String s) {
        if (s == null) {
            b.append("null");
            return;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> b.append(c);
            }
        }
    }

    private static void field(StringBuilder b, String key, String value) {
        if (b.length() > 1) {
            b.append(',');
        }
        string(b, key);
        b.append(':');
        if (value == null) {
            b.append("null");
        } else {
            string(b, value);
        }
    }

    private static void string(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }
}
