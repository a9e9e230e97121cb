package io.neurondb.proxy.values;

import java.util.Arrays;
import java.util.List;

/**
 * Rewrites one COPY row: splits it into fields as PostgreSQL's CopyReadAttributesText/CSV would,
 * copies every field that is not a vector column byte for byte, and replaces each vector field
 * with the {@code real[]} literal of the same floats. Knows nothing of chunks or line ends;
 * {@link CopyInTranslator} hands it whole rows without their line terminator.
 */
final class CopyRecordRewriter {

    private final boolean csv;
    private final byte delimiter;
    private final byte quote;
    private final byte escape;
    private final byte[] nullBytes;
    private final String table;
    /** Indexed by field position; null where the field is not a vector. */
    private final VectorColumn[] columnAt;

    private final ByteChars fieldChars = new ByteChars();
    private final StringBuilder literal = new StringBuilder(64);
    private byte[] unquoted = new byte[64];

    CopyRecordRewriter(CopyFormat format, String table, List<VectorColumn> vectorColumns) {
        this.csv = format.isCsv();
        this.delimiter = (byte) format.delimiter();
        this.quote = (byte) format.quote();
        this.escape = (byte) format.escape();
        this.nullBytes = format.nullBytes();
        this.table = table;
        int last = vectorColumns.stream().mapToInt(VectorColumn::position).max().orElse(-1);
        this.columnAt = new VectorColumn[last + 1];
        for (VectorColumn column : vectorColumns) {
            if (columnAt[column.position()] != null) {
                throw new IllegalArgumentException("two vector columns at position " + column.position());
            }
            columnAt[column.position()] = column;
        }
    }

    /**
     * Writes the rewritten row {@code row[start, end)} to {@code out}.
     *
     * @param lineNumber PostgreSQL's line number of the row, for error context
     */
    void rewrite(byte[] row, int start, int end, long lineNumber, ByteSink out) {
        int copiedUpTo = start;
        int field = 0;
        int fieldStart = start;
        boolean inQuote = false;
        // Fields past the last vector column are never looked at: they go out with the tail copy.
        while (field < columnAt.length) {
            int fieldEnd = fieldStart;
            while (fieldEnd < end) {
                byte b = row[fieldEnd];
                if (csv) {
                    if (inQuote && b == escape && b != quote && fieldEnd + 1 < end
                            && (row[fieldEnd + 1] == quote || row[fieldEnd + 1] == escape)) {
                        fieldEnd += 2; // escaped quote or escape inside quotes
                        continue;
                    }
                    if (b == quote) {
                        inQuote = !inQuote;
                    } else if (b == delimiter && !inQuote) {
                        break;
                    }
                } else if (b == '\\') {
                    fieldEnd += 2; // backslash takes the next byte with it, even a delimiter
                    continue;
                } else if (b == delimiter) {
                    break;
                }
                fieldEnd++;
            }
            fieldEnd = Math.min(fieldEnd, end);
            VectorColumn column = columnAt[field];
            if (column != null && !isNull(row, fieldStart, fieldEnd)) {
                out.write(row, copiedUpTo, fieldStart - copiedUpTo);
                writeVectorField(row, fieldStart, fieldEnd, column, lineNumber, out);
                copiedUpTo = fieldEnd;
            }
            if (fieldEnd >= end) {
                break;
            }
            field++;
            fieldStart = fieldEnd + 1;
        }
        out.write(row, copiedUpTo, end - copiedUpTo);
    }

    /** A field equal to the null string (unquoted, in CSV) is NULL and stays as it is. */
    private boolean isNull(byte[] row, int start, int end) {
        return Arrays.equals(row, start, end, nullBytes, 0, nullBytes.length);
    }

    private void writeVectorField(byte[] row, int start, int end, VectorColumn column, long lineNumber, ByteSink out) {
        CharSequence value = csv ? unquote(row, start, end) : fieldChars.set(row, start, end - start);
        float[] vector;
        try {
            vector = VectorText.parse(value);
            if (column.dimensions() != 0 && column.dimensions() != vector.length) {
                throw VectorFormatException.dimensionMismatch(column.dimensions(), vector.length);
            }
        } catch (VectorFormatException e) {
            throw e.withContext("COPY " + table + ", line " + lineNumber + ", column " + column.name()
                    + ": \"" + VectorFormatException.quotable(value) + "\"");
        }
        literal.setLength(0);
        if (csv) {
            literal.append((char) quote); // the literal holds commas, so CSV needs it quoted
        }
        RealArrayText.appendTo(literal, vector);
        if (csv) {
            literal.append((char) quote);
        }
        out.writeAscii(literal);
    }

    /** The CSV field's value: quotes removed, escaped quotes and escapes taken literally. */
    private CharSequence unquote(byte[] row, int start, int end) {
        if (unquoted.length < end - start) {
            unquoted = new byte[Math.max(unquoted.length * 2, end - start)];
        }
        int n = 0;
        boolean inQuote = false;
        for (int i = start; i < end; i++) {
            byte b = row[i];
            if (!inQuote) {
                if (b == quote) {
                    inQuote = true;
                } else {
                    unquoted[n++] = b;
                }
            } else if (b == escape && i + 1 < end && (row[i + 1] == escape || row[i + 1] == quote)) {
                unquoted[n++] = row[++i];
            } else if (b == quote) {
                inQuote = false;
            } else {
                unquoted[n++] = b;
            }
        }
        return fieldChars.set(unquoted, 0, n);
    }
}
