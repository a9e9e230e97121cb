package io.neurondb.proxy.protocol;

import io.neurondb.proxy.protocol.FrameDecoder.Expect;
import io.neurondb.proxy.protocol.StartupPacket.CancelRequest;
import io.neurondb.proxy.protocol.StartupPacket.StartupMessage;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Encode, frame, decode: every message family the proxy writes comes back as it went in. */
class MessageCodecTest {

    @Test
    void startupMessageRoundTrip() {
        Map<String, String> params = new LinkedHashMap<>();
        params.put("user", "alice");
        params.put("database", "shop");
        params.put("application_name", "naïve app");
        StartupMessage sent = new StartupMessage(PgProtocol.PROTOCOL_3_0, params);
        StartupPacket back = StartupPacket.decode(single(sent.encode(), Expect.STARTUP));
        assertThat(back).isEqualTo(sent);
        assertThat(((StartupMessage) back).database()).isEqualTo("shop");
    }

    @Test
    void databaseDefaultsToUser() {
        StartupMessage m = new StartupMessage(PgProtocol.PROTOCOL_3_0, Map.of("user", "bob"));
        assertThat(m.database()).isEqualTo("bob");
    }

    @Test
    void cancelAndSslRequestsRoundTrip() {
        CancelRequest cancel = new CancelRequest(1234, -99);
        assertThat(StartupPacket.decode(single(cancel.encode(), Expect.STARTUP))).isEqualTo(cancel);
        assertThat(StartupPacket.decode(single(StartupPacket.encodeSslRequestPacket(), Expect.STARTUP)))
                .isInstanceOf(StartupPacket.SslRequest.class);
        Buffer gss = MessageWriter.untyped(4).int32(PgProtocol.GSSENC_REQUEST_CODE).finish();
        assertThat(StartupPacket.decode(single(gss, Expect.STARTUP))).isInstanceOf(StartupPacket.GssEncRequest.class);
    }

    @Test
    void unsupportedProtocolVersionIsRefusedWithPostgresWording() {
        Buffer v2 = MessageWriter.untyped(16).int32(2 << 16).cstring("user").cstring("x").int8(0).finish();
        assertThatThrownBy(() -> StartupPacket.decode(single(v2, Expect.STARTUP)))
                .isInstanceOf(ProtocolException.class)
                .hasMessage("unsupported frontend protocol 2.0: server supports 3.0 to 3.0")
                .extracting(e -> ((ProtocolException) e).sqlState()).isEqualTo(SqlState.FEATURE_NOT_SUPPORTED);
    }

    @Test
    void startupMessageWithoutTerminatorIsRefused() {
        Buffer bad = MessageWriter.untyped(16).int32(PgProtocol.PROTOCOL_3_0).cstring("user").cstring("x").finish();
        assertThatThrownBy(() -> StartupPacket.decode(single(bad, Expect.STARTUP))).isInstanceOf(ProtocolException.class);
    }

    @Test
    void errorResponseRoundTrip() {
        ErrorFields sent = ErrorFields.fatal(SqlState.PROTOCOL_VIOLATION, "bad things").withHint("do better");
        ErrorFields back = ErrorFields.decode(single(sent.encodeError(), Expect.TYPED));
        assertThat(back).isEqualTo(sent);
        assertThat(back.isFatal()).isTrue();
        assertThat(back.sqlState()).isEqualTo("08P01");
        assertThat(ErrorFields.error("22000", "x").isFatal()).isFalse();
    }

    @Test
    void backendKeyDataRoundTrip() {
        BackendKeyData key = new BackendKeyData(42, 0xCAFEBABE);
        assertThat(BackendKeyData.decode(single(key.encode(), Expect.TYPED))).isEqualTo(key);
        assertThat(new BackendKeyData(1, -1).asLong()).isNotEqualTo(new BackendKeyData(-1, 1).asLong());
    }

    @Test
    void saslMechanismListRoundTrip() {
        Buffer sasl = AuthenticationRequest.encodeSasl(List.of("SCRAM-SHA-256", "SCRAM-SHA-256-PLUS"));
        AuthenticationRequest back = AuthenticationRequest.decode(single(sasl, Expect.TYPED));
        assertThat(back.code()).isEqualTo(PgProtocol.AUTH_SASL);
        assertThat(back.saslMechanisms()).containsExactly("SCRAM-SHA-256", "SCRAM-SHA-256-PLUS");
    }

    @Test
    void readyForQueryStatusIsMappedOrRefused() {
        for (TransactionStatus s : TransactionStatus.values()) {
            assertThat(TransactionStatus.fromReadyForQuery(single(s.encodeReadyForQuery(), Expect.TYPED))).isEqualTo(s);
        }
        Buffer bad = MessageWriter.typed(PgProtocol.READY_FOR_QUERY, 1).int8('Q').finish();
        assertThatThrownBy(() -> TransactionStatus.fromReadyForQuery(single(bad, Expect.TYPED))).isInstanceOf(ProtocolException.class);
    }

    @Test
    void commandTagRowCount() {
        assertThat(new CommandTag("INSERT 0 5").rows()).isEqualTo(5);
        assertThat(new CommandTag("SELECT 10").rows()).isEqualTo(10);
        assertThat(new CommandTag("BEGIN").rows()).isEqualTo(-1);
    }

    @Test
    void extendedQueryMessagesExposeNamesAndTextOnly() {
        Buffer parse = MessageWriter.typed(PgProtocol.PARSE, 32).cstring("s1").cstring("SELECT $1").int16(1).int32(23).finish();
        assertThat(FrontendMessages.parse(single(parse, Expect.TYPED))).isEqualTo(new FrontendMessages.Parse("s1", "SELECT $1"));
        Buffer bind = MessageWriter.typed(PgProtocol.BIND, 32).cstring("p1").cstring("s1").int16(0).int16(1).int32(2).bytes(Buffer.buffer("42")).int16(0).finish();
        assertThat(FrontendMessages.bind(single(bind, Expect.TYPED))).isEqualTo(new FrontendMessages.Bind("p1", "s1"));
        Buffer exec = MessageWriter.typed(PgProtocol.EXECUTE, 8).cstring("p1").int32(100).finish();
        assertThat(FrontendMessages.execute(single(exec, Expect.TYPED))).isEqualTo(new FrontendMessages.Execute("p1", 100));
        Buffer close = MessageWriter.typed(PgProtocol.CLOSE, 8).int8('X').cstring("p1").finish();
        assertThatThrownBy(() -> FrontendMessages.target(single(close, Expect.TYPED))).isInstanceOf(ProtocolException.class);
    }

    @Test
    void readingPastTheBodyIsAProtocolViolation() {
        Buffer exec = MessageWriter.typed(PgProtocol.EXECUTE, 8).cstring("p1").finish(); // no max-rows word
        assertThatThrownBy(() -> FrontendMessages.execute(single(exec, Expect.TYPED)))
                .isInstanceOf(ProtocolException.class).hasMessageContaining("message too short");
        Buffer query = MessageWriter.typed(PgProtocol.QUERY, 8).bytes(Buffer.buffer("SELECT")).finish();
        assertThatThrownBy(() -> FrontendMessages.query(single(query, Expect.TYPED)))
                .isInstanceOf(ProtocolException.class).hasMessageContaining("unterminated string");
    }

    private static Frame single(Buffer bytes, Expect expect) {
        FrameDecoder d = new FrameDecoder(FrameLimits.backend(), expect);
        List<Frame> out = new ArrayList<>();
        d.feed(bytes, out::add);
        assertThat(out).hasSize(1);
        assertThat(d.hasBufferedBytes()).isFalse();
        return out.get(0);
    }
}
