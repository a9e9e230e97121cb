package io.neurondb.proxy.values;

import java.nio.charset.StandardCharsets;

/**
 * A byte range seen as chars, one char per byte, so a COPY field can go to {@link VectorText#parse}
 * without decoding. Exact for ASCII, which is all a valid vector contains; any other byte simply
 * makes the parse fail. {@link #toString()} decodes UTF-8 properly, for error messages.
 */
final class ByteChars implements CharSequence {

    private byte[] bytes;
    private int offset;
    private int length;

    /** Points this view at another range; one instance is reused for every field. */
    ByteChars set(byte[] newBytes, int newOffset, int newLength) {
        this.bytes = newBytes;
        this.offset = newOffset;
        this.length = newLength;
        return this;
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public char charAt(int index) {
        if (index < 0 || index >= length) {
            throw new IndexOutOfBoundsException(index);
        }
        return (char) (bytes[offset + index] & 0xff);
    }

    @Override
    public CharSequence subSequence(int start, int end) {
        // Same one-char-per-byte view as charAt, so indices agree (callers slice ASCII tokens).
        return new String(bytes, offset + start, end - start, StandardCharsets.ISO_8859_1);
    }

    @Override
    public String toString() {
        return new String(bytes, offset, length, StandardCharsets.UTF_8);
    }
}
