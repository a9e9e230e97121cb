package io.neurondb.proxy.values;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.Random;

import static io.neurondb.proxy.values.VectorTextTest.assertBitsEqual;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class RealArrayTextTest {

    static VectorFormatException parseError(String input) {
        return catchThrowableOfType(VectorFormatException.class, () -> RealArrayText.parse(input));
    }

    static VectorFormatException convertError(String input) {
        return catchThrowableOfType(VectorFormatException.class,
                () -> RealArrayText.toVectorText(input.getBytes(StandardCharsets.UTF_8)));
    }

    static String toVector(String realArray) {
        return new String(RealArrayText.toVectorText(realArray.getBytes(StandardCharsets.UTF_8)), StandardCharsets.UTF_8);
    }

    @Test
    void formatsArrayLiterals() {
        assertThat(RealArrayText.format(new float[] {1, 2.5f, -3e-5f})).isEqualTo("{1,2.5,-3e-05}");
        assertThat(RealArrayText.format(new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0f}))
                .isEqualTo("{NaN,Infinity,-Infinity,-0}");
    }

    @Test
    void parsesServerOutput() {
        assertBitsEqual(RealArrayText.parse("{1,2,3}"), new float[] {1, 2, 3});
        assertBitsEqual(RealArrayText.parse("{1.5e+20,-3e-05,0.1}"), new float[] {1.5e20f, -3e-5f, 0.1f});
        float[] special = RealArrayText.parse("{NaN,Infinity,-Infinity}");
        assertThat(special[0]).isNaN();
        assertThat(special[1]).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(special[2]).isEqualTo(Float.NEGATIVE_INFINITY);
    }

    @Test
    void toleratesHandWrittenForms() {
        assertBitsEqual(RealArrayText.parse(" { 1 , \"2.5\" ,3 } "), new float[] {1, 2.5f, 3});
        assertBitsEqual(RealArrayText.parse("[0:2]={1,2,3}"), new float[] {1, 2, 3});
        assertBitsEqual(RealArrayText.parse("[2]={1,2}"), new float[] {1, 2});
    }

    @Test
    void randomArraysRoundTripBitExact() {
        Random random = new Random(99);
        for (int round = 0; round < 2000; round++) {
            float[] values = new float[1 + random.nextInt(40)];
            for (int i = 0; i < values.length; i++) {
                values[i] = random.nextInt(10) == 0
                        ? Float.intBitsToFloat(random.nextInt()) // NaNs and infinities too
                        : (float) random.nextGaussian();
            }
            float[] back = RealArrayText.parse(RealArrayText.format(values));
            for (int i = 0; i < values.length; i++) {
                if (Float.isNaN(values[i])) {
                    assertThat(back[i]).isNaN(); // PostgreSQL too keeps one NaN, not its payload
                } else {
                    assertThat(Float.floatToRawIntBits(back[i])).isEqualTo(Float.floatToRawIntBits(values[i]));
                }
            }
        }
    }

    @Test
    void nullElementsAreRefused() {
        for (String input : new String[] {"{1,NULL}", "{NULL}", "{null,1}", "{1, NULL ,2}"}) {
            VectorFormatException e = parseError(input);
            assertThat(e.sqlState()).as(input).isEqualTo("22004");
            assertThat(e.getMessage()).isEqualTo("array must not contain nulls");
        }
    }

    @Test
    void multiDimensionalArraysAreRefused() {
        for (String input : new String[] {"{{1,2},{3,4}}", "{ {1}}", "[1:2][1:1]={{1},{2}}"}) {
            VectorFormatException e = parseError(input);
            assertThat(e.sqlState()).as(input).isEqualTo("22000");
            assertThat(e.getMessage()).isEqualTo("array must be 1-D");
        }
    }

    @Test
    void emptyArrayHasNoDimensions() {
        assertThat(parseError("{}").getMessage()).isEqualTo("vector must have at least 1 dimension");
        assertThat(parseError("{ }").getMessage()).isEqualTo("vector must have at least 1 dimension");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "1,2", "{1,2", "1,2}", "{1,,2}", "{1,2,}", "{,1}", "{a}", "{1 2}", "{\"1}", "[0:5]={1,2}",
        "[x]={1}", "[1:2]{1,2}"})
    void malformedArrays(String input) {
        VectorFormatException e = parseError(input);
        assertThat(e).as(input).isNotNull();
        assertThat(e.sqlState()).isEqualTo("22P02");
        assertThat(e.getMessage()).startsWith("malformed array literal: \"" + input + "\"");
    }

    @Test
    void toVectorTextSwapsTheBraces() {
        assertThat(toVector("{1,2.5,-3e-05}")).isEqualTo("[1,2.5,-3e-05]");
        assertThat(toVector("{1.5e+20}")).isEqualTo("[1.5e+20]");
        assertThat(toVector("{NaN,Infinity,-Infinity}")).isEqualTo("[NaN,Infinity,-Infinity]");
        assertThat(toVector("[0:1]={1,2}")).isEqualTo("[1,2]");
    }

    @Test
    void toVectorTextAllocatesOnlyTheResult() {
        byte[] input = "{1,2,3}".getBytes(StandardCharsets.US_ASCII);
        byte[] output = RealArrayText.toVectorText(input);
        assertThat(output).isNotSameAs(input).hasSize(input.length);
        assertThat(input).isEqualTo("{1,2,3}".getBytes(StandardCharsets.US_ASCII)); // input untouched
    }

    @Test
    void toVectorTextMatchesVectorFormatForRandomVectors() {
        // The premise of the cheap conversion: float4out and vector_out print elements alike.
        Random random = new Random(5);
        for (int round = 0; round < 1000; round++) {
            float[] vector = new float[1 + random.nextInt(20)];
            for (int i = 0; i < vector.length; i++) {
                vector[i] = VectorTextTest.finiteFromBits(random);
            }
            assertThat(toVector(RealArrayText.format(vector))).isEqualTo(VectorText.format(vector));
        }
    }

    @Test
    void toVectorTextRefusesWhatIsNotAFlatArrayWithoutNulls() {
        assertThat(convertError("{1,NULL}").getMessage()).isEqualTo("array must not contain nulls");
        assertThat(convertError("{1,NULL}").sqlState()).isEqualTo("22004");
        assertThat(convertError("{{1,2},{3,4}}").getMessage()).isEqualTo("array must be 1-D");
        assertThat(convertError("[1:2][1:1]={{1},{2}}").getMessage()).isEqualTo("array must be 1-D");
        assertThat(convertError("{}").getMessage()).isEqualTo("vector must have at least 1 dimension");
        for (String bad : new String[] {"", "{", "}", "1,2", "[1,2]", "{1,2", "{1,,2}", "{,1}", "{1,}", "{a}",
            "{1, 2}", "{\"1\"}", "[0:1]{1,2}"}) {
            VectorFormatException e = convertError(bad);
            assertThat(e).as(bad).isNotNull();
            assertThat(e.sqlState()).as(bad).isIn("22P02", "22000");
        }
    }
}
