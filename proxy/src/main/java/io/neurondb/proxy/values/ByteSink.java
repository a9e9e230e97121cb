package io.neurondb.proxy.values;

import java.util.Arrays;

/** A reusable growable byte buffer: one per translator, reset between chunks. */
final class ByteSink {

    private byte[] bytes;
    private int length;

    ByteSink(int initialCapacity) {
        bytes = new byte[Math.max(16, initialCapacity)];
    }

    void reset() {
        length = 0;
    }

    int length() {
        return length;
    }

    void write(byte b) {
        ensureRoom(1);
        bytes[length++] = b;
    }

    void write(byte[] source, int off, int len) {
        ensureRoom(len);
        System.arraycopy(source, off, bytes, length, len);
        length += len;
    }

    /** Writes chars known to be ASCII (formatted numbers, brackets) one byte each. */
    void writeAscii(CharSequence chars) {
        int n = chars.length();
        ensureRoom(n);
        for (int i = 0; i < n; i++) {
            bytes[length++] = (byte) chars.charAt(i);
        }
    }

    byte[] toByteArray() {
        return Arrays.copyOf(bytes, length);
    }

    private void ensureRoom(int more) {
        if (length + more > bytes.length) {
            bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + more));
        }
    }
}
