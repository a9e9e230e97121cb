package io.neurondb.proxy.values;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Translates the data of a {@code COPY table [(columns)] FROM STDIN} in text or CSV format on
 * its way to PostgreSQL: every pgvector-style value ({@code [1,2,3]}) in a vector column becomes
 * the {@code real[]} literal the server column takes ({@code {1,2,3}}, quoted in CSV), after the
 * checks pgvector would have made. Everything else passes through byte for byte.
 *
 * <p>CopyData messages split the stream anywhere — inside a row, a quoted CSV field or a UTF-8
 * character — so {@link #feed} returns only whole translated rows and holds back the rest;
 * {@link #finish} at CopyDone translates a last row that has no line end. Row boundaries are
 * found as PostgreSQL's CopyReadLineText finds them: in text format a backslash takes the next
 * byte with it (even a newline); in CSV a newline inside quotes belongs to the field. Lines may
 * end in {@code \n} or {@code \r\n}; a lone {@code \r} as line end is not supported. Scanning is
 * byte-wise, which is safe for UTF-8 and other encodings whose multi-byte characters never
 * contain ASCII bytes (not SJIS, BIG5, GBK or GB18030).
 *
 * <p>Not thread-safe: one instance per COPY.
 */
public final class CopyInTranslator {

    private static final byte[] EMPTY = new byte[0];

    private final boolean csv;
    private final boolean header;
    private final byte quote;
    /** CSV escape, or -1 when it equals the quote: PostgreSQL then treats the quote as a plain toggle. */
    private final int escape;
    private final CopyRecordRewriter rewriter;
    private final ByteSink out = new ByteSink(8192);

    /** Bytes of the row still incomplete (and, transiently, of the chunk being processed). */
    private byte[] pending = new byte[8192];
    private int pendingLength;
    /** How far {@link #pending} has been scanned; the row-splitting state below holds there. */
    private int scanned;
    private boolean inQuote;
    private boolean lastWasEscape;
    private boolean backslashPending;
    private int embeddedNewlines;

    private long rows;
    private long lineNumber;
    private boolean ended;

    /**
     * @param format        how the stream is split into rows and fields
     * @param table         the table name as it should appear in error context
     * @param vectorColumns the vector columns among the copied columns
     */
    public CopyInTranslator(CopyFormat format, String table, List<VectorColumn> vectorColumns) {
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(table, "table");
        this.csv = format.isCsv();
        this.header = format.header();
        this.quote = (byte) format.quote();
        this.escape = format.escape() == format.quote() ? -1 : (byte) format.escape();
        this.rewriter = new CopyRecordRewriter(format, table, List.copyOf(vectorColumns));
    }

    /**
     * Takes the next piece of COPY data and returns the translation of every row it completes
     * (possibly nothing, as an empty array).
     *
     * @throws VectorFormatException for a vector value pgvector would refuse, with the COPY
     *                               line in its context; the COPY should then be failed
     */
    public byte[] feed(byte[] chunk, int off, int len) {
        Objects.checkFromIndexSize(off, len, chunk.length);
        if (ended) {
            return Arrays.copyOfRange(chunk, off, off + len); // after \. PostgreSQL reads nothing
        }
        append(chunk, off, len);
        out.reset();
        int rowStart = 0;
        for (int i = scanned; i < pendingLength; i++) {
            if (!endsRow(pending[i])) {
                continue;
            }
            int contentEnd = i;
            if (contentEnd > rowStart && pending[contentEnd - 1] == '\r' && !previousEscapedAt(contentEnd - 1)) {
                contentEnd--;
            }
            completeRow(rowStart, contentEnd, i + 1);
            rowStart = i + 1;
            if (ended) {
                out.write(pending, rowStart, pendingLength - rowStart);
                rowStart = pendingLength;
                break;
            }
        }
        scanned = pendingLength;
        dropConsumed(rowStart);
        return out.length() == 0 ? EMPTY : out.toByteArray();
    }

    /**
     * The end of the stream (CopyDone): translates and returns what is held back — a last row
     * without a line end. The translator is then ready for nothing more.
     */
    public byte[] finish() {
        if (pendingLength == 0) {
            return EMPTY;
        }
        out.reset();
        if (ended || (csv && inQuote)) {
            // An unterminated quoted field is PostgreSQL's error to report; pass it on as sent.
            out.write(pending, 0, pendingLength);
        } else {
            completeRow(0, pendingLength, pendingLength);
        }
        pendingLength = 0;
        scanned = 0;
        return out.toByteArray();
    }

    /** Advances the row-splitting state over one byte; true when it ends the row. */
    private boolean endsRow(byte b) {
        if (csv) {
            // PostgreSQL's CopyReadLineText rules, including its line count for quoted newlines.
            if (inQuote && b == escape) {
                lastWasEscape = !lastWasEscape;
            }
            if (b == quote && !lastWasEscape) {
                inQuote = !inQuote;
            }
            if (b != escape) {
                lastWasEscape = false;
            }
            if (b == '\n') {
                if (inQuote) {
                    embeddedNewlines++;
                    return false;
                }
                return true;
            }
            return false;
        }
        if (backslashPending) {
            backslashPending = false;
            return false;
        }
        if (b == '\\') {
            backslashPending = true;
            return false;
        }
        return b == '\n';
    }

    /**
     * Whether the '\r' at {@code index} (just before a row-ending '\n') was escaped by a
     * backslash, i.e. data rather than half of a \r\n. Rarely asked, so it is recomputed
     * from the bytes instead of being tracked per byte.
     */
    private boolean previousEscapedAt(int index) {
        if (csv) {
            return false; // an unquoted '\n' right after '\r' means the '\r' was unquoted too
        }
        // Count the backslashes before the '\r': odd means it was escaped.
        int backslashes = 0;
        for (int k = index - 1; k >= 0 && pending[k] == '\\'; k--) {
            backslashes++;
        }
        return (backslashes & 1) == 1;
    }

    /** Emits one row: header and end marker as they are, data rows rewritten, then the line end. */
    private void completeRow(int start, int contentEnd, int end) {
        rows++;
        lineNumber += 1 + embeddedNewlines;
        embeddedNewlines = 0;
        inQuote = false;
        lastWasEscape = false;
        backslashPending = false;
        if (header && rows == 1) {
            out.write(pending, start, end - start);
            return;
        }
        if (contentEnd - start == 2 && pending[start] == '\\' && pending[start + 1] == '.') {
            ended = true; // \. : end of data; PostgreSQL ignores the rest of the stream
            out.write(pending, start, end - start);
            return;
        }
        rewriter.rewrite(pending, start, contentEnd, lineNumber, out);
        out.write(pending, contentEnd, end - contentEnd);
    }

    private void append(byte[] chunk, int off, int len) {
        if (pendingLength + len > pending.length) {
            pending = Arrays.copyOf(pending, Math.max(pending.length * 2, pendingLength + len));
        }
        System.arraycopy(chunk, off, pending, pendingLength, len);
        pendingLength += len;
    }

    /** Moves the unfinished row to the front of the buffer. */
    private void dropConsumed(int consumed) {
        if (consumed == 0) {
            return;
        }
        System.arraycopy(pending, consumed, pending, 0, pendingLength - consumed);
        pendingLength -= consumed;
        scanned -= consumed;
    }
}
