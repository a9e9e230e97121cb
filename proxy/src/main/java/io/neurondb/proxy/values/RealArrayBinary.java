package io.neurondb.proxy.values;

/**
 * PostgreSQL's binary form (array_send/array_recv) of a one-dimensional {@code real[]}: int32
 * ndim, int32 has-nulls flag, int32 element type OID (700), per dimension int32 length and
 * int32 lower bound, then per element int32 length (4, or -1 for NULL) and the float4 bits.
 */
public final class RealArrayBinary {

    /** pg_type OID of float4 ("real"). */
    public static final int FLOAT4_OID = 700;

    private static final int HEADER = 12;
    private static final int DIMENSION = 8;
    private static final int ELEMENT = 8;

    private RealArrayBinary() {
    }

    /** The binary {@code real[]} holding {@code values}, lower bound 1, no NULLs. */
    public static byte[] encode(float[] values) {
        byte[] out = new byte[HEADER + DIMENSION + ELEMENT * values.length];
        Bytes.putInt32(out, 0, 1);
        Bytes.putInt32(out, 4, 0);
        Bytes.putInt32(out, 8, FLOAT4_OID);
        Bytes.putInt32(out, 12, values.length);
        Bytes.putInt32(out, 16, 1);
        int p = HEADER + DIMENSION;
        for (float value : values) {
            Bytes.putInt32(out, p, 4);
            Bytes.putInt32(out, p + 4, Float.floatToRawIntBits(value));
            p += ELEMENT;
        }
        return out;
    }

    /**
     * Decodes a binary {@code real[]} that is to become a vector: exactly one dimension (any
     * lower bound) with 1 to 16000 elements, no NULLs, element type float4, and no bytes
     * missing or left over. NaN and infinities are returned as they are; whether they are
     * allowed is the caller's question (pgvector's rule is applied when a vector is decoded).
     */
    public static float[] decode(byte[] b, int off, int len) {
        if (len < HEADER) {
            throw VectorFormatException.badBinary("insufficient data for an array: " + len + " bytes");
        }
        int ndim = Bytes.int32(b, off);
        int flags = Bytes.int32(b, off + 4);
        int elementType = Bytes.int32(b, off + 8);
        if (ndim == 0) {
            throw VectorFormatException.noDimensions();
        }
        if (ndim != 1) {
            throw ndim < 0
                    ? VectorFormatException.badBinary("invalid number of dimensions: " + ndim)
                    : VectorFormatException.arrayNotOneDimensional();
        }
        if (flags != 0 && flags != 1) {
            throw VectorFormatException.badBinary("invalid array flags");
        }
        if (elementType != FLOAT4_OID) {
            throw VectorFormatException.datatypeMismatch("binary data has array element type "
                    + Integer.toUnsignedString(elementType) + " instead of expected " + FLOAT4_OID + " (real)");
        }
        if (len < HEADER + DIMENSION) {
            throw VectorFormatException.badBinary("insufficient data for an array dimension");
        }
        int count = Bytes.int32(b, off + HEADER);
        VectorText.checkDimensions(count);
        if (len != HEADER + DIMENSION + (long) ELEMENT * count) {
            throw VectorFormatException.badBinary("incorrect binary data format: a real[] of " + count
                    + " elements takes " + (HEADER + DIMENSION + (long) ELEMENT * count) + " bytes, not " + len);
        }
        float[] values = new float[count];
        int p = off + HEADER + DIMENSION;
        for (int i = 0; i < count; i++, p += ELEMENT) {
            int elementLength = Bytes.int32(b, p);
            if (elementLength == -1) {
                throw VectorFormatException.arrayContainsNulls();
            }
            if (elementLength != 4) {
                throw VectorFormatException.badBinary("incorrect binary data format: element "
                        + (i + 1) + " has " + elementLength + " bytes, a real has 4");
            }
            values[i] = Float.intBitsToFloat(Bytes.int32(b, p + 4));
        }
        return values;
    }
}
