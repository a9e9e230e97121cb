package io.neurondb.proxy.protocol;

import io.vertx.core.buffer.Buffer;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The untyped packets a client may open a connection with, and their codec. See the
 * PostgreSQL docs, "Message Formats": StartupMessage, SSLRequest, GSSENCRequest,
 * CancelRequest.
 */
public sealed interface StartupPacket {

    /** StartupMessage: protocol version and the parameters (user, database, options, ...). */
    record StartupMessage(int protocolVersion, Map<String, String> parameters) implements StartupPacket {
        public StartupMessage {
            parameters = Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
        }

        public int majorVersion() {
            return protocolVersion >>> 16;
        }

        public int minorVersion() {
            return protocolVersion & 0xffff;
        }

        public String user() {
            return parameters.get("user");
        }

        /** PostgreSQL defaults the database to the user name. */
        public String database() {
            return parameters.getOrDefault("database", user());
        }

        public Buffer encode() {
            MessageWriter w = MessageWriter.untyped(64).int32(protocolVersion);
            parameters.forEach((k, v) -> w.cstring(k).cstring(v));
            return w.int8(0).finish();
        }
    }

    record SslRequest() implements StartupPacket {
    }

    record GssEncRequest() implements StartupPacket {
    }

    record CancelRequest(int processId, int secretKey) implements StartupPacket {
        public Buffer encode() {
            return MessageWriter.untyped(12).int32(PgProtocol.CANCEL_REQUEST_CODE).int32(processId).int32(secretKey).finish();
        }
    }

    static Buffer encodeSslRequestPacket() {
        return MessageWriter.untyped(4).int32(PgProtocol.SSL_REQUEST_CODE).finish();
    }

    /**
     * Decodes one untyped frame.
     *
     * @throws ProtocolException for a malformed packet or an unsupported protocol version
     */
    static StartupPacket decode(Frame frame) {
        MessageReader r = frame.reader();
        int code = r.readInt32();
        return switch (code) {
            case PgProtocol.SSL_REQUEST_CODE -> exactly(r, new SslRequest());
            case PgProtocol.GSSENC_REQUEST_CODE -> exactly(r, new GssEncRequest());
            case PgProtocol.CANCEL_REQUEST_CODE -> {
                CancelRequest cancel = new CancelRequest(r.readInt32(), r.readInt32());
                yield exactly(r, cancel);
            }
            default -> decodeStartupMessage(code, r);
        };
    }

    private static StartupPacket decodeStartupMessage(int version, MessageReader r) {
        int major = version >>> 16;
        if (major != 3) {
            // Same words and SQLSTATE as the server's own check in ProcessStartupPacket.
            throw new ProtocolException(SqlState.FEATURE_NOT_SUPPORTED,
                    "unsupported frontend protocol " + major + "." + (version & 0xffff) + ": server supports 3.0 to 3.0");
        }
        Map<String, String> params = new LinkedHashMap<>();
        while (true) {
            String name = r.readCString();
            if (name.isEmpty()) {
                break;
            }
            params.put(name, r.readCString());
        }
        if (r.remaining() != 0) {
            throw ProtocolException.violation("invalid startup packet layout: expected terminator as last byte");
        }
        return new StartupMessage(version, params);
    }

    private static StartupPacket exactly(MessageReader r, StartupPacket p) {
        if (r.remaining() != 0) {
            throw ProtocolException.violation("invalid length of startup packet");
        }
        return p;
    }
}
