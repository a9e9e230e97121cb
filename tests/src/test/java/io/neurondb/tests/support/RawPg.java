package io.neurondb.tests.support;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Protocol bytes written and read by hand, for tests that must send what no driver would
 * (garbage, truncated or oversized messages) or stop reading on purpose.
 */
public final class RawPg {

    private RawPg() {
    }

    /** A StartupMessage of protocol 3.0. */
    public static byte[] startupPacket(Map<String, String> params) {
        return startupPacket(3 << 16, params);
    }

    public static byte[] startupPacket(int protocolVersion, Map<String, String> params) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        params.forEach((k, v) -> body.writeBytes((k + "\0" + v + "\0").getBytes(StandardCharsets.UTF_8)));
        body.write(0);
        byte[] b = body.toByteArray();
        return ByteBuffer.allocate(8 + b.length).putInt(8 + b.length).putInt(protocolVersion).put(b).array();
    }

    /** A typed message: type byte, length, body. */
    public static byte[] message(char type, byte[] body) {
        return ByteBuffer.allocate(5 + body.length).put((byte) type).putInt(4 + body.length).put(body).array();
    }

    /** A simple-protocol Query. */
    public static byte[] query(String sql) {
        return message('Q', (sql + "\0").getBytes(StandardCharsets.UTF_8));
    }

    /** Reads messages up to ReadyForQuery or ErrorResponse and returns their type bytes. */
    public static List<Character> readTypesUntilReady(InputStream in) throws IOException {
        DataInputStream d = new DataInputStream(in);
        List<Character> types = new ArrayList<>();
        while (true) {
            char type = (char) d.readUnsignedByte();
            d.skipNBytes(d.readInt() - 4);
            types.add(type);
            if (type == 'Z' || type == 'E') {
                return types;
            }
        }
    }

    /** Reads messages up to an ErrorResponse and returns its fields by code ('C' SQLSTATE, 'M' message). */
    public static Map<Character, String> readUntilError(InputStream in) throws IOException {
        DataInputStream d = new DataInputStream(in);
        while (true) {
            char type = (char) d.readUnsignedByte();
            byte[] body = d.readNBytes(d.readInt() - 4);
            if (type == 'E') {
                Map<Character, String> fields = new HashMap<>();
                int i = 0;
                while (body[i] != 0) {
                    char code = (char) body[i++];
                    int start = i;
                    while (body[i] != 0) {
                        i++;
                    }
                    fields.put(code, new String(body, start, i - start, StandardCharsets.UTF_8));
                    i++;
                }
                return fields;
            }
        }
    }
}
