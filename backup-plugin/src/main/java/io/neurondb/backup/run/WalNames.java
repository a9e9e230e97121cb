package io.neurondb.backup.run;

import java.util.regex.Pattern;

/**
 * WAL file names: {@code TTTTTTTTLLLLLLLLSSSSSSSS} (timeline, log, segment) as PostgreSQL writes
 * them, {@code .partial} for the segment pg_receivewal is still writing, and {@code .enc} for a
 * finished segment or history file the archiver has sealed with the backup key.
 */
public final class WalNames {

    private static final Pattern SEGMENT = Pattern.compile("[0-9A-F]{24}");
    private static final Pattern PARTIAL = Pattern.compile("[0-9A-F]{24}\\.partial");

    /** Suffix of a WAL file encrypted at rest (AES-256-GCM, {@code FileCipher} layout). */
    public static final String SEALED = ".enc";

    private WalNames() {
    }

    public static boolean isSealed(String name) {
        return name.endsWith(SEALED);
    }

    /** The name PostgreSQL knows a file by: without {@code .enc}. */
    public static String plainName(String name) {
        return isSealed(name) ? name.substring(0, name.length() - SEALED.length()) : name;
    }

    /** A finished segment or timeline history, plain or sealed: what is archived and shipped. */
    public static boolean isArchived(String name) {
        String plain = plainName(name);
        return isSegment(plain) || isHistory(plain);
    }

    public static boolean isSegment(String name) {
        return SEGMENT.matcher(name).matches();
    }

    public static boolean isPartial(String name) {
        return PARTIAL.matcher(name).matches();
    }

    public static boolean isHistory(String name) {
        return name.matches("[0-9A-F]{8}\\.history");
    }

    /** Parses {@code X/Y} into a 64-bit position. */
    public static long parseLsn(String lsn) {
        int slash = lsn.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("'" + lsn + "' is not an LSN; write it as PostgreSQL prints one, e.g. 0/3000148");
        }
        try {
            return (Long.parseLong(lsn.substring(0, slash), 16) << 32) | Long.parseLong(lsn.substring(slash + 1), 16);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + lsn + "' is not an LSN; write it as PostgreSQL prints one, e.g. 0/3000148");
        }
    }

    /** The segment file holding {@code lsn}, without the timeline: log and segment, 16 hex digits, for ordering. */
    public static String segmentPosition(long lsn, long segmentSize) {
        long segno = Long.divideUnsigned(lsn, segmentSize);
        long perLog = 0x1_0000_0000L / segmentSize;
        return String.format("%08X%08X", segno / perLog, segno % perLog);
    }

    /** Log and segment part of a WAL file name, for comparing positions across timelines. */
    public static String position(String fileName) {
        return fileName.substring(8, 24);
    }
}
