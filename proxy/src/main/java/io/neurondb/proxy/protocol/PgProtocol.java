package io.neurondb.proxy.protocol;

/**
 * Message type bytes and codes of the PostgreSQL v3 protocol, named as in the PostgreSQL
 * documentation, chapter "Message Formats". The one place these numbers live.
 */
public final class PgProtocol {

    private PgProtocol() {
    }

    // Untyped startup-phase packets: Int32 length, Int32 code.
    public static final int PROTOCOL_3_0 = 3 << 16;
    public static final int SSL_REQUEST_CODE = 80877103;
    public static final int GSSENC_REQUEST_CODE = 80877104;
    public static final int CANCEL_REQUEST_CODE = 80877102;

    /** Header of a typed message: Byte1 type + Int32 length (the length counts itself). */
    public static final int TYPED_HEADER_LENGTH = 5;

    // Frontend (client to server) message types.
    public static final byte BIND = 'B';
    public static final byte CLOSE = 'C';
    public static final byte COPY_DATA = 'd';
    public static final byte COPY_DONE = 'c';
    public static final byte COPY_FAIL = 'f';
    public static final byte DESCRIBE = 'D';
    public static final byte EXECUTE = 'E';
    public static final byte FLUSH = 'H';
    public static final byte FUNCTION_CALL = 'F';
    public static final byte PARSE = 'P';
    /** PasswordMessage, SASLInitialResponse, SASLResponse and GSSResponse share this byte. */
    public static final byte PASSWORD_MESSAGE = 'p';
    public static final byte QUERY = 'Q';
    public static final byte SYNC = 'S';
    public static final byte TERMINATE = 'X';

    // Backend (server to client) message types.
    public static final byte AUTHENTICATION = 'R';
    public static final byte BACKEND_KEY_DATA = 'K';
    public static final byte BIND_COMPLETE = '2';
    public static final byte CLOSE_COMPLETE = '3';
    public static final byte COMMAND_COMPLETE = 'C';
    public static final byte COPY_IN_RESPONSE = 'G';
    public static final byte COPY_OUT_RESPONSE = 'H';
    public static final byte COPY_BOTH_RESPONSE = 'W';
    public static final byte DATA_ROW = 'D';
    public static final byte EMPTY_QUERY_RESPONSE = 'I';
    public static final byte ERROR_RESPONSE = 'E';
    public static final byte FUNCTION_CALL_RESPONSE = 'V';
    public static final byte NEGOTIATE_PROTOCOL_VERSION = 'v';
    public static final byte NO_DATA = 'n';
    public static final byte NOTICE_RESPONSE = 'N';
    public static final byte NOTIFICATION_RESPONSE = 'A';
    public static final byte PARAMETER_DESCRIPTION = 't';
    public static final byte PARAMETER_STATUS = 'S';
    public static final byte PARSE_COMPLETE = '1';
    public static final byte PORTAL_SUSPENDED = 's';
    public static final byte READY_FOR_QUERY = 'Z';
    public static final byte ROW_DESCRIPTION = 'T';

    // Authentication request codes (the Int32 after an 'R').
    public static final int AUTH_OK = 0;
    public static final int AUTH_CLEARTEXT_PASSWORD = 3;
    public static final int AUTH_MD5_PASSWORD = 5;
    public static final int AUTH_SASL = 10;
    public static final int AUTH_SASL_CONTINUE = 11;
    public static final int AUTH_SASL_FINAL = 12;

    /** Whether {@code type} is a message a client may send after startup. */
    public static boolean isFrontendType(byte type) {
        return switch (type) {
            case BIND, CLOSE, COPY_DATA, COPY_DONE, COPY_FAIL, DESCRIBE, EXECUTE, FLUSH,
                 FUNCTION_CALL, PARSE, PASSWORD_MESSAGE, QUERY, SYNC, TERMINATE -> true;
            default -> false;
        };
    }

    /** Printable form of a type byte for error messages and logs. */
    public static String describeType(byte type) {
        int unsigned = type & 0xff;
        return unsigned >= 0x20 && unsigned < 0x7f
                ? "'" + (char) unsigned + "'"
                : String.format("0x%02x", unsigned);
    }
}
