package io.neurondb.proxy.values;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class VectorFormatExceptionTest {

    @Test
    void contextIsKeptApartAndJoinedForGetMessage() {
        VectorFormatException plain = VectorFormatException.nanNotAllowed();
        VectorFormatException located = plain.withContext("COPY items, line 3, column embedding: \"[NaN]\"");
        assertThat(located.sqlState()).isEqualTo("22000");
        assertThat(located.primaryMessage()).isEqualTo("NaN not allowed in vector");
        assertThat(located.context()).isEqualTo("COPY items, line 3, column embedding: \"[NaN]\"");
        assertThat(located.getMessage())
                .isEqualTo("COPY items, line 3, column embedding: \"[NaN]\": NaN not allowed in vector");
        assertThat(plain.context()).isNull();
        assertThat(located.getStackTrace()).isEmpty();
    }

    @Test
    void quotedInputIsCutWithoutSplittingACharacter() {
        String input = "x".repeat(99) + "\ud83d\ude00" + "tail";
        assertThat(VectorFormatException.quotable(input)).isEqualTo("x".repeat(99) + "...");
        assertThat(VectorFormatException.quotable("short")).isEqualTo("short");
        assertThat(VectorFormatException.quotable("y".repeat(100))).isEqualTo("y".repeat(100));
    }

    @Test
    void everyFactoryHasItsSqlState() {
        assertThat(VectorFormatException.invalidSyntax("x").sqlState()).isEqualTo("22P02");
        assertThat(VectorFormatException.noDimensions().sqlState()).isEqualTo("22000");
        assertThat(VectorFormatException.tooManyDimensions().sqlState()).isEqualTo("54000");
        assertThat(VectorFormatException.nanNotAllowed().sqlState()).isEqualTo("22000");
        assertThat(VectorFormatException.infiniteNotAllowed().sqlState()).isEqualTo("22000");
        assertThat(VectorFormatException.outOfRange("1e39").sqlState()).isEqualTo("22003");
        assertThat(VectorFormatException.dimensionMismatch(2, 3).sqlState()).isEqualTo("22000");
        assertThat(VectorFormatException.arrayNotOneDimensional().sqlState()).isEqualTo("22000");
        assertThat(VectorFormatException.arrayContainsNulls().sqlState()).isEqualTo("22004");
    }
}
