package io.neurondb.proxy.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import ch.qos.logback.core.spi.FilterReply;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code SET neurondb.log_level} per session, through the real logback context of the JVM: a
 * logger at INFO writes a debug session's DEBUG lines, leaves out a quiet session's lower
 * lines, and leaves other sessions' and session-less lines to its own level.
 */
class SessionLogLevelsTest {

    private static final long DEBUG_CONN = 900_001L;
    private static final long WARNING_CONN = 900_002L;
    private static final long ERROR_CONN = 900_003L;
    private static final long DEFAULT_CONN = 900_004L;

    private Logger logger;
    private ListAppender<ILoggingEvent> lines;
    /** Null: the session never set neurondb.log_level (or RESET it). */
    private final AtomicReference<String> changing = new AtomicReference<>();

    @BeforeEach
    void setUp() {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        logger = context.getLogger("io.neurondb.proxy.logging.SessionLogLevelsTest.sample");
        logger.setLevel(Level.INFO);
        logger.setAdditive(false);
        lines = new ListAppender<>();
        lines.setContext(context);
        lines.start();
        logger.addAppender(lines);
        SessionLogLevels.register(DEBUG_CONN, () -> "debug");
        SessionLogLevels.register(WARNING_CONN, () -> "warning");
        SessionLogLevels.register(ERROR_CONN, () -> "error");
        SessionLogLevels.register(DEFAULT_CONN, changing::get);
    }

    @AfterEach
    void tearDown() {
        logger.detachAppender(lines);
        for (long c : new long[]{DEBUG_CONN, WARNING_CONN, ERROR_CONN, DEFAULT_CONN}) {
            SessionLogLevels.unregister(c);
        }
    }

    private List<String> messages() {
        return lines.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }

    private void logAllLevels(long conn) {
        logger.trace("conn={} event=t", conn);
        logger.debug("conn={} event=d", conn);
        logger.info("conn={} event=i", conn);
        logger.warn("conn={} event=w", conn);
        logger.error("conn={} event=e", conn);
    }

    @Test
    void eachSessionGetsItsOwnDetail() {
        logAllLevels(DEBUG_CONN);
        logAllLevels(WARNING_CONN);
        logAllLevels(ERROR_CONN);
        logAllLevels(DEFAULT_CONN);
        logAllLevels(123L); // not a registered session
        logger.debug("event=no_session");
        logger.info("event=no_session");

        assertThat(messages()).containsExactly(
                "conn=900001 event=d", "conn=900001 event=i", "conn=900001 event=w", "conn=900001 event=e",
                "conn=900002 event=w", "conn=900002 event=e",
                "conn=900003 event=e",
                "conn=900004 event=i", "conn=900004 event=w", "conn=900004 event=e",
                "conn=123 event=i", "conn=123 event=w", "conn=123 event=e",
                "event=no_session");
    }

    @Test
    void theLevelIsReadAtEachLineAndEndsWithTheSession() {
        logger.debug("conn={} event=before", DEFAULT_CONN);
        changing.set("debug"); // SET neurondb.log_level = debug
        logger.debug("conn={} event=during", DEFAULT_CONN);
        changing.set(null); // RESET
        logger.debug("conn={} event=after", DEFAULT_CONN);
        SessionLogLevels.unregister(DEBUG_CONN);
        logger.debug("conn={} event=closed", DEBUG_CONN);
        assertThat(messages()).containsExactly("conn=900004 event=during");
    }

    @Test
    void anExplicitInfoQuietsTheSessionUnderAProxyAtDebugWhileTheDefaultDoesNot() {
        logger.setLevel(Level.DEBUG);
        changing.set("info"); // SET neurondb.log_level = info
        logger.debug("conn={} event=set_info", DEFAULT_CONN);
        logger.info("conn={} event=set_info", DEFAULT_CONN);
        changing.set(null); // RESET: the proxy's level again
        logger.debug("conn={} event=reset", DEFAULT_CONN);
        logger.debug("conn={} event=other_session", 123L);
        assertThat(messages()).containsExactly("conn=900004 event=set_info", "conn=900004 event=reset", "conn=123 event=other_session");
    }

    @Test
    void decisionsWithoutASession() {
        assertThat(SessionLogLevels.decide(Level.DEBUG, null, null)).isEqualTo(FilterReply.NEUTRAL);
        assertThat(SessionLogLevels.decide(Level.DEBUG, "conn={}", new Object[]{"not a number"})).isEqualTo(FilterReply.NEUTRAL);
        assertThat(SessionLogLevels.decide(Level.TRACE, "conn={}", new Object[]{DEBUG_CONN})).isEqualTo(FilterReply.NEUTRAL);
        assertThat(SessionLogLevels.decide(Level.DEBUG, "conn={}", new Object[]{DEBUG_CONN})).isEqualTo(FilterReply.ACCEPT);
        assertThat(SessionLogLevels.decide(Level.INFO, "conn={}", new Object[]{WARNING_CONN})).isEqualTo(FilterReply.DENY);
    }
}
