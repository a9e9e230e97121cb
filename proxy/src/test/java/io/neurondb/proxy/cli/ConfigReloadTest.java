package io.neurondb.proxy.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import io.neurondb.proxy.config.ConfigLoader;
import io.neurondb.proxy.logging.LogFormat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** log_level and log_format re-read from the file: by a call, and by SIGHUP to this JVM. */
class ConfigReloadTest {

    @TempDir
    Path dir;
    private Level before;

    private static Logger root() {
        return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    }

    @BeforeEach
    void remember() {
        assumeTrue(System.getenv("NEURONDB_LOG_LEVEL") == null, "NEURONDB_LOG_LEVEL pins the level");
        before = root().getLevel();
    }

    @AfterEach
    void restore() {
        if (before != null) {
            root().setLevel(before);
        }
        LogFormat.set(LogFormat.TEXT);
    }

    private Path config(String yaml) throws Exception {
        Path file = dir.resolve("neurondb.yaml");
        Files.writeString(file, yaml);
        return file;
    }

    @Test
    void reloadAppliesLevelAndFormatAndKeepsThemWhenTheFileIsBroken() throws Exception {
        Path file = config("log_level: error\nlog_format: json\n");
        ConfigReload reload = new ConfigReload(new ConfigLoader(Map.of(), dir), file);
        assertThat(reload.reload()).isTrue();
        assertThat(root().getLevel()).isEqualTo(Level.ERROR);
        assertThat(LogFormat.current()).isEqualTo(LogFormat.JSON);

        config("log_level: loud\n");
        assertThat(reload.reload()).isFalse();
        assertThat(root().getLevel()).isEqualTo(Level.ERROR);
        assertThat(LogFormat.current()).isEqualTo(LogFormat.JSON);

        config("log_level: warning\n");
        assertThat(reload.reload()).isTrue();
        assertThat(root().getLevel()).isEqualTo(Level.WARN);
        assertThat(LogFormat.current()).isEqualTo(LogFormat.TEXT);
    }

    @Test
    void sighupReloads() throws Exception {
        Path file = config("log_level: debug\n");
        ConfigReload reload = new ConfigReload(new ConfigLoader(Map.of(), dir), file);
        assumeTrue(reload.installOnSighup(), "SIGHUP cannot be handled in this JVM");
        Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(ProcessHandle.current().pid())).inheritIO().start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(kill.exitValue()).isZero();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (root().getLevel() != Level.DEBUG && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(root().getLevel()).isEqualTo(Level.DEBUG);
    }
}
