package io.neurondb.proxy.values;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * The options of a {@code COPY ... FROM STDIN} that decide how its data stream splits into rows
 * and fields. Build with {@link #text()} or {@link #csv()} (PostgreSQL's defaults) and the
 * {@code with...} methods. Binary COPY is not described here: it has no text to translate.
 *
 * @param kind      text (PostgreSQL's default format) or CSV
 * @param delimiter the field separator, one single-byte character
 * @param nullString how a NULL is written ({@code \N} in text, empty in CSV)
 * @param quote     CSV quote character (unused in text format)
 * @param escape    CSV escape character inside quotes (unused in text format)
 * @param header    whether the first line is a header to pass through
 */
public record CopyFormat(Kind kind, char delimiter, String nullString, char quote, char escape, boolean header) {

    /** The two COPY formats with text to translate. */
    public enum Kind { TEXT, CSV }

    public CopyFormat {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(nullString, "nullString");
        requireSingleByte(delimiter, "delimiter");
        requireSingleByte(quote, "quote");
        requireSingleByte(escape, "escape");
        if (delimiter == '\n' || delimiter == '\r') {
            throw new IllegalArgumentException("COPY delimiter cannot be newline or carriage return");
        }
        if (kind == Kind.CSV && delimiter == quote) {
            throw new IllegalArgumentException("COPY delimiter and quote must be different");
        }
    }

    /** Text format defaults: tab, {@code \N}, no header. */
    public static CopyFormat text() {
        return new CopyFormat(Kind.TEXT, '\t', "\\N", '"', '"', false);
    }

    /** CSV defaults: comma, NULL as an empty unquoted field, {@code "} for quote and escape, no header. */
    public static CopyFormat csv() {
        return new CopyFormat(Kind.CSV, ',', "", '"', '"', false);
    }

    public CopyFormat withDelimiter(char newDelimiter) {
        return new CopyFormat(kind, newDelimiter, nullString, quote, escape, header);
    }

    public CopyFormat withNullString(String newNullString) {
        return new CopyFormat(kind, delimiter, newNullString, quote, escape, header);
    }

    /** Sets the quote; like PostgreSQL, the escape follows the quote unless set after this. */
    public CopyFormat withQuote(char newQuote) {
        return new CopyFormat(kind, delimiter, nullString, newQuote, escape == quote ? newQuote : escape, header);
    }

    public CopyFormat withEscape(char newEscape) {
        return new CopyFormat(kind, delimiter, nullString, quote, newEscape, header);
    }

    public CopyFormat withHeader(boolean newHeader) {
        return new CopyFormat(kind, delimiter, nullString, quote, escape, newHeader);
    }

    public boolean isCsv() {
        return kind == Kind.CSV;
    }

    byte[] nullBytes() {
        return nullString.getBytes(StandardCharsets.UTF_8);
    }

    private static void requireSingleByte(char c, String what) {
        if (c > 0x7f) {
            throw new IllegalArgumentException("COPY " + what + " must be a single one-byte character");
        }
    }
}
