package io.neurondb.tests.passthrough;

import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.tests.support.ProxyUnderTest;
import io.neurondb.tests.support.TestPostgres;
import io.neurondb.tests.support.Tool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** psql and pgbench, the operator's own tools, through the proxy. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ClientToolsTest {

    private LocalPostgres pg;
    private ProxyUnderTest proxy;
    private Map<String, String> env;

    @BeforeAll
    void start() {
        pg = TestPostgres.shared();
        proxy = ProxyUnderTest.start(pg);
        env = Map.of("PGHOST", "127.0.0.1", "PGPORT", String.valueOf(proxy.port()), "PGUSER", "postgres",
                "PGPASSWORD", "postgres", "PGDATABASE", "postgres", "PGSSLMODE", "prefer", "PGCONNECT_TIMEOUT", "10");
    }

    @AfterAll
    void stop() {
        proxy.close();
    }

    @Test
    void psqlScriptWithCopyAndMetaCommands() throws Exception {
        String script = """
                \\set ON_ERROR_STOP on
                DROP TABLE IF EXISTS psql_items;
                CREATE TABLE psql_items(id int primary key, label text);
                COPY psql_items FROM STDIN WITH (FORMAT csv);
                1,one
                2,two
                3,"three, with comma"
                \\.
                \\d psql_items
                SELECT label FROM psql_items ORDER BY id;
                \\copy (SELECT id FROM psql_items ORDER BY id) TO STDOUT
                """;
        Tool.Result r = Tool.run(pg.binDir(), "psql", env, script, List.of("-X", "-q", "-A", "-t"));
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).contains("three, with comma").contains("id|integer").contains("1\n2\n3");
    }

    @Test
    void psqlReportsServerErrorsWithExitCode() throws Exception {
        Tool.Result r = Tool.run(pg.binDir(), "psql", env, null, List.of("-X", "-v", "ON_ERROR_STOP=1", "-c", "SELECT 1/0"));
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.output()).contains("division by zero");
    }

    @Test
    void pgbenchInitSelectOnlyAndTpcbWithoutErrors() throws Exception {
        Tool.Result init = Tool.run(pg.binDir(), "pgbench", env, null, List.of("-i", "-s", "1", "-q"));
        assertThat(init.exitCode()).as(init.output()).isZero();

        for (String mode : List.of("simple", "extended", "prepared")) {
            Tool.Result selectOnly = pgbench("-S", "-M", mode, "-c", "8", "-j", "2", "-T", "3");
            assertThat(selectOnly.exitCode()).as(selectOnly.output()).isZero();
            assertThat(failedTransactions(selectOnly.output())).isZero();
            assertThat(processedTransactions(selectOnly.output())).isPositive();
        }

        long historyBefore = count("pgbench_history");
        Tool.Result tpcb = pgbench("-M", "prepared", "-c", "8", "-j", "2", "-T", "5");
        assertThat(tpcb.exitCode()).as(tpcb.output()).isZero();
        assertThat(failedTransactions(tpcb.output())).isZero();
        long processed = processedTransactions(tpcb.output());
        assertThat(processed).isPositive();
        // Every TPC-B transaction inserts one history row: the writes really happened.
        assertThat(count("pgbench_history") - historyBefore).isEqualTo(processed);
    }

    private Tool.Result pgbench(String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of(args));
        all.add("-n");
        return Tool.run(pg.binDir(), "pgbench", env, null, all);
    }

    private long count(String table) throws Exception {
        try (Connection c = TestPostgres.superuser(pg); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM " + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static long failedTransactions(String out) {
        Matcher m = Pattern.compile("number of failed transactions: (\\d+)").matcher(out);
        assertThat(m.find()).as("pgbench output has a failed-transactions line:\n" + out).isTrue();
        return Long.parseLong(m.group(1));
    }

    private static long processedTransactions(String out) {
        Matcher m = Pattern.compile("number of transactions actually processed: (\\d+)").matcher(out);
        assertThat(m.find()).as(out).isTrue();
        return Long.parseLong(m.group(1));
    }
}
