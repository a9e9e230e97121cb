package io.neurondb.proxy.values;

/**
 * pgvector's text form of a vector, {@code [1,2.5,-3e-05]}: parsing with vector_in's rules and
 * errors, printing as vector_out does.
 */
public final class VectorText {

    private VectorText() {
    }

    /**
     * Parses a vector literal as pgvector's vector_in does: optional whitespace, '[', elements
     * separated by ',' with optional whitespace around them, ']', optional whitespace. Elements
     * are read as strtof reads them (see {@link FloatToken}); NaN, infinities, an empty vector,
     * more than 16000 elements and values overflowing a float are refused with pgvector's errors.
     * Values too small for a float become 0 or a subnormal, as in pgvector.
     *
     * @throws VectorFormatException with pgvector's message and SQLSTATE
     */
    public static float[] parse(CharSequence text) {
        int limit = text.length();
        int pos = skipSpace(text, 0, limit);
        if (pos == limit || text.charAt(pos) != '[') {
            throw VectorFormatException.invalidSyntax(text);
        }
        pos = skipSpace(text, pos + 1, limit);
        if (pos < limit && text.charAt(pos) == ']') {
            throw VectorFormatException.noDimensions();
        }
        // Sized by the commas so there is exactly one allocation in the normal case; pgvector
        // parses into a fixed 16000-slot buffer, so the limit is checked per element as there.
        float[] values = new float[Math.min(countCommas(text, pos, limit) + 1,
                VectorFormatException.MAX_DIMENSIONS)];
        int dim = 0;
        while (true) {
            if (dim == VectorFormatException.MAX_DIMENSIONS) {
                throw VectorFormatException.tooManyDimensions();
            }
            pos = skipSpace(text, pos, limit);
            int end = FloatToken.end(text, pos, limit);
            if (end == pos) {
                throw VectorFormatException.invalidSyntax(text);
            }
            float value = FloatToken.value(text, pos, end);
            if (Float.isInfinite(value) && !FloatToken.isWord(text, pos)) {
                throw VectorFormatException.outOfRange(text.subSequence(pos, end));
            }
            checkElement(value);
            values[dim++] = value;
            pos = skipSpace(text, end, limit);
            if (pos == limit) {
                throw VectorFormatException.invalidSyntax(text);
            }
            char c = text.charAt(pos++);
            if (c == ']') {
                break;
            }
            if (c != ',') {
                throw VectorFormatException.invalidSyntax(text);
            }
        }
        if (skipSpace(text, pos, limit) != limit) {
            throw VectorFormatException.invalidSyntax(text); // junk after the closing bracket
        }
        return dim == values.length ? values : java.util.Arrays.copyOf(values, dim);
    }

    /** pgvector's output form, e.g. {@code [1,2.5,-3e-05]}. */
    public static String format(float[] vector) {
        StringBuilder out = new StringBuilder(vector.length * 8 + 2);
        appendTo(out, vector);
        return out.toString();
    }

    /** Appends pgvector's output form of {@code vector} to {@code out}. */
    public static void appendTo(StringBuilder out, float[] vector) {
        out.append('[');
        appendElements(out, vector);
        out.append(']');
    }

    /** True when the first non-whitespace character is '[': worth trying as a vector literal. */
    public static boolean looksLikeVector(CharSequence text) {
        int pos = skipSpace(text, 0, text.length());
        return pos < text.length() && text.charAt(pos) == '[';
    }

    /** Elements separated by ',', each as float4out prints it; shared with the real[] form. */
    static void appendElements(StringBuilder out, float[] vector) {
        for (int i = 0; i < vector.length; i++) {
            if (i > 0) {
                out.append(',');
            }
            Float4Text.append(out, vector[i]);
        }
    }

    /** pgvector's CheckElement. */
    static void checkElement(float value) {
        if (Float.isNaN(value)) {
            throw VectorFormatException.nanNotAllowed();
        }
        if (Float.isInfinite(value)) {
            throw VectorFormatException.infiniteNotAllowed();
        }
    }

    /** pgvector's CheckDim. */
    static void checkDimensions(int dim) {
        if (dim < 1) {
            throw VectorFormatException.noDimensions();
        }
        if (dim > VectorFormatException.MAX_DIMENSIONS) {
            throw VectorFormatException.tooManyDimensions();
        }
    }

    /** pgvector's vector_isspace: the C locale's isspace. */
    static boolean isSpace(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0x0B || c == '\f';
    }

    private static int skipSpace(CharSequence text, int pos, int limit) {
        while (pos < limit && isSpace(text.charAt(pos))) {
            pos++;
        }
        return pos;
    }

    private static int countCommas(CharSequence text, int pos, int limit) {
        int commas = 0;
        for (; pos < limit; pos++) {
            if (text.charAt(pos) == ',') {
                commas++;
            }
        }
        return commas;
    }
}
