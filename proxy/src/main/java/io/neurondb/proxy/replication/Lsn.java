package io.neurondb.proxy.replication;

/** PostgreSQL log sequence numbers ({@code XLogRecPtr}) as {@code long}, and their {@code X/X} text form. */
public final class Lsn {

    /** {@code InvalidXLogRecPtr}. */
    public static final long INVALID = 0L;

    private Lsn() {
    }

    /** The {@code pg_lsn} text form, e.g. {@code 0/16B3748}. */
    public static String format(long lsn) {
        return Long.toHexString(lsn >>> 32).toUpperCase() + "/" + Long.toHexString(lsn & 0xFFFFFFFFL).toUpperCase();
    }

    /** Parses the {@code pg_lsn} text form. */
    public static long parse(String text) {
        int slash = text.indexOf('/');
        if (slash <= 0 || slash == text.length() - 1) {
            throw new IllegalArgumentException("not an LSN: " + text);
        }
        try {
            long hi = Long.parseLong(text, 0, slash, 16);
            long lo = Long.parseLong(text, slash + 1, text.length(), 16);
            if (hi < 0 || hi > 0xFFFFFFFFL || lo < 0 || lo > 0xFFFFFFFFL) {
                throw new IllegalArgumentException("not an LSN: " + text);
            }
            return (hi << 32) | lo;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not an LSN: " + text, e);
        }
    }
}
