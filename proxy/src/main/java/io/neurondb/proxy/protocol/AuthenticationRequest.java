package io.neurondb.proxy.protocol;

import io.vertx.core.buffer.Buffer;

import java.util.ArrayList;
import java.util.List;

/** The server's Authentication* messages: a code and, for SASL, the offered mechanisms. */
public record AuthenticationRequest(int code, List<String> saslMechanisms) {

    public static AuthenticationRequest decode(Frame frame) {
        MessageReader r = frame.reader();
        int code = r.readInt32();
        if (code != PgProtocol.AUTH_SASL) {
            return new AuthenticationRequest(code, List.of());
        }
        List<String> mechanisms = new ArrayList<>();
        while (true) {
            String m = r.readCString();
            if (m.isEmpty()) {
                return new AuthenticationRequest(code, List.copyOf(mechanisms));
            }
            mechanisms.add(m);
        }
    }

    public boolean isOk() {
        return code == PgProtocol.AUTH_OK;
    }

    /** AuthenticationSASL offering {@code mechanisms}. */
    public static Buffer encodeSasl(List<String> mechanisms) {
        MessageWriter w = MessageWriter.typed(PgProtocol.AUTHENTICATION, 32).int32(PgProtocol.AUTH_SASL);
        mechanisms.forEach(w::cstring);
        return w.int8(0).finish();
    }
}
