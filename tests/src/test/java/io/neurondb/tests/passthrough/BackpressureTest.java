package io.neurondb.tests.passthrough;

import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.tests.support.ProxyUnderTest;
import io.neurondb.tests.support.RawPg;
import io.neurondb.tests.support.TestPostgres;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.DataInputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A client that asks for a huge result and stops reading must not make the proxy hold the
 * result: the proxy stops reading the server, so the server blocks on writing to it.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class BackpressureTest {

    @Test
    void slowClientStallsTheServerInsteadOfFillingTheProxy() throws Exception {
        LocalPostgres pg = TestPostgres.shared();
        try (ProxyUnderTest proxy = ProxyUnderTest.start(pg); Socket s = new Socket("127.0.0.1", proxy.port())) {
            s.setReceiveBufferSize(64 * 1024);
            DataInputStream in = new DataInputStream(s.getInputStream());
            s.getOutputStream().write(RawPg.startupPacket(Map.of("user", "trust_user", "database", "postgres")));
            assertThat(RawPg.readTypesUntilReady(in)).endsWith('Z');

            // About 200 MB of rows. Without backpressure the proxy reads it all from the server
            // within a second or two and holds it, and the query finishes; with it, the server
            // can send only what the buffers between it and the idle client hold (a few MB).
            String sql = "SELECT repeat('x', 2000) FROM generate_series(1, 100000) AS backpressure_probe";
            s.getOutputStream().write(RawPg.query(sql));

            Thread.sleep(2000);
            int blockedOnClient = 0;
            int samples = 40;
            for (int sample = 0; sample < samples; sample++) {
                String activity = activityOf(pg, "%backpressure_probe%");
                assertThat(activity).as("sample %d: the query must still be running, held back by the client", sample)
                        .startsWith("active/");
                if (activity.equals("active/ClientWrite")) {
                    blockedOnClient++;
                }
                Thread.sleep(100);
            }
            // Linux grows socket buffers while data waits, which lets the server run for a
            // moment now and then; most of the time it must be blocked writing.
            assertThat(blockedOnClient).as("samples with the server blocked writing to the proxy").isGreaterThan(samples / 2);
            long received = 0;
            s.setSoTimeout(100);
            try {
                byte[] buf = new byte[65536];
                for (int n; (n = in.read(buf)) > 0 && received < (4 << 20); ) {
                    received += n;
                }
            } catch (java.net.SocketTimeoutException e) {
                // nothing more buffered
            }
            assertThat(received).as("the client can still read its result").isPositive();
        }
    }

    @Test
    void clientPushingCopyDataToABlockedServerIsHeldBack() throws Exception {
        LocalPostgres pg = TestPostgres.shared();
        try (Connection setup = TestPostgres.superuser(pg); Statement st = setup.createStatement()) {
            st.execute("DROP TABLE IF EXISTS backpressure_copy; CREATE TABLE backpressure_copy(v text); GRANT ALL ON backpressure_copy TO trust_user");
        }
        try (ProxyUnderTest proxy = ProxyUnderTest.start(pg); Connection locker = TestPostgres.superuser(pg);
             Socket s = new Socket("127.0.0.1", proxy.port())) {
            // The server will not read the COPY data while this lock is held.
            locker.setAutoCommit(false);
            try (Statement st = locker.createStatement()) {
                st.execute("LOCK TABLE backpressure_copy IN ACCESS EXCLUSIVE MODE");
            }
            s.setSendBufferSize(64 * 1024);
            DataInputStream in = new DataInputStream(s.getInputStream());
            s.getOutputStream().write(RawPg.startupPacket(Map.of("user", "trust_user", "database", "postgres")));
            assertThat(RawPg.readTypesUntilReady(in)).endsWith('Z');
            s.getOutputStream().write(RawPg.query("COPY backpressure_copy FROM STDIN"));

            byte[] line = ("x".repeat(1023) + "\n").getBytes(StandardCharsets.UTF_8);
            byte[] chunk = new byte[64 * 1024];
            for (int i = 0; i < chunk.length; i += line.length) {
                System.arraycopy(line, 0, chunk, i, line.length);
            }
            byte[] copyData = RawPg.message('d', chunk);
            java.util.concurrent.atomic.AtomicLong sent = new java.util.concurrent.atomic.AtomicLong();
            Thread writer = new Thread(() -> {
                try {
                    for (int i = 0; i < 4096; i++) { // up to 256 MB
                        s.getOutputStream().write(copyData);
                        sent.addAndGet(copyData.length);
                    }
                } catch (java.io.IOException e) {
                    // the socket is closed when the test ends
                }
            }, "copy-writer");
            writer.setDaemon(true);
            writer.start();
            Thread.sleep(4000);
            long pushed = sent.get();
            assertThat(pushed).as("bytes the client could push while the server does not read").isLessThan(48L << 20);
            locker.rollback();
        }
    }

    private static String activityOf(LocalPostgres pg, String queryPattern) throws Exception {
        try (Connection c = TestPostgres.superuser(pg); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT state || '/' || coalesce(wait_event, '') FROM pg_stat_activity WHERE query LIKE '"
                     + queryPattern + "' AND pid <> pg_backend_pid()")) {
            return rs.next() ? rs.getString(1) : "gone";
        }
    }
}
