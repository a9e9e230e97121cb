package io.neurondb.proxy.values;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class VectorTextTest {

    static VectorFormatException error(String input) {
        return catchThrowableOfType(VectorFormatException.class, () -> VectorText.parse(input));
    }

    static void assertBitsEqual(float[] actual, float[] expected) {
        assertThat(actual).hasSameSizeAs(expected);
        for (int i = 0; i < expected.length; i++) {
            assertThat(Float.floatToRawIntBits(actual[i]))
                    .as("element %d: %s vs %s", i, actual[i], expected[i])
                    .isEqualTo(Float.floatToRawIntBits(expected[i]));
        }
    }

    @Test
    void parsesPgvectorLiterals() {
        assertBitsEqual(VectorText.parse("[1,2,3]"), new float[] {1, 2, 3});
        assertBitsEqual(VectorText.parse("  [ 1 , -2.5 ,\t3e-05 ]\n "), new float[] {1, -2.5f, 3e-5f});
        assertBitsEqual(VectorText.parse("[1.,.5,+4,-0,1E3,2e+2,7e-1]"),
                new float[] {1, 0.5f, 4, -0f, 1000, 200, 0.7f});
        assertBitsEqual(VectorText.parse("[\f\u000b1\r]"), new float[] {1});
        assertBitsEqual(VectorText.parse("[0.1]"), new float[] {0.1f});
    }

    @Test
    void parsesLikeStrtofNotLikeDoubleThenFloat() {
        // 1.00000005960464477539062500001 rounds to the float above 1 directly, but via double
        // it first becomes exactly the half-way point and then rounds to even, i.e. to 1.
        String justAboveHalfway = "1.00000005960464477539062500001";
        assertThat(VectorText.parse("[" + justAboveHalfway + "]")[0]).isEqualTo(Math.nextUp(1f));
        assertThat((float) Double.parseDouble(justAboveHalfway)).isEqualTo(1f);
    }

    @Test
    void underflowIsZeroOrSubnormalAsInPgvector() {
        assertBitsEqual(VectorText.parse("[1e-50,-1e-50,1e-45]"), new float[] {0f, -0f, Float.MIN_VALUE});
    }

    @Test
    void extremesOfTheFloatRange() {
        assertBitsEqual(VectorText.parse("[3.4028235e38,-3.4028235e+38,1.17549435e-38]"),
                new float[] {Float.MAX_VALUE, -Float.MAX_VALUE, Float.MIN_NORMAL});
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "   ", "1,2", "(1,2)", "{1,2}", "[1,2", "[1,,2]", "[1,2,]", "[,1]", "[1 2]",
        "[1,2]x", "[1,2] ]", "[1;2]", "[0x10]", "[0x1p3]", "[1e]", "[e5]", "[.]", "[-]", "[+]", "[1..2]",
        "[1,2]]", "[[1]]", "[1f]", "[ 1 , ]", "[ 1, 2", "[١]", "[--1]"})
    void malformedInputIsASyntaxError(String input) {
        VectorFormatException e = error(input);
        assertThat(e).isNotNull();
        assertThat(e.sqlState()).isEqualTo("22P02");
        assertThat(e.getMessage()).isEqualTo("invalid input syntax for type vector: \"" + input + "\"");
        assertThat(e.primaryMessage()).isEqualTo(e.getMessage());
        assertThat(e.context()).isNull();
    }

    @Test
    void longInputIsCutInTheMessage() {
        String input = "[" + "1,".repeat(200) + "x]";
        VectorFormatException e = error(input);
        assertThat(e.sqlState()).isEqualTo("22P02");
        assertThat(e.getMessage())
                .isEqualTo("invalid input syntax for type vector: \"" + input.substring(0, 100) + "...\"");
    }

    @ParameterizedTest
    @ValueSource(strings = {"[]", "  [  ]  ", "[\n]"})
    void emptyVector(String input) {
        VectorFormatException e = error(input);
        assertThat(e.sqlState()).isEqualTo("22000");
        assertThat(e.getMessage()).isEqualTo("vector must have at least 1 dimension");
    }

    @Test
    void dimensionLimit() {
        String max = "[" + "1,".repeat(15999) + "1]";
        assertThat(VectorText.parse(max)).hasSize(16000);
        VectorFormatException e = error("[" + "1,".repeat(16000) + "1]");
        assertThat(e.sqlState()).isEqualTo("54000");
        assertThat(e.getMessage()).isEqualTo("vector cannot have more than 16000 dimensions");
        // pgvector checks the count before it looks at the 16001st element.
        assertThat(error("[" + "1,".repeat(16000) + "x]").sqlState()).isEqualTo("54000");
    }

    // strtof reads "nan" out of "nana" (and "inf" out of "infinit"), and pgvector checks the
    // value before it looks at what follows, so these are NaN/infinity errors, not syntax errors.
    @ParameterizedTest
    @ValueSource(strings = {"[NaN]", "[1,nan]", "[-NAN]", "[ NaN ,1]", "[nana]"})
    void nan(String input) {
        VectorFormatException e = error(input);
        assertThat(e.sqlState()).isEqualTo("22000");
        assertThat(e.getMessage()).isEqualTo("NaN not allowed in vector");
    }

    @ParameterizedTest
    @ValueSource(strings = {"[Infinity]", "[1,-inf]", "[INF]", "[+infinity]", "[-Infinity,1]", "[infinit]"})
    void infinity(String input) {
        VectorFormatException e = error(input);
        assertThat(e.sqlState()).isEqualTo("22000");
        assertThat(e.getMessage()).isEqualTo("infinite value not allowed in vector");
    }

    @ParameterizedTest
    @CsvSource(delimiterString = "|", value = {"[1e39]|1e39", "[1, -3.5e38 ]|-3.5e38", "[3.4028236e38]|3.4028236e38",
        "[1e99999999999]|1e99999999999"})
    void overflowIsOutOfRange(String input, String token) {
        VectorFormatException e = error(input);
        assertThat(e.sqlState()).isEqualTo("22003");
        assertThat(e.getMessage()).isEqualTo("\"" + token + "\" is out of range for type vector");
    }

    @Test
    void firstErrorWinsLikePgvector() {
        // Elements are checked left to right: the NaN is seen before the syntax error.
        assertThat(error("[NaN,x]").getMessage()).isEqualTo("NaN not allowed in vector");
        assertThat(error("[x,NaN]").sqlState()).isEqualTo("22P02");
    }

    @ParameterizedTest
    @CsvSource(delimiterString = "|", value = {
        "1|1", "0.1|0.1", "1e-05|1e-05", "1.5e+20|1.5e+20", "123456.7|123456.7", "-3e-05|-3e-05",
        "2.5|2.5", "0|0", "-0|-0", "100000|100000", "1e+06|1e+06", "1234567|1.234567e+06",
        "0.0001|0.0001", "0.00012345|0.00012345", "0.00001234|1.234e-05", "16777216|1.6777216e+07",
        "3.4028235e38|3.4028235e+38", "1.17549435e-38|1.1754944e-38", "1e-45|1e-45", "1.4e-45|1e-45",
        "0.3|0.3", "1.1|1.1", "100|100", "120|120", "999999|999999", "1000000|1e+06",
        "-219360192|-2.1936019e+08", "122080784|1.22080784e+08"})
    void formatsElementsAsFloat4out(String input, String expected) {
        float value = Float.parseFloat(input);
        assertThat(VectorText.format(new float[] {value})).isEqualTo("[" + expected + "]");
    }

    /**
     * Floats whose shortest decimal lies exactly on the rounding boundary: Java's Float.toString
     * prints that (fewer digits), PostgreSQL never does. Expected strings were taken from a
     * PostgreSQL 15 server ({@code select '<exact value>'::float4}).
     */
    @ParameterizedTest
    @CsvSource(delimiterString = "|", value = {
        "-219360192|-2.1936019e+08", "48766792|4.8766792e+07", "-44709117952|-4.4709118e+10",
        "-40569608|-4.0569608e+07", "122080784|1.22080784e+08", "-963597568|-9.6359757e+08",
        "-121225984|-1.21225984e+08", "20256641024|2.0256641e+10", "-588981632|-5.8898163e+08",
        "64022312|6.4022312e+07"})
    void neverPrintsAHalfwayPointLikePostgres(String exact, String expected) {
        float value = Float.parseFloat(exact);
        assertThat(new java.math.BigDecimal(value).toPlainString()).isEqualTo(exact);
        assertThat(Float.toString(value).length()).isLessThan(expected.length()); // Java differs
        assertThat(VectorText.format(new float[] {value})).isEqualTo("[" + expected + "]");
    }

    @Test
    void formatsVectors() {
        assertThat(VectorText.format(new float[] {1, 2.5f, -3e-5f})).isEqualTo("[1,2.5,-3e-05]");
        assertThat(VectorText.format(new float[] {1f, 0.1f, 1e-5f, 1.5e20f, 123456.7f}))
                .isEqualTo("[1,0.1,1e-05,1.5e+20,123456.7]");
        StringBuilder out = new StringBuilder("x=");
        VectorText.appendTo(out, new float[] {7});
        assertThat(out).hasToString("x=[7]");
    }

    @Test
    void nanAndInfinityFormatAsPostgresSpellsThem() {
        assertThat(VectorText.format(new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}))
                .isEqualTo("[NaN,Infinity,-Infinity]");
    }

    @Test
    void randomVectorsRoundTripBitExact() {
        Random random = new Random(20261124);
        for (int round = 0; round < 2000; round++) {
            float[] vector = new float[1 + random.nextInt(64)];
            for (int i = 0; i < vector.length; i++) {
                vector[i] = switch (random.nextInt(4)) {
                    case 0 -> (float) random.nextGaussian();
                    case 1 -> random.nextFloat() * 2 - 1;
                    case 2 -> (float) (random.nextGaussian() * Math.pow(10, random.nextInt(60) - 30));
                    default -> finiteFromBits(random);
                };
            }
            String text = VectorText.format(vector);
            assertBitsEqual(VectorText.parse(text), vector);
        }
    }

    @Test
    void everyExponentRoundTrips() {
        // One float from each binary exponent, subnormals included, with random low bits.
        Random random = new Random(7);
        for (int exponent = 0; exponent < 255; exponent++) {
            for (int k = 0; k < 50; k++) {
                int bits = exponent << 23 | random.nextInt(1 << 23);
                float value = Float.intBitsToFloat(random.nextBoolean() ? bits : bits | 0x80000000);
                float[] vector = {value};
                assertBitsEqual(VectorText.parse(VectorText.format(vector)), vector);
            }
        }
    }

    @Test
    void looksLikeVector() {
        assertThat(VectorText.looksLikeVector("[1,2]")).isTrue();
        assertThat(VectorText.looksLikeVector(" \n\t[")).isTrue();
        assertThat(VectorText.looksLikeVector("{1,2}")).isFalse();
        assertThat(VectorText.looksLikeVector("")).isFalse();
        assertThat(VectorText.looksLikeVector("   ")).isFalse();
        assertThat(VectorText.looksLikeVector("x[1]")).isFalse();
    }

    @Test
    void dimensionMismatchFactory() {
        VectorFormatException e = VectorFormatException.dimensionMismatch(3, 2);
        assertThat(e.sqlState()).isEqualTo("22000");
        assertThat(e.getMessage()).isEqualTo("expected 3 dimensions, not 2");
    }

    static float finiteFromBits(Random random) {
        float value;
        do {
            value = Float.intBitsToFloat(random.nextInt());
        } while (Float.isNaN(value) || Float.isInfinite(value));
        return value;
    }
}
