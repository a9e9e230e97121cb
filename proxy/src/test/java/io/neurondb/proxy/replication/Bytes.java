package io.neurondb.proxy.replication;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Builds big-endian wire messages by hand for the tests. */
final class Bytes {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    static Bytes type(char t) {
        return new Bytes().b(t);
    }

    Bytes b(int v) {
        out.write(v);
        return this;
    }

    Bytes i16(int v) {
        return b(v >>> 8).b(v);
    }

    Bytes i32(long v) {
        return b((int) (v >>> 24)).b((int) (v >>> 16)).b((int) (v >>> 8)).b((int) v);
    }

    Bytes i64(long v) {
        return i32(v >>> 32).i32(v);
    }

    Bytes str(String s) {
        out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
        return b(0);
    }

    Bytes raw(byte[] bytes) {
        out.writeBytes(bytes);
        return this;
    }

    /** TupleData column 't' with a text value. */
    Bytes t(String s) {
        byte[] v = s.getBytes(StandardCharsets.UTF_8);
        return b('t').i32(v.length).raw(v);
    }

    Bytes bin(byte[] v) {
        return b('b').i32(v.length).raw(v);
    }

    byte[] done() {
        return out.toByteArray();
    }
}
