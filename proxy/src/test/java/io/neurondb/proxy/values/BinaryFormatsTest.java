package io.neurondb.proxy.values;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.Random;

import static io.neurondb.proxy.values.VectorTextTest.assertBitsEqual;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class BinaryFormatsTest {

    private static byte[] bytes(int... values) {
        byte[] out = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (byte) values[i];
        }
        return out;
    }

    private static VectorFormatException vectorError(byte[] b) {
        return catchThrowableOfType(VectorFormatException.class, () -> PgvectorBinary.decode(b, 0, b.length));
    }

    private static VectorFormatException arrayError(byte[] b) {
        return catchThrowableOfType(VectorFormatException.class, () -> RealArrayBinary.decode(b, 0, b.length));
    }

    // ---- pgvector ----

    @Test
    void pgvectorLayoutByteByByte() {
        assertThat(PgvectorBinary.encode(new float[] {1f, -2.5f})).containsExactly(bytes(
                0x00, 0x02, 0x00, 0x00,
                0x3f, 0x80, 0x00, 0x00,
                0xc0, 0x20, 0x00, 0x00));
    }

    @Test
    void pgvectorDecodesAtAnOffset() {
        byte[] framed = new byte[3 + 12 + 2];
        System.arraycopy(PgvectorBinary.encode(new float[] {1f, -2.5f}), 0, framed, 3, 12);
        assertBitsEqual(PgvectorBinary.decode(framed, 3, 12), new float[] {1f, -2.5f});
        assertThat(PgvectorBinary.matches(framed, 3, 12)).isTrue();
    }

    @Test
    void pgvectorRandomRoundTrip() {
        Random random = new Random(3);
        for (int round = 0; round < 500; round++) {
            float[] vector = new float[1 + random.nextInt(100)];
            for (int i = 0; i < vector.length; i++) {
                vector[i] = VectorTextTest.finiteFromBits(random);
            }
            byte[] encoded = PgvectorBinary.encode(vector);
            assertThat(encoded).hasSize(4 + 4 * vector.length);
            assertBitsEqual(PgvectorBinary.decode(encoded, 0, encoded.length), vector);
            assertThat(PgvectorBinary.matches(encoded, 0, encoded.length)).isTrue();
        }
    }

    @Test
    void pgvectorValidation() {
        assertThat(vectorError(bytes(0, 0, 0, 0)).getMessage()).isEqualTo("vector must have at least 1 dimension");
        assertThat(vectorError(bytes(0xff, 0xff, 0, 0)).getMessage()).isEqualTo("vector must have at least 1 dimension");
        VectorFormatException tooMany = vectorError(bytes(0x3e, 0x81, 0, 0)); // 16001
        assertThat(tooMany.sqlState()).isEqualTo("54000");
        assertThat(tooMany.getMessage()).isEqualTo("vector cannot have more than 16000 dimensions");
        VectorFormatException unused = vectorError(bytes(0, 1, 0, 7, 0x3f, 0x80, 0, 0));
        assertThat(unused.sqlState()).isEqualTo("22000");
        assertThat(unused.getMessage()).isEqualTo("expected unused to be 0, not 7");
        assertThat(vectorError(bytes(0, 2, 0, 0, 0x3f, 0x80, 0, 0)).sqlState()).isEqualTo("22P03"); // short
        assertThat(vectorError(bytes(0, 1, 0, 0, 0x3f, 0x80, 0, 0, 0)).sqlState()).isEqualTo("22P03"); // long
        assertThat(vectorError(bytes(0, 1)).sqlState()).isEqualTo("22P03");
        VectorFormatException nan = vectorError(bytes(0, 1, 0, 0, 0x7f, 0xc0, 0, 0));
        assertThat(nan.sqlState()).isEqualTo("22000");
        assertThat(nan.getMessage()).isEqualTo("NaN not allowed in vector");
        assertThat(vectorError(bytes(0, 1, 0, 0, 0xff, 0x80, 0, 0)).getMessage())
                .isEqualTo("infinite value not allowed in vector");
    }

    @Test
    void pgvectorEncodeKeepsBitsAsGiven() {
        float odd = Float.intBitsToFloat(0x7fc00001);
        byte[] encoded = PgvectorBinary.encode(new float[] {odd, -0f});
        assertThat(ByteBuffer.wrap(encoded, 4, 8).getInt()).isEqualTo(0x7fc00001);
        assertThat(ByteBuffer.wrap(encoded, 8, 4).getInt()).isEqualTo(0x80000000);
    }

    // ---- real[] ----

    @Test
    void realArrayLayoutByteByByte() {
        assertThat(RealArrayBinary.encode(new float[] {1f, -2.5f})).containsExactly(bytes(
                0, 0, 0, 1,          // ndim
                0, 0, 0, 0,          // no nulls
                0, 0, 0x02, 0xbc,    // element type 700
                0, 0, 0, 2,          // length
                0, 0, 0, 1,          // lower bound
                0, 0, 0, 4, 0x3f, 0x80, 0x00, 0x00,
                0, 0, 0, 4, 0xc0, 0x20, 0x00, 0x00));
    }

    @Test
    void realArrayRandomRoundTripAndLowerBoundIgnored() {
        Random random = new Random(4);
        for (int round = 0; round < 500; round++) {
            float[] values = new float[1 + random.nextInt(100)];
            for (int i = 0; i < values.length; i++) {
                values[i] = VectorTextTest.finiteFromBits(random);
            }
            byte[] encoded = RealArrayBinary.encode(values);
            assertBitsEqual(RealArrayBinary.decode(encoded, 0, encoded.length), values);
            encoded[19] = 0; // lower bound 0
            encoded[4 + 3] = 1; // has-null flag set, but no element is NULL
            assertBitsEqual(RealArrayBinary.decode(encoded, 0, encoded.length), values);
        }
    }

    @Test
    void realArrayValidation() {
        byte[] empty = bytes(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0xbc);
        assertThat(arrayError(empty).getMessage()).isEqualTo("vector must have at least 1 dimension");

        byte[] good = RealArrayBinary.encode(new float[] {1, 2});
        byte[] twoDims = good.clone();
        twoDims[3] = 2;
        assertThat(arrayError(twoDims).getMessage()).isEqualTo("array must be 1-D");

        byte[] withNull = good.clone();
        ByteBuffer.wrap(withNull).putInt(4, 1).putInt(28, -1);
        VectorFormatException nullError = arrayError(withNull);
        assertThat(nullError.sqlState()).isEqualTo("22004");
        assertThat(nullError.getMessage()).isEqualTo("array must not contain nulls");

        byte[] float8 = good.clone();
        ByteBuffer.wrap(float8).putInt(8, 701);
        VectorFormatException typeError = arrayError(float8);
        assertThat(typeError.sqlState()).isEqualTo("42804");
        assertThat(typeError.getMessage()).isEqualTo("binary data has array element type 701 instead of expected 700 (real)");

        byte[] truncated = java.util.Arrays.copyOf(good, good.length - 1);
        assertThat(arrayError(truncated).sqlState()).isEqualTo("22P03");
        byte[] badElementLength = good.clone();
        ByteBuffer.wrap(badElementLength).putInt(20, 8);
        assertThat(arrayError(badElementLength).sqlState()).isEqualTo("22P03");
        byte[] badFlags = good.clone();
        badFlags[7] = 2;
        assertThat(arrayError(badFlags).sqlState()).isEqualTo("22P03");
        assertThat(arrayError(bytes(0, 0, 0, 1)).sqlState()).isEqualTo("22P03");
        byte[] hugeCount = good.clone();
        ByteBuffer.wrap(hugeCount).putInt(12, Integer.MAX_VALUE);
        assertThat(arrayError(hugeCount).sqlState()).isEqualTo("54000");
    }

    // ---- telling them apart ----

    @Test
    void matchesNeverTakesARealArrayForAPgvector() {
        Random random = new Random(11);
        for (int n = 0; n <= 300; n++) {
            float[] values = new float[n];
            for (int i = 0; i < n; i++) {
                values[i] = random.nextFloat();
            }
            byte[] array = RealArrayBinary.encode(values);
            assertThat(PgvectorBinary.matches(array, 0, array.length)).as("real[%d]", n).isFalse();
            if (n > 0) {
                byte[] vector = PgvectorBinary.encode(values);
                assertThat(PgvectorBinary.matches(vector, 0, vector.length)).as("vector(%d)", n).isTrue();
            }
        }
        // The empty array (ndim 0) in PostgreSQL's layout: 12 bytes, starts with four zero bytes.
        byte[] emptyArray = bytes(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0xbc);
        assertThat(PgvectorBinary.matches(emptyArray, 0, emptyArray.length)).isFalse();
        // Multi-dimensional arrays have ndim in byte 3.
        byte[] twoDims = bytes(0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0x02, 0xbc, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1,
                0, 0, 0, 4, 0, 0, 0, 0);
        assertThat(PgvectorBinary.matches(twoDims, 0, twoDims.length)).isFalse();
    }

    @Test
    void matchesNeedsTheExactLength() {
        byte[] vector = PgvectorBinary.encode(new float[] {1, 2, 3});
        assertThat(PgvectorBinary.matches(vector, 0, vector.length - 1)).isFalse();
        assertThat(PgvectorBinary.matches(vector, 0, 3)).isFalse();
        byte[] longer = java.util.Arrays.copyOf(vector, vector.length + 4);
        assertThat(PgvectorBinary.matches(longer, 0, longer.length)).isFalse();
        byte[] unusedSet = vector.clone();
        unusedSet[3] = 1;
        assertThat(PgvectorBinary.matches(unusedSet, 0, unusedSet.length)).isFalse();
    }
}
