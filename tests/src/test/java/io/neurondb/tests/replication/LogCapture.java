package io.neurondb.tests.replication;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/** Collects what named loggers write (at INFO and above) while a test runs; the tests' logback config keeps them at WARN. */
final class LogCapture implements AutoCloseable {

    private final List<Logger> loggers = new ArrayList<>();
    private final List<Level> levels = new ArrayList<>();
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    static final String INDEX_SYNC = "io.neurondb.proxy.vectors.IndexSync";
    static final String ASSEMBLER = "io.neurondb.proxy.replication.TransactionAssembler";

    /** @param names logger names (the classes logging are not all public) */
    LogCapture(String... names) {
        appender.start();
        for (String name : names) {
            Logger l = (Logger) LoggerFactory.getLogger(name);
            loggers.add(l);
            levels.add(l.getLevel());
            l.setLevel(Level.INFO);
            l.addAppender(appender);
        }
    }

    /** The formatted lines logged at {@code level} that contain every one of {@code parts}. */
    List<String> lines(Level level, String... parts) {
        List<String> out = new ArrayList<>();
        synchronized (appender) {
            for (ILoggingEvent e : List.copyOf(appender.list)) {
                String m = e.getFormattedMessage();
                boolean all = e.getLevel().equals(level);
                for (String p : parts) {
                    all &= m.contains(p);
                }
                if (all) {
                    out.add(m);
                }
            }
        }
        return out;
    }

    boolean has(Level level, String... parts) {
        return !lines(level, parts).isEmpty();
    }

    @Override
    public void close() {
        for (int i = 0; i < loggers.size(); i++) {
            loggers.get(i).detachAppender(appender);
            loggers.get(i).setLevel(levels.get(i));
        }
        appender.stop();
    }
}
