package io.neurondb.proxy.values;

/**
 * pgvector's binary wire form of a vector (vector_send/vector_recv): int16 dimensions, int16
 * unused (always 0), then each element as a float4; all big-endian.
 */
public final class PgvectorBinary {

    private static final int HEADER = 4;

    private PgvectorBinary() {
    }

    /**
     * Decodes {@code len} bytes at {@code off}, checking them as vector_recv does (dimensions,
     * the unused field, NaN and infinities) and also that the length is exactly what the header
     * promises: a parameter with bytes left over is an error in PostgreSQL too.
     */
    public static float[] decode(byte[] b, int off, int len) {
        if (len < HEADER) {
            throw VectorFormatException.badBinary("insufficient data for a vector: " + len + " bytes");
        }
        int dim = Bytes.int16(b, off);
        int unused = Bytes.int16(b, off + 2);
        VectorText.checkDimensions(dim);
        if (unused != 0) {
            throw VectorFormatException.dataException("expected unused to be 0, not " + unused);
        }
        if (len != HEADER + 4 * dim) {
            throw VectorFormatException.badBinary("incorrect binary data format: a vector of " + dim
                    + " dimensions takes " + (HEADER + 4 * dim) + " bytes, not " + len);
        }
        float[] vector = new float[dim];
        int p = off + HEADER;
        for (int i = 0; i < dim; i++, p += 4) {
            float value = Float.intBitsToFloat(Bytes.int32(b, p));
            VectorText.checkElement(value);
            vector[i] = value;
        }
        return vector;
    }

    /**
     * pgvector's binary form of {@code vector}. Like vector_send it does not judge the values;
     * the length must fit the int16 dimension field.
     */
    public static byte[] encode(float[] vector) {
        if (vector.length > Short.MAX_VALUE) {
            throw VectorFormatException.tooManyDimensions();
        }
        byte[] out = new byte[HEADER + 4 * vector.length];
        Bytes.putInt16(out, 0, vector.length);
        // bytes 2..3, "unused", stay 0
        int p = HEADER;
        for (float value : vector) {
            // floatToIntBits would fold every NaN to one pattern; send the bits we were given.
            Bytes.putInt32(out, p, Float.floatToRawIntBits(value));
            p += 4;
        }
        return out;
    }

    /**
     * True when the bytes have pgvector's layout rather than PostgreSQL's binary array layout
     * ({@link RealArrayBinary}), so a Bind parameter can be taken for what it is. They cannot
     * be confused: an array starts with int32 ndim, whose low half (bytes 2..3) is non-zero for
     * any array with elements, and the empty array (ndim 0) is 12 bytes where a 0-dimension
     * pgvector header would have to be exactly 4.
     */
    public static boolean matches(byte[] b, int off, int len) {
        if (len < HEADER || b[off + 2] != 0 || b[off + 3] != 0) {
            return false;
        }
        return len == HEADER + 4 * Bytes.uint16(b, off);
    }
}
