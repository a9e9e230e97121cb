package io.neurondb.proxy.protocol;

import io.vertx.core.buffer.Buffer;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Body of an ErrorResponse or NoticeResponse: one-byte field codes with string values (see
 * "Error and Notice Message Fields" in the PostgreSQL docs).
 */
public record ErrorFields(Map<Character, String> fields) {

    public static final char SEVERITY = 'S';
    /** Severity that is never localised (PostgreSQL 9.6+). */
    public static final char SEVERITY_NONLOCALIZED = 'V';
    public static final char SQLSTATE = 'C';
    public static final char MESSAGE = 'M';
    public static final char DETAIL = 'D';
    public static final char HINT = 'H';

    public static ErrorFields of(String severity, String sqlState, String message) {
        Map<Character, String> f = new LinkedHashMap<>();
        f.put(SEVERITY, severity);
        f.put(SEVERITY_NONLOCALIZED, severity);
        f.put(SQLSTATE, sqlState);
        f.put(MESSAGE, message);
        return new ErrorFields(f);
    }

    public static ErrorFields fatal(String sqlState, String message) {
        return of("FATAL", sqlState, message);
    }

    public static ErrorFields error(String sqlState, String message) {
        return of("ERROR", sqlState, message);
    }

    public ErrorFields withHint(String hint) {
        Map<Character, String> f = new LinkedHashMap<>(fields);
        f.put(HINT, hint);
        return new ErrorFields(f);
    }

    public String sqlState() {
        return fields.get(SQLSTATE);
    }

    public String message() {
        return fields.get(MESSAGE);
    }

    public String severity() {
        return fields.getOrDefault(SEVERITY_NONLOCALIZED, fields.get(SEVERITY));
    }

    /** FATAL and PANIC end the session on the server side. */
    public boolean isFatal() {
        String s = severity();
        return "FATAL".equals(s) || "PANIC".equals(s);
    }

    public static ErrorFields decode(Frame frame) {
        MessageReader r = frame.reader();
        Map<Character, String> f = new LinkedHashMap<>();
        while (true) {
            byte code = r.readByte();
            if (code == 0) {
                return new ErrorFields(f);
            }
            f.put((char) code, r.readCString());
        }
    }

    public Buffer encodeError() {
        return encode(PgProtocol.ERROR_RESPONSE);
    }

    public Buffer encodeNotice() {
        return encode(PgProtocol.NOTICE_RESPONSE);
    }

    private Buffer encode(byte type) {
        MessageWriter w = MessageWriter.typed(type, 64);
        fields.forEach((code, value) -> w.int8(code).cstring(value));
        return w.int8(0).finish();
    }
}
