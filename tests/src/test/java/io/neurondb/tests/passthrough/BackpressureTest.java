package io.neurondb.tests.passthrough;

import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.tests.support.ProxyUnderTest;
import io.neurondb.tests.support.TestPostgres;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
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
            s.getOutputStream().write(startup("trust_user"));
            skipUntilReady(in);

            // About 1 GB of rows. Without backpressure the proxy would read it all from the
            // server within seconds (the query would finish) and hold it in its buffers.
            String sql = "SELECT repeat('x', 2000) FROM generate_series(1, 500000) AS backpressure_probe";
            byte[] q = (sql + "\0").getBytes(StandardCharsets.UTF_8);
            s.getOutputStream().write(ByteBuffer.allocate(5 + q.length).put((byte) 'Q').putInt(4 + q.length).put(q).array());

            Thread.sleep(3000);
            for (int sample = 0; sample < 20; sample++) {
                assertThat(activityOf(pg, "%backpressure_probe%"))
                        .as("sample %d: the server is still running the query and blocked writing to the proxy", sample)
                        .isEqualTo("active/ClientWrite");
                Thread.sleep(150);
            }
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

    private static String activityOf(LocalPostgres pg, String queryPattern) throws Exception {
        try (Connection c = TestPostgres.superuser(pg); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT state || '/' || coalesce(wait_event, '') FROM pg_stat_activity WHERE query LIKE '"
                     + queryPattern + "' AND pid <> pg_backend_pid()")) {
            return rs.next() ? rs.getString(1) : "gone";
        }
    }

    private static byte[] startup(String user) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(("user\0" + user + "\0database\0postgres\0\0").getBytes(StandardCharsets.UTF_8));
        byte[] b = body.toByteArray();
        return ByteBuffer.allocate(8 + b.length).putInt(8 + b.length).putInt(3 << 16).put(b).array();
    }

    private static void skipUntilReady(DataInputStream in) throws Exception {
        while (true) {
            int type = in.readUnsignedByte();
            in.skipNBytes(in.readInt() - 4);
            if (type == 'Z') {
                return;
            }
        }
    }
}
