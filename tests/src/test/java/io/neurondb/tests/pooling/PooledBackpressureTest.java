package io.neurondb.tests.pooling;

import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.tests.support.ProxyUnderTest;
import io.neurondb.tests.support.RawPg;
import io.neurondb.tests.support.TestPostgres;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.DataInputStream;
import java.net.Socket;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Backpressure on a pooled server connection that has already served other clients: the
 * watcher that sees a channel drain stays on the server connection for its life and follows
 * whichever session holds it, so it must hold back the server for the current holder and let
 * the next holder read normally once the result is taken.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PooledBackpressureTest {

    @Test
    void aSlowClientStallsItsPooledServerConnectionAndTheNextClientRunsNormally() throws Exception {
        LocalPostgres pg = TestPostgres.shared();
        try (ProxyUnderTest proxy = PooledProxy.start(pg, "    auth_type: trust\n    pool_mode: transaction\n    default_pool_size: 1\n")) {
            int serverPid;
            try (Connection first = client(proxy)) {
                serverPid = pid(first); // the pool's one connection, now lent and returned once
            }
            try (Socket s = new Socket("127.0.0.1", proxy.port())) {
                s.setReceiveBufferSize(64 * 1024);
                DataInputStream in = new DataInputStream(s.getInputStream());
                s.getOutputStream().write(RawPg.startupPacket(Map.of("user", "postgres", "database", "postgres")));
                assertThat(RawPg.readTypesUntilReady(in)).endsWith('Z');
                // About 200 MB of rows that the client does not read for a while.
                s.getOutputStream().write(RawPg.query("SELECT repeat('x', 2000) FROM generate_series(1, 100000) AS pooled_backpressure_probe"));
                Thread.sleep(2000);
                int blockedOnClient = 0;
                int samples = 30;
                for (int sample = 0; sample < samples; sample++) {
                    String activity = activityOf(pg, serverPid);
                    assertThat(activity).as("sample %d: the query must still be running, held back by the client", sample)
                            .startsWith("active/");
                    if (activity.equals("active/ClientWrite")) {
                        blockedOnClient++;
                    }
                    Thread.sleep(100);
                }
                assertThat(blockedOnClient).as("samples with the server blocked writing to the proxy").isGreaterThan(samples / 2);
                List<Character> types = RawPg.readTypesUntilReady(in);
                assertThat(types).as("the whole result arrives once the client reads").endsWith('C', 'Z');
                assertThat(types.stream().filter(t -> t == 'D').count()).isEqualTo(100_000);
            }
            try (Connection next = client(proxy)) {
                assertThat(pid(next)).as("the same server connection, reading normally again").isEqualTo(serverPid);
                try (Statement st = next.createStatement(); ResultSet r = st.executeQuery("SELECT count(*) FROM generate_series(1, 50000)")) {
                    assertThat(r.next()).isTrue();
                    assertThat(r.getLong(1)).isEqualTo(50_000);
                }
            }
        }
    }

    private static Connection client(ProxyUnderTest proxy) throws Exception {
        return PooledProxy.connect(proxy, "postgres", "postgres", "postgres", new Properties());
    }

    private static int pid(Connection c) throws Exception {
        try (Statement st = c.createStatement(); ResultSet r = st.executeQuery("SELECT pg_backend_pid()")) {
            r.next();
            return r.getInt(1);
        }
    }

    private static String activityOf(LocalPostgres pg, int pid) throws Exception {
        try (Connection c = TestPostgres.superuser(pg); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT state || '/' || coalesce(wait_event, '') FROM pg_stat_activity WHERE pid = " + pid)) {
            return rs.next() ? rs.getString(1) : "gone";
        }
    }
}
