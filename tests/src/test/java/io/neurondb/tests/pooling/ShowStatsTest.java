package io.neurondb.tests.pooling;

import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.tests.support.ProxyUnderTest;
import io.neurondb.tests.support.TestPostgres;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import static io.neurondb.tests.pooling.PooledProxy.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * SHOW STATS shows what went through the pool's server connections: a known workload moves
 * total_xact_count and total_query_count by exactly its transactions and statements, the byte
 * counters by at least the statements' text and a non-empty answer, and the avg_* columns show
 * the last stats_period (1 s here), then fall back to 0 once periods pass without work.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ShowStatsTest {

    private static LocalPostgres pg;

    @BeforeAll
    static void start() throws SQLException {
        pg = TestPostgres.shared();
        try (Connection c = TestPostgres.superuser(pg); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS show_stats_t");
            s.execute("CREATE TABLE show_stats_t (id int, note text)");
            s.execute("GRANT ALL ON show_stats_t TO scram_user");
        }
    }

    /** The SHOW STATS row of {@code database} as column name to number; empty when there is none. */
    private static Map<String, Long> statsRow(ProxyUnderTest proxy, String database) throws SQLException {
        Map<String, Long> row = new HashMap<>();
        try (Connection console = PooledProxy.console(proxy); Statement s = console.createStatement(); ResultSet r = s.executeQuery("SHOW STATS")) {
            while (r.next()) {
                if (r.getString("database").equals(database)) {
                    for (int i = 2; i <= r.getMetaData().getColumnCount(); i++) {
                        row.put(r.getMetaData().getColumnName(i), Long.parseLong(r.getString(i)));
                    }
                }
            }
        }
        return row;
    }

    private static long get(Map<String, Long> row, String column) {
        return row.getOrDefault(column, 0L);
    }

    /** pgjdbc sends no SET of its own at login when it may assume a 9.0+ server: only the test's statements run. */
    private static Properties quiet() {
        Properties p = new Properties();
        p.setProperty("assumeMinServerVersion", "15");
        return p;
    }

    @Test
    void transactionModeCountsAKnownWorkloadExactly() throws Exception {
        try (ProxyUnderTest proxy = PooledProxy.start(pg, "    auth_type: scram-sha-256\n    pool_mode: transaction\n    default_pool_size: 2\n"
                + "    stats_period: 1\n    server_check_query: ''\n")) {
            Map<String, Long> before = statsRow(proxy, "postgres");
            long sqlBytes = 0;
            try (Connection c = PooledProxy.connect(proxy, "postgres", "scram_user", "scrampass", quiet());
                 Statement s = c.createStatement()) {
                // 5 transactions of 2 statements, each statement sent on its own (autocommit on,
                // BEGIN and COMMIT explicit): 4 queries per transaction.
                for (int i = 0; i < 5; i++) {
                    String insert = "INSERT INTO show_stats_t VALUES (" + i + ", 'note number " + i + " of the stats workload')";
                    String select = "SELECT count(*), max(note) FROM show_stats_t";
                    s.execute("BEGIN");
                    s.execute(insert);
                    try (ResultSet r = s.executeQuery(select)) {
                        assertThat(r.next()).isTrue();
                    }
                    s.execute("COMMIT");
                    for (String sql : new String[]{"BEGIN", insert, select, "COMMIT"}) {
                        sqlBytes += sql.getBytes(StandardCharsets.UTF_8).length;
                    }
                }
            }
            long xacts = get(before, "total_xact_count") + 5;
            await("total_xact_count up by 5", () -> get(statsRow(proxy, "postgres"), "total_xact_count") >= xacts);
            Map<String, Long> after = statsRow(proxy, "postgres");
            assertThat(get(after, "total_xact_count") - get(before, "total_xact_count")).as("transactions").isEqualTo(5);
            assertThat(get(after, "total_query_count") - get(before, "total_query_count")).as("queries").isEqualTo(20);
            long received = get(after, "total_received") - get(before, "total_received");
            long sent = get(after, "total_sent") - get(before, "total_sent");
            assertThat(received).as("bytes the client sent through the pool").isGreaterThanOrEqualTo(sqlBytes);
            // Each answer carries at least a CommandComplete and a ReadyForQuery (6 + 6 bytes).
            assertThat(sent).as("bytes the server sent back").isGreaterThanOrEqualTo(20 * 12);
            long xactTime = get(after, "total_xact_time") - get(before, "total_xact_time");
            long queryTime = get(after, "total_query_time") - get(before, "total_query_time");
            assertThat(queryTime).as("query time, us").isPositive();
            assertThat(xactTime).as("a transaction's time includes its queries'").isGreaterThanOrEqualTo(queryTime - 20);
            assertThat(get(after, "total_wait_time")).isGreaterThanOrEqualTo(0);

            // The workload fell in one or two 1 s periods: some period shows it as rates and averages.
            long[] seen = new long[6];
            await("a stats period with the workload", () -> {
                Map<String, Long> r = statsRow(proxy, "postgres");
                seen[0] = Math.max(seen[0], get(r, "avg_xact_count"));
                seen[1] = Math.max(seen[1], get(r, "avg_query_count"));
                seen[2] = Math.max(seen[2], get(r, "avg_recv"));
                seen[3] = Math.max(seen[3], get(r, "avg_sent"));
                seen[4] = Math.max(seen[4], get(r, "avg_xact_time"));
                seen[5] = Math.max(seen[5], get(r, "avg_query_time"));
                return seen[0] > 0 && seen[1] > 0 && seen[2] > 0 && seen[3] > 0 && seen[4] > 0 && seen[5] > 0;
            });
            assertThat(seen[0]).as("avg_xact_count is per second: at most the 5 transactions").isLessThanOrEqualTo(5);
            assertThat(seen[1]).as("avg_query_count at most the 20 queries").isLessThanOrEqualTo(20);
            // With no work, a later period is all zeros again.
            await("avg_* back to 0 after a quiet period", () -> {
                Map<String, Long> r = statsRow(proxy, "postgres");
                return get(r, "avg_xact_count") == 0 && get(r, "avg_query_count") == 0 && get(r, "avg_recv") == 0
                        && get(r, "avg_sent") == 0 && get(r, "avg_xact_time") == 0 && get(r, "avg_query_time") == 0;
            });
            assertThat(get(statsRow(proxy, "postgres"), "total_xact_count")).as("totals stay").isEqualTo(get(after, "total_xact_count"));
        }
    }

    @Test
    void sessionModeReportsEachTransactionWhileTheClientStays() throws Exception {
        try (ProxyUnderTest proxy = PooledProxy.start(pg, "    auth_type: scram-sha-256\n    pool_mode: session\n    default_pool_size: 2\n"
                + "    server_check_query: ''\n");
             Connection c = PooledProxy.connect(proxy, "postgres", "scram_user", "scrampass", quiet());
             Statement s = c.createStatement()) {
            Map<String, Long> before = statsRow(proxy, "postgres");
            for (int i = 0; i < 3; i++) {
                try (ResultSet r = s.executeQuery("SELECT " + i)) {
                    assertThat(r.next()).isTrue();
                }
            }
            // The client still holds its server connection: the counts arrive per transaction.
            await("3 transactions counted", () -> get(statsRow(proxy, "postgres"), "total_xact_count") - get(before, "total_xact_count") >= 3);
            Map<String, Long> after = statsRow(proxy, "postgres");
            assertThat(get(after, "total_xact_count") - get(before, "total_xact_count")).isEqualTo(3);
            assertThat(get(after, "total_query_count") - get(before, "total_query_count")).isEqualTo(3);
            assertThat(get(after, "total_received") - get(before, "total_received")).isGreaterThanOrEqualTo(3 * "SELECT 0".length());
        }
    }
}
