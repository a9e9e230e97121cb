package io.neurondb.tests.vector;

import io.neurondb.tests.support.RawPg;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A bare protocol-3 client (trust authentication) that sends exactly the messages a test asks for. */
final class WireClient implements AutoCloseable {

    record Msg(char type, byte[] body) {
        /** The text of column {@code i} of a DataRow. */
        String column(int i) {
            ByteBuffer b = ByteBuffer.wrap(body);
            int n = b.getShort();
            for (int c = 0; c < n; c++) {
                int len = b.getInt();
                if (c == i) {
                    if (len < 0) {
                        return null;
                    }
                    byte[] v = new byte[len];
                    b.get(v);
                    return new String(v, StandardCharsets.UTF_8);
                }
                if (len > 0) {
                    b.position(b.position() + len);
                }
            }
            throw new IndexOutOfBoundsException(i);
        }

        /** An ErrorResponse's or NoticeResponse's field. */
        String field(char code) {
            int i = 0;
            while (body[i] != 0) {
                char c = (char) body[i++];
                int start = i;
                while (body[i] != 0) {
                    i++;
                }
                if (c == code) {
                    return new String(body, start, i - start, StandardCharsets.UTF_8);
                }
                i++;
            }
            return null;
        }
    }

    private final Socket socket;
    private final OutputStream out;
    private final DataInputStream in;
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

    WireClient(int port, String database, String user) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(20_000);
        out = socket.getOutputStream();
        in = new DataInputStream(socket.getInputStream());
        out.write(RawPg.startupPacket(Map.of("user", user, "database", database)));
        out.flush();
        List<Msg> login = readUntilReady();
        for (Msg m : login) {
            if (m.type() == 'E') {
                throw new IOException("login failed: " + m.field('M'));
            }
        }
    }

    private static byte[] cstr(String s) {
        return (s + "\0").getBytes(StandardCharsets.UTF_8);
    }

    WireClient parse(String name, String sql) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(cstr(name));
        b.writeBytes(cstr(sql));
        b.write(0);
        b.write(0);
        pending.writeBytes(RawPg.message('P', b.toByteArray()));
        return this;
    }

    /** Bind with text parameters (null = SQL NULL) and text results. */
    WireClient bind(String portal, String statement, String... params) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(cstr(portal));
        b.writeBytes(cstr(statement));
        b.writeBytes(new byte[]{0, 0});
        b.writeBytes(ByteBuffer.allocate(2).putShort((short) params.length).array());
        for (String p : params) {
            if (p == null) {
                b.writeBytes(ByteBuffer.allocate(4).putInt(-1).array());
            } else {
                byte[] v = p.getBytes(StandardCharsets.UTF_8);
                b.writeBytes(ByteBuffer.allocate(4).putInt(v.length).array());
                b.writeBytes(v);
            }
        }
        b.writeBytes(new byte[]{0, 0});
        pending.writeBytes(RawPg.message('B', b.toByteArray()));
        return this;
    }

    WireClient describePortal(String portal) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write('P');
        b.writeBytes(cstr(portal));
        pending.writeBytes(RawPg.message('D', b.toByteArray()));
        return this;
    }

    WireClient execute(String portal) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(cstr(portal));
        b.writeBytes(new byte[4]);
        pending.writeBytes(RawPg.message('E', b.toByteArray()));
        return this;
    }

    /** Parse, Bind, Describe, Execute of one unnamed statement. */
    WireClient statement(String sql, String... params) {
        return parse("", sql).bind("", "", params).describePortal("").execute("");
    }

    WireClient sync() {
        pending.writeBytes(RawPg.message('S', new byte[0]));
        return this;
    }

    WireClient query(String sql) {
        pending.writeBytes(RawPg.query(sql));
        return this;
    }

    /** Sends everything queued in one write. */
    WireClient send() throws IOException {
        out.write(pending.toByteArray());
        out.flush();
        pending.reset();
        return this;
    }

    List<Msg> readUntilReady() throws IOException {
        List<Msg> msgs = new ArrayList<>();
        while (true) {
            char type = (char) in.readUnsignedByte();
            byte[] body = in.readNBytes(in.readInt() - 4);
            msgs.add(new Msg(type, body));
            if (type == 'Z') {
                return msgs;
            }
        }
    }

    static String types(List<Msg> msgs) {
        StringBuilder b = new StringBuilder();
        for (Msg m : msgs) {
            b.append(m.type());
        }
        return b.toString();
    }

    @Override
    public void close() throws IOException {
        out.write(RawPg.message('X', new byte[0]));
        socket.close();
    }
}
