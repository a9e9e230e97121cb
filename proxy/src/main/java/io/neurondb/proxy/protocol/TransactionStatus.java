package io.neurondb.proxy.protocol;

/** The status byte of ReadyForQuery. Mapped in one place; anything else is a violation. */
public enum TransactionStatus {
    IDLE('I'),
    IN_TRANSACTION('T'),
    FAILED('E');

    private final byte code;

    TransactionStatus(char code) {
        this.code = (byte) code;
    }

    public byte code() {
        return code;
    }

    public static TransactionStatus fromReadyForQuery(Frame frame) {
        byte b = frame.bodyByte(0);
        return switch (b) {
            case 'I' -> IDLE;
            case 'T' -> IN_TRANSACTION;
            case 'E' -> FAILED;
            default -> throw ProtocolException.violation("unknown transaction status " + PgProtocol.describeType(b) + " in ReadyForQuery");
        };
    }

    public io.vertx.core.buffer.Buffer encodeReadyForQuery() {
        return MessageWriter.typed(PgProtocol.READY_FOR_QUERY, 1).int8(code).finish();
    }
}
