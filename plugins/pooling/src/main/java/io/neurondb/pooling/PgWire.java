package io.neurondb.pooling;

import io.vertx.core.buffer.Buffer;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The few PostgreSQL protocol messages the plugin writes and reads itself: server logins,
 * reset and check queries, and the client's authentication requests.
 */
final class PgWire {

    static final byte AUTHENTICATION = 'R';
    static final byte ERROR_RESPONSE = 'E';
    static final byte READY_FOR_QUERY = 'Z';
    static final byte PARAMETER_STATUS = 'S';
    static final byte BACKEND_KEY_DATA = 'K';

    static final int AUTH_OK = 0;
    static final int AUTH_CLEARTEXT = 3;
    static final int AUTH_MD5 = 5;
    static final int AUTH_SASL = 10;
    static final int AUTH_SASL_CONTINUE = 11;
    static final int AUTH_SASL_FINAL = 12;

    private PgWire() {
    }

    /** One message: its type and body (without type and length). */
    record Message(byte type, Buffer body) {
        int int32(int at) {
            return body.getInt(at);
        }
    }

    /** Splits a byte stream into messages; keeps what is left of an incomplete one. */
    static final class Splitter {
        private Buffer pending = Buffer.buffer();

        void feed(Buffer chunk, Consumer<Message> out) {
            pending.appendBuffer(chunk);
            int at = 0;
            while (pending.length() - at >= 5) {
                int len = pending.getInt(at + 1);
                if (len < 4 || len > 64 << 20) {
                    throw new IllegalStateException("invalid message length " + len + " from server");
                }
                if (pending.length() - at < 1 + len) {
                    break;
                }
                out.accept(new Message(pending.getByte(at), pending.getBuffer(at + 5, at + 1 + len)));
                at += 1 + len;
            }
            pending = at == pending.length() ? Buffer.buffer() : pending.getBuffer(at, pending.length());
        }
    }

    static Buffer startup(Map<String, String> params) {
        Buffer b = Buffer.buffer().appendInt(0).appendInt(196608);
        params.forEach((k, v) -> {
            cstring(b, k);
            cstring(b, v);
        });
        b.appendByte((byte) 0);
        b.setInt(0, b.length());
        return b;
    }

    static Buffer passwordMessage(String text) {
        return typed('p', cstring(Buffer.buffer(), text));
    }

    static Buffer saslInitialResponse(String mechanism, String data) {
        byte[] d = data.getBytes(StandardCharsets.UTF_8);
        return typed('p', cstring(Buffer.buffer(), mechanism).appendInt(d.length).appendBytes(d));
    }

    static Buffer saslResponse(String data) {
        return typed('p', Buffer.buffer(data.getBytes(StandardCharsets.UTF_8)));
    }

    static Buffer query(String sql) {
        return typed('Q', cstring(Buffer.buffer(), sql));
    }

    static Buffer terminate() {
        return typed('X', Buffer.buffer());
    }

    static Buffer authentication(int code, Buffer extra) {
        Buffer body = Buffer.buffer().appendInt(code);
        if (extra != null) {
            body.appendBuffer(extra);
        }
        return typed(AUTHENTICATION, body);
    }

    static Buffer typed(char type, Buffer body) {
        return typed((byte) type, body);
    }

    static Buffer typed(byte type, Buffer body) {
        return Buffer.buffer(body.length() + 5).appendByte(type).appendInt(body.length() + 4).appendBuffer(body);
    }

    static Buffer cstring(Buffer b, String s) {
        return b.appendBytes(s.getBytes(StandardCharsets.UTF_8)).appendByte((byte) 0);
    }

    /** Reads a NUL-terminated string at {@code at}; returns it and sets {@code next[0]} past it. */
    static String cstringAt(Buffer b, int at, int[] next) {
        int end = at;
        while (end < b.length() && b.getByte(end) != 0) {
            end++;
        }
        next[0] = end + 1;
        return b.getString(at, end, "UTF-8");
    }

    /** The message ('M') and SQLSTATE ('C') fields of an ErrorResponse body. */
    static String[] errorFields(Buffer body) {
        String code = "XX000";
        String message = "";
        String severity = "ERROR";
        int at = 0;
        int[] next = new int[1];
        while (at < body.length() && body.getByte(at) != 0) {
            byte field = body.getByte(at);
            String value = cstringAt(body, at + 1, next);
            at = next[0];
            switch (field) {
                case 'C' -> code = value;
                case 'M' -> message = value;
                case 'V' -> severity = value;
                default -> {
                }
            }
        }
        return new String[]{code, message, severity};
    }
}
