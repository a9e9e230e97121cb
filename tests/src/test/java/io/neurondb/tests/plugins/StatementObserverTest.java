package io.neurondb.tests.plugins;

import io.neurondb.plugin.api.StatementEvent;
import io.neurondb.plugin.api.StatementEvent.Protocol;
import io.neurondb.tests.support.ProxyUnderTest;
import io.neurondb.tests.support.TestPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The statement-observer extension point sees every statement with its timing and outcome. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class StatementObserverTest {

    private final List<StatementEvent> events = new CopyOnWriteArrayList<>();
    private ProxyUnderTest proxy;

    @BeforeAll
    void start() {
        proxy = ProxyUnderTest.start(TestPostgres.shared().port(), "", List.of(events::add));
    }

    @AfterAll
    void stop() {
        proxy.close();
    }

    @BeforeEach
    void clear() {
        events.clear();
    }

    @Test
    void simpleProtocolStatementsWithTimingRowsAndErrors() throws Exception {
        Properties simple = new Properties();
        simple.setProperty("preferQueryMode", "simple");
        try (Connection c = proxy.connect("trust_user", null, simple); Statement s = c.createStatement()) {
            s.execute("SELECT pg_sleep(0.2), 'observed_simple'");
            assertThatThrownBy(() -> s.execute("SELECT 1/0 AS observed_error")).isInstanceOf(java.sql.SQLException.class);
        }
        StatementEvent slow = awaitEvent("observed_simple");
        assertThat(slow.protocol()).isEqualTo(Protocol.SIMPLE);
        assertThat(slow.succeeded()).isTrue();
        assertThat(slow.rows()).isEqualTo(1);
        assertThat(slow.durationMillis()).isGreaterThanOrEqualTo(200).isLessThan(5000);
        assertThat(slow.user()).isEqualTo("trust_user");
        assertThat(slow.database()).isEqualTo("postgres");
        assertThat(slow.clientAddress()).contains("127.0.0.1");

        StatementEvent failed = awaitEvent("observed_error");
        assertThat(failed.sqlState()).isEqualTo("22012");
        assertThat(failed.succeeded()).isFalse();
    }

    @Test
    void extendedProtocolPipelineIsMatchedStatementByStatement() throws Exception {
        try (Connection c = proxy.connect("trust_user", null)) {
            try (Statement s = c.createStatement()) {
                s.execute("DROP TABLE IF EXISTS observed_batch; CREATE TABLE observed_batch(id int primary key)");
            }
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO observed_batch VALUES (?)")) {
                for (int i = 0; i < 5; i++) {
                    ps.setInt(1, i);
                    ps.addBatch();
                }
                ps.setInt(1, 2); // duplicate key: the fifth Execute of the pipeline fails
                ps.addBatch();
                assertThatThrownBy(ps::executeBatch).isInstanceOf(java.sql.BatchUpdateException.class);
            }
            c.rollback();
            try (PreparedStatement ps = c.prepareStatement("SELECT id FROM observed_batch WHERE id < ?")) {
                ps.setInt(1, 100);
                try (ResultSet rs = ps.executeQuery()) {
                    assertThat(rs.next()).isFalse();
                }
            }
        }
        awaitEvent("SELECT id FROM observed_batch");
        List<StatementEvent> inserts = events.stream().filter(e -> e.sql().startsWith("INSERT INTO observed_batch")).toList();
        assertThat(inserts).allMatch(e -> e.protocol() == Protocol.EXTENDED);
        assertThat(inserts).filteredOn(StatementEvent::succeeded).hasSize(5).allMatch(e -> e.rows() == 1);
        assertThat(inserts).filteredOn(e -> !e.succeeded()).singleElement()
                .satisfies(e -> assertThat(e.sqlState()).isEqualTo("23505"));
        assertThat(inserts.stream().map(StatementEvent::sql)).allMatch(sql -> sql.equals("INSERT INTO observed_batch VALUES ($1)"));
    }

    private StatementEvent awaitEvent(String sqlFragment) throws InterruptedException {
        for (int i = 0; i < 100; i++) {
            for (StatementEvent e : events) {
                if (e.sql().contains(sqlFragment)) {
                    return e;
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no event for " + sqlFragment + " among " + events);
    }
}
