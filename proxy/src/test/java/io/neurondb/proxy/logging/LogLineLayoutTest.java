package io.neurondb.proxy.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The proxy's own logback.xml with each log_format: one line per event, JSON that parses. */
class LogLineLayoutTest {

    @AfterEach
    void restore() {
        LogFormat.set(LogFormat.TEXT);
    }

    /** Lines the proxy's logback.xml writes for what {@code logging} logs, with System.err captured. */
    private static List<String> logged(java.util.function.Consumer<Logger> logging) throws Exception {
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        LoggerContext context = new LoggerContext();
        context.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
        try {
            JoranConfigurator config = new JoranConfigurator();
            config.setContext(context);
            config.doConfigure(LogLineLayoutTest.class.getResource("/logback.xml"));
            Logger logger = context.getLogger("io.neurondb.proxy.session.ClientSession");
            logger.setLevel(Level.DEBUG);
            logging.accept(logger);
        } finally {
            context.stop();
            System.setErr(err);
        }
        return captured.toString(StandardCharsets.UTF_8).lines().toList();
    }

    @Test
    void jsonLinesParseWithTheMessagesPairsAsFields() throws Exception {
        LogFormat.set(LogFormat.JSON);
        List<String> lines = logged(log -> {
            log.info("conn={} event=session_ready user={} database={} client={}", 12, "ann", "shop", "/127.0.0.1:5000");
            log.warn("conn={} event=upstream_connect_failed error=\"{}\"", 3, "refused \"quoted\"\nsecond line");
            log.info("not a key=value message: {}", "free text");
            log.error("event=vector_command_failed", new IllegalStateException("boom", new RuntimeException("root")));
        });
        assertThat(lines).hasSize(4);
        JsonObject ready = new JsonObject(lines.get(0));
        assertThat(ready.getString("level")).isEqualTo("INFO");
        assertThat(ready.getString("logger")).isEqualTo("io.neurondb.proxy.session.ClientSession");
        assertThat(ready.getString("ts")).isNotBlank();
        assertThat(ready.getString("thread")).isNotBlank();
        assertThat(ready.getLong("conn")).isEqualTo(12L);
        assertThat(ready.getString("event")).isEqualTo("session_ready");
        assertThat(ready.getString("user")).isEqualTo("ann");
        assertThat(ready.getString("client")).isEqualTo("/127.0.0.1:5000");
        assertThat(ready.containsKey("msg")).isFalse();

        JsonObject failed = new JsonObject(lines.get(1));
        assertThat(failed.getLong("conn")).isEqualTo(3L);
        assertThat(failed.getString("error")).isEqualTo("refused \"quoted\"\nsecond line");

        JsonObject free = new JsonObject(lines.get(2));
        assertThat(free.getString("msg")).isEqualTo("not a key=value message: free text");

        JsonObject error = new JsonObject(lines.get(3));
        assertThat(error.getString("event")).isEqualTo("vector_command_failed");
        assertThat(error.getString("exception")).isEqualTo("java.lang.IllegalStateException: boom");
        assertThat(error.getString("stack")).contains("LogLineLayoutTest").contains("Caused by: java.lang.RuntimeException: root");
    }

    @Test
    void textLinesAreKeyValueAndOneLineEvenWithStackTraces() throws Exception {
        List<String> lines = logged(log -> {
            log.info("conn={} event=session_ready user={}", 12, "ann");
            log.warn("conn={} event=x error=\"{}\"", 3, "a\nb");
            log.error("event=vector_command_failed", new IllegalStateException("boom"));
        });
        assertThat(lines).hasSize(3);
        assertThat(lines.get(0)).matches("\\S+ level=INFO logger=ClientSession thread=\\S+ conn=12 event=session_ready user=ann");
        assertThat(lines.get(1)).endsWith("error=\"a\\nb\"");
        assertThat(lines.get(2)).contains("event=vector_command_failed exception=\"java.lang.IllegalStateException: boom\" stack=\"at ");
        assertThat(LogLineLayout.pairs(lines.get(0).substring(lines.get(0).indexOf(' ') + 1)))
                .extracting(p -> p[0]).containsExactly("level", "logger", "thread", "conn", "event", "user");
    }

    @Test
    void formatFollowsTheSetting() {
        LogFormat.set(LogFormat.parse("json"));
        assertThat(LogFormat.current()).isEqualTo(LogFormat.JSON);
        LogFormat.set(LogFormat.parse(" TEXT "));
        assertThat(LogFormat.current()).isEqualTo(LogFormat.TEXT);
    }
}
