package io.neurondb.proxy.values;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class CopyInTranslatorTest {

    private static final List<VectorColumn> EMBEDDING_AT_1 = List.of(new VectorColumn(1, "embedding"));

    private static Supplier<CopyInTranslator> text(List<VectorColumn> columns) {
        return () -> new CopyInTranslator(CopyFormat.text(), "items", columns);
    }

    private static Supplier<CopyInTranslator> csv(CopyFormat format, List<VectorColumn> columns) {
        return () -> new CopyInTranslator(format, "items", columns);
    }

    /** Feeds the input in pieces ending at the given cut points, then finishes. */
    private static String run(CopyInTranslator translator, byte[] input, int[] cuts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int from = 0;
        for (int cut : cuts) {
            out.writeBytes(translator.feed(input, from, cut - from));
            from = cut;
        }
        out.writeBytes(translator.feed(input, from, input.length - from));
        out.writeBytes(translator.finish());
        return out.toString(StandardCharsets.UTF_8);
    }

    /**
     * Translates {@code input} whole, then in every split into two pieces, one byte at a time,
     * and in random splits, and checks that every way gives the same output, which it returns.
     */
    private static String translate(Supplier<CopyInTranslator> factory, String input) {
        byte[] bytes = input.getBytes(StandardCharsets.UTF_8);
        String whole = run(factory.get(), bytes, new int[0]);
        for (int cut = 0; cut <= bytes.length; cut++) {
            assertThat(run(factory.get(), bytes, new int[] {cut})).as("split at %d", cut).isEqualTo(whole);
        }
        int[] everyByte = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            everyByte[i] = i;
        }
        assertThat(run(factory.get(), bytes, everyByte)).as("byte by byte").isEqualTo(whole);
        Random random = new Random(bytes.length);
        for (int round = 0; round < 50; round++) {
            int[] cuts = random.ints(random.nextInt(8), 0, bytes.length + 1).sorted().toArray();
            assertThat(run(factory.get(), bytes, cuts)).as("random split %d", round).isEqualTo(whole);
        }
        return whole;
    }

    private static VectorFormatException error(Supplier<CopyInTranslator> factory, String input) {
        byte[] bytes = input.getBytes(StandardCharsets.UTF_8);
        return catchThrowableOfType(VectorFormatException.class, () -> {
            CopyInTranslator translator = factory.get();
            translator.feed(bytes, 0, bytes.length);
            translator.finish();
        });
    }

    // ---- text format ----

    @Test
    void textRowsHaveTheirVectorsRewritten() {
        assertThat(translate(text(EMBEDDING_AT_1), "1\t[1,2,3]\tfoo\n2\t[ 0.5 , -1e-5 ]\tbar\n"))
                .isEqualTo("1\t{1,2,3}\tfoo\n2\t{0.5,-1e-05}\tbar\n");
    }

    @Test
    void otherFieldsPassThroughByteForByte() {
        String row = "caf\u00e9 \\t\\\\x \u2603\t[1]\t\\N\t  spaced  \t\\\t\n";
        assertThat(translate(text(EMBEDDING_AT_1), row)).isEqualTo(row.replace("[1]", "{1}"));
    }

    @Test
    void textNullStaysNull() {
        assertThat(translate(text(EMBEDDING_AT_1), "1\t\\N\n2\t[2]\n")).isEqualTo("1\t\\N\n2\t{2}\n");
        CopyFormat customNull = CopyFormat.text().withNullString("NULL").withDelimiter('|');
        assertThat(translate(() -> new CopyInTranslator(customNull, "items", EMBEDDING_AT_1), "1|NULL\n2|[2]|x\n"))
                .isEqualTo("1|NULL\n2|{2}|x\n");
    }

    @Test
    void finalRowWithoutNewlineIsTranslated() {
        assertThat(translate(text(EMBEDDING_AT_1), "1\t[1,2]\n2\t[3,4]")).isEqualTo("1\t{1,2}\n2\t{3,4}");
    }

    @Test
    void crlfLineEnds() {
        assertThat(translate(text(EMBEDDING_AT_1), "1\t[1,2]\r\n2\t[3]\r\n")).isEqualTo("1\t{1,2}\r\n2\t{3}\r\n");
        assertThat(translate(csv(CopyFormat.csv(), EMBEDDING_AT_1), "1,\"[1,2]\"\r\n2,[3]\r\n"))
                .isEqualTo("1,\"{1,2}\"\r\n2,\"{3}\"\r\n");
    }

    @Test
    void endMarkerPassesThroughAndEndsTranslation() {
        assertThat(translate(text(EMBEDDING_AT_1), "1\t[1]\n\\.\n2\t[2]\n")).isEqualTo("1\t{1}\n\\.\n2\t[2]\n");
        assertThat(translate(text(EMBEDDING_AT_1), "1\t[1]\n\\.")).isEqualTo("1\t{1}\n\\.");
        assertThat(translate(text(EMBEDDING_AT_1), "1\t[1]\r\n\\.\r\n")).isEqualTo("1\t{1}\r\n\\.\r\n");
        assertThat(translate(csv(CopyFormat.csv(), EMBEDDING_AT_1), "1,[1]\n\\.\n")).isEqualTo("1,\"{1}\"\n\\.\n");
    }

    @Test
    void backslashTakesTheNextByteEvenANewline() {
        // "a\<LF>b" is one field holding a newline; the row does not end there.
        assertThat(translate(text(EMBEDDING_AT_1), "a\\\nb\t[1]\nc\t[2]\n")).isEqualTo("a\\\nb\t{1}\nc\t{2}\n");
        // An escaped delimiter does not split fields.
        assertThat(translate(text(EMBEDDING_AT_1), "a\\\tb\t[1]\n")).isEqualTo("a\\\tb\t{1}\n");
        // An escaped CR before the LF is data, not half of a CRLF.
        assertThat(translate(text(List.of(new VectorColumn(0, "embedding"))), "[1]\tx\\\r\n"))
                .isEqualTo("{1}\tx\\\r\n");
    }

    @Test
    void headerPassesThroughUntouched() {
        CopyFormat format = CopyFormat.text().withHeader(true);
        assertThat(translate(() -> new CopyInTranslator(format, "items", EMBEDDING_AT_1), "id\t[x]\n1\t[1]\n"))
                .isEqualTo("id\t[x]\n1\t{1}\n");
    }

    @Test
    void severalVectorColumnsAndShortRows() {
        List<VectorColumn> columns = List.of(new VectorColumn(0, "a"), new VectorColumn(2, "c"));
        // A row too short to reach a vector column is PostgreSQL's to refuse ("missing data").
        assertThat(translate(text(columns), "[1]\tx\t[2]\ty\n[3]\n"))
                .isEqualTo("{1}\tx\t{2}\ty\n{3}\n");
    }

    @Test
    void valuesAreReformattedSoTheServerReadsTheSameFloats() {
        // pgvector turns 1e-50 into 0 where float4in would refuse it; 1. and .5 are normalised.
        assertThat(translate(text(EMBEDDING_AT_1), "1\t[1e-50,1.,.5,+2,1E3]\n")).isEqualTo("1\t{0,1,0.5,2,1000}\n");
    }

    // ---- CSV ----

    @Test
    void csvVectorsAreQuotedArrays() {
        assertThat(translate(csv(CopyFormat.csv(), EMBEDDING_AT_1), "1,\"[1,2,3]\",x\n2,[4],y\n"))
                .isEqualTo("1,\"{1,2,3}\",x\n2,\"{4}\",y\n");
    }

    @Test
    void csvQuotedFieldsWithDelimitersNewlinesAndDoubledQuotes() {
        String input = "\"a,b\",\"[1, 2]\",\"line1\nline2 \"\"quoted\"\", more\"\n"
                + "\"\"\"\",[3],\"\r\n\"\n";
        assertThat(translate(csv(CopyFormat.csv(), EMBEDDING_AT_1), input))
                .isEqualTo("\"a,b\",\"{1,2}\",\"line1\nline2 \"\"quoted\"\", more\"\n"
                        + "\"\"\"\",\"{3}\",\"\r\n\"\n");
    }

    @Test
    void csvVectorInsidePartlyQuotedField() {
        // PostgreSQL joins quoted and unquoted stretches of one field.
        assertThat(translate(csv(CopyFormat.csv(), EMBEDDING_AT_1), "1,[1\",2\"]\n")).isEqualTo("1,\"{1,2}\"\n");
    }

    @Test
    void csvNullAndQuotedEmpty() {
        assertThat(translate(csv(CopyFormat.csv(), EMBEDDING_AT_1), "1,\n2,,x\n3,[1]\n"))
                .isEqualTo("1,\n2,,x\n3,\"{1}\"\n");
        // A quoted empty string is not NULL: it is an (invalid) empty vector text.
        VectorFormatException e = error(csv(CopyFormat.csv(), EMBEDDING_AT_1), "1,\"\"\n");
        assertThat(e.sqlState()).isEqualTo("22P02");
        CopyFormat customNull = CopyFormat.csv().withNullString("NULL");
        assertThat(translate(csv(customNull, EMBEDDING_AT_1), "1,NULL\n2,\"[2]\"\n")).isEqualTo("1,NULL\n2,\"{2}\"\n");
    }

    @Test
    void csvHeaderPassesThrough() {
        CopyFormat format = CopyFormat.csv().withHeader(true);
        assertThat(translate(csv(format, EMBEDDING_AT_1), "id,\"embedding, the vector\"\n1,\"[1]\"\n"))
                .isEqualTo("id,\"embedding, the vector\"\n1,\"{1}\"\n");
    }

    @Test
    void csvWithOtherQuoteEscapeAndDelimiter() {
        CopyFormat format = CopyFormat.csv().withDelimiter(';').withQuote('\'').withEscape('\\');
        String input = "'it\\'s; here\nand there';'[1;2]'\n\\\\x;[3]\n";
        // The ';' inside the vector is the element separator only after translation: here it is
        // data inside quotes and makes the value invalid, so use commas for the vector.
        String valid = "'it\\'s; here\nand there';'[1,2]'\n\\\\x;[3]\n";
        assertThat(translate(csv(format, EMBEDDING_AT_1), valid))
                .isEqualTo("'it\\'s; here\nand there';\"{1,2}\"\n\\\\x;\"{3}\"\n".replace("\"", "'"));
        assertThat(error(csv(format, EMBEDDING_AT_1), input).sqlState()).isEqualTo("22P02");
    }

    @Test
    void csvFinalRowWithoutNewline() {
        assertThat(translate(csv(CopyFormat.csv(), EMBEDDING_AT_1), "1,[1]\n2,\"[2,3]\""))
                .isEqualTo("1,\"{1}\"\n2,\"{2,3}\"");
    }

    @Test
    void multiByteCharactersSplitAnywhere() {
        String input = "\u00e9\u4e2d\ud83d\ude00,\"[1]\",\"\ud83d\ude00\u00e9\"\n\u4e2d,[2],\u00e9\n";
        assertThat(translate(csv(CopyFormat.csv(), EMBEDDING_AT_1), input))
                .isEqualTo(input.replace("\"[1]\"", "\"{1}\"").replace("[2]", "\"{2}\""));
    }

    // ---- errors ----

    @Test
    void errorsCarryTheLineAndColumn() {
        VectorFormatException e = error(text(EMBEDDING_AT_1), "1\t[1]\n2\t[2]\n3\t[1,x]\n");
        assertThat(e.sqlState()).isEqualTo("22P02");
        assertThat(e.primaryMessage()).isEqualTo("invalid input syntax for type vector: \"[1,x]\"");
        assertThat(e.context()).isEqualTo("COPY items, line 3, column embedding: \"[1,x]\"");
        assertThat(e.getMessage()).isEqualTo(
                "COPY items, line 3, column embedding: \"[1,x]\": invalid input syntax for type vector: \"[1,x]\"");
    }

    @Test
    void errorLinesCountHeaderAndNewlinesInsideQuotes() {
        CopyFormat format = CopyFormat.csv().withHeader(true);
        VectorFormatException e = error(csv(format, EMBEDDING_AT_1), "id,embedding\n\"a\nb\",[1]\n2,\"[NaN]\"\n");
        assertThat(e.sqlState()).isEqualTo("22000");
        assertThat(e.primaryMessage()).isEqualTo("NaN not allowed in vector");
        assertThat(e.context()).isEqualTo("COPY items, line 4, column embedding: \"[NaN]\"");
    }

    @Test
    void eachPgvectorErrorComesThrough() {
        assertThat(error(text(EMBEDDING_AT_1), "1\t[]\n").primaryMessage()).isEqualTo("vector must have at least 1 dimension");
        assertThat(error(text(EMBEDDING_AT_1), "1\t[inf]\n").primaryMessage()).isEqualTo("infinite value not allowed in vector");
        assertThat(error(text(EMBEDDING_AT_1), "1\t[1e40]\n").sqlState()).isEqualTo("22003");
        assertThat(error(text(EMBEDDING_AT_1), "1\t{1,2}\n").sqlState()).isEqualTo("22P02");
        // The final row is checked at finish().
        assertThat(error(text(EMBEDDING_AT_1), "1\t[1]\n2\t[x]").context())
                .isEqualTo("COPY items, line 2, column embedding: \"[x]\"");
    }

    @Test
    void declaredDimensionsAreChecked() {
        List<VectorColumn> columns = List.of(new VectorColumn(1, "embedding", 3));
        assertThat(translate(text(columns), "1\t[1,2,3]\n")).isEqualTo("1\t{1,2,3}\n");
        VectorFormatException e = error(text(columns), "1\t[1,2,3]\n2\t[1,2]\n");
        assertThat(e.sqlState()).isEqualTo("22000");
        assertThat(e.primaryMessage()).isEqualTo("expected 3 dimensions, not 2");
        assertThat(e.context()).isEqualTo("COPY items, line 2, column embedding: \"[1,2]\"");
    }

    @Test
    void longValuesAreCutInTheContext() {
        String longVector = "[" + "1,".repeat(100) + "x]";
        VectorFormatException e = error(text(EMBEDDING_AT_1), "1\t" + longVector + "\n");
        assertThat(e.context()).isEqualTo("COPY items, line 1, column embedding: \"" + longVector.substring(0, 100) + "...\"");
    }

    @Test
    void emptyFeedsAndEmptyStream() {
        CopyInTranslator translator = text(EMBEDDING_AT_1).get();
        assertThat(translator.feed(new byte[0], 0, 0)).isEmpty();
        assertThat(translator.finish()).isEmpty();
        CopyInTranslator partial = text(EMBEDDING_AT_1).get();
        byte[] chunk = "xx1\t[1".getBytes(StandardCharsets.UTF_8);
        assertThat(partial.feed(chunk, 2, chunk.length - 2)).isEmpty();
        byte[] rest = "]\n".getBytes(StandardCharsets.UTF_8);
        assertThat(new String(partial.feed(rest, 0, rest.length), StandardCharsets.UTF_8)).isEqualTo("1\t{1}\n");
    }

    @Test
    void largeRandomStreamSplitRandomly() {
        Random random = new Random(42);
        StringBuilder input = new StringBuilder();
        StringBuilder expected = new StringBuilder();
        for (int row = 0; row < 500; row++) {
            float[] vector = new float[1 + random.nextInt(10)];
            for (int i = 0; i < vector.length; i++) {
                vector[i] = (float) random.nextGaussian();
            }
            String note = random.nextBoolean() ? "plain" : "\"with, comma\nand \"\"quote\"\"\"";
            input.append(row).append(",\"").append(VectorText.format(vector)).append("\",").append(note).append('\n');
            expected.append(row).append(",\"").append(RealArrayText.format(vector)).append("\",").append(note).append('\n');
        }
        byte[] bytes = input.toString().getBytes(StandardCharsets.UTF_8);
        for (int round = 0; round < 20; round++) {
            int[] cuts = random.ints(random.nextInt(200), 0, bytes.length + 1).sorted().toArray();
            assertThat(run(new CopyInTranslator(CopyFormat.csv(), "items", EMBEDDING_AT_1), bytes, cuts))
                    .isEqualTo(expected.toString());
        }
    }
}
