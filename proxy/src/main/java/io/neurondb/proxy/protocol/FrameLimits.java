package io.neurondb.proxy.protocol;

/**
 * Upper bounds a decoder enforces as soon as it has read a message header, before it
 * buffers the body: a peer cannot make the proxy allocate more than this per message.
 *
 * @param maxMessageBytes   largest message of any type other than CopyData
 * @param maxCopyDataBytes  largest CopyData message
 * @param checkFrontendTypes whether unknown type bytes are a protocol violation (true for
 *                           what clients send; the server's stream is trusted to be typed)
 */
public record FrameLimits(int maxMessageBytes, int maxCopyDataBytes, boolean checkFrontendTypes) {

    /** Same bound PostgreSQL puts on a startup packet (MAX_STARTUP_PACKET_LENGTH). */
    public static final int MAX_STARTUP_PACKET_BYTES = 10_000;
    public static final int DEFAULT_MAX_MESSAGE_BYTES = 64 << 20;
    public static final int DEFAULT_MAX_COPY_DATA_BYTES = 1 << 30;

    public FrameLimits {
        if (maxMessageBytes < 1024 || maxCopyDataBytes < 1024) {
            throw new IllegalArgumentException("message limits below 1 KiB make the protocol unusable");
        }
    }

    public static FrameLimits frontend(int maxMessageBytes, int maxCopyDataBytes) {
        return new FrameLimits(maxMessageBytes, maxCopyDataBytes, true);
    }

    private static final FrameLimits BACKEND = new FrameLimits(Integer.MAX_VALUE - 8, Integer.MAX_VALUE - 8, false);

    /** The server may send a DataRow up to PostgreSQL's 1 GiB field limit plus its header. */
    public static FrameLimits backend() {
        return BACKEND; // asked for at every pooled lease
    }

    int maxFor(byte type) {
        return type == PgProtocol.COPY_DATA ? maxCopyDataBytes : maxMessageBytes;
    }
}
