package io.neurondb.proxy.values;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * PostgreSQL's text form of a one-dimensional {@code real[]}, {@code {1,2.5,-3e-05}}: the form a
 * {@code vector(n)} column really has in the server.
 *
 * <p>float4out and pgvector's vector_out print elements identically, so the two text forms
 * differ only in their brackets; {@link #toVectorText} relies on that for result rows.
 */
public final class RealArrayText {

    private RealArrayText() {
    }

    /**
     * A {@code real[]} input literal holding exactly these floats: elements are printed
     * shortest-round-trip, which PostgreSQL's float4in reads back bit for bit. NaN and the
     * infinities are written as PostgreSQL spells them.
     */
    public static String format(float[] values) {
        StringBuilder out = new StringBuilder(values.length * 8 + 2);
        appendTo(out, values);
        return out.toString();
    }

    /** Appends the {@code real[]} literal of {@code values} to {@code out}. */
    public static void appendTo(StringBuilder out, float[] values) {
        out.append('{');
        VectorText.appendElements(out, values);
        out.append('}');
    }

    /**
     * Parses a one-dimensional {@code real[]} in PostgreSQL's text output form: {@code {1,2,3}},
     * with NaN, Infinity and -Infinity allowed, whitespace around elements and double-quoted
     * elements tolerated, and an optional {@code [lower:upper]=} bounds prefix. NULL elements,
     * nested arrays and empty arrays are refused.
     */
    public static float[] parse(CharSequence text) {
        int limit = trimEnd(text, text.length());
        int pos = skipSpace(text, 0, limit);
        int declaredLength = -1;
        if (pos < limit && text.charAt(pos) == '[') {
            int close = indexOf(text, ']', pos, limit);
            if (close < 0) {
                throw VectorFormatException.malformedRealArray(text, "unterminated dimension bounds");
            }
            declaredLength = boundsLength(text, pos + 1, close);
            pos = skipSpace(text, close + 1, limit);
            if (pos < limit && text.charAt(pos) == '[') {
                throw VectorFormatException.arrayNotOneDimensional();
            }
            if (pos >= limit || text.charAt(pos) != '=') {
                throw VectorFormatException.malformedRealArray(text, "missing \"=\" after dimension bounds");
            }
            pos = skipSpace(text, pos + 1, limit);
        }
        if (pos >= limit || text.charAt(pos) != '{' || text.charAt(limit - 1) != '}') {
            throw VectorFormatException.malformedRealArray(text, "must be enclosed in braces");
        }
        pos = skipSpace(text, pos + 1, limit);
        int close = limit - 1;
        if (pos < close && text.charAt(pos) == '{') {
            throw VectorFormatException.arrayNotOneDimensional();
        }
        if (pos == close) {
            throw VectorFormatException.noDimensions();
        }
        float[] values = new float[countCommas(text, pos, close) + 1];
        int count = 0;
        while (true) {
            pos = skipSpace(text, pos, close);
            boolean quoted = pos < close && text.charAt(pos) == '"';
            int start = quoted ? pos + 1 : pos;
            int end = FloatToken.end(text, start, close);
            if (end == start) {
                throw elementError(text, start, close, quoted);
            }
            if (quoted) {
                if (end >= close || text.charAt(end) != '"') {
                    throw VectorFormatException.malformedRealArray(text, "bad quoted element");
                }
            }
            values[count++] = FloatToken.value(text, start, end);
            pos = skipSpace(text, quoted ? end + 1 : end, close);
            if (pos == close) {
                break;
            }
            if (text.charAt(pos) != ',') {
                throw VectorFormatException.malformedRealArray(text, "unexpected character after element");
            }
            pos++;
        }
        if (declaredLength >= 0 && declaredLength != count) {
            throw VectorFormatException.malformedRealArray(text,
                    "dimension bounds do not match the number of elements");
        }
        VectorText.checkDimensions(count);
        return count == values.length ? values : Arrays.copyOf(values, count);
    }

    /**
     * Turns PostgreSQL's {@code real[]} output into pgvector's text output by swapping the
     * braces for brackets: the elements are already printed the same way. A bounds prefix
     * ({@code [0:2]={...}}, which only arrays stored with a lower bound other than 1 have) is
     * dropped. Checks, in one pass and without decoding, that the value really is a flat,
     * non-empty array of float4 output tokens; NaN and infinities are passed on as they are.
     *
     * @return a new array, the only allocation
     * @throws VectorFormatException for NULL elements, nested or empty arrays, anything else
     */
    public static byte[] toVectorText(byte[] realArrayUtf8) {
        int length = realArrayUtf8.length;
        int start = 0;
        if (length > 0 && realArrayUtf8[0] == '[') {
            start = skipBoundsPrefix(realArrayUtf8);
        }
        if (length - start < 2 || realArrayUtf8[start] != '{' || realArrayUtf8[length - 1] != '}') {
            throw diagnose(realArrayUtf8);
        }
        int last = length - 1;
        if (last == start + 1) {
            throw VectorFormatException.noDimensions();
        }
        // Every element must look like a float4out token; NULL, nested braces, quotes, spaces
        // and empty elements all fail here, and the slow path then says which it was.
        int elementStart = start + 1;
        for (int i = elementStart; i <= last; i++) {
            if (i == last || realArrayUtf8[i] == ',') {
                if (!isFloat4OutputToken(realArrayUtf8, elementStart, i)) {
                    throw diagnose(realArrayUtf8);
                }
                elementStart = i + 1;
            }
        }
        byte[] vector = Arrays.copyOfRange(realArrayUtf8, start, length);
        vector[0] = '[';
        vector[vector.length - 1] = ']';
        return vector;
    }

    private static final byte[] NAN = {'N', 'a', 'N'};
    private static final byte[] INFINITY = {'I', 'n', 'f', 'i', 'n', 'i', 't', 'y'};

    /**
     * The shape of what float4out prints: NaN, [-]Infinity, or [-]digit followed by digits,
     * '.', 'e' and exponent signs. A shape check, not a full parse: the bytes come from the server.
     */
    private static boolean isFloat4OutputToken(byte[] b, int start, int end) {
        if (end - start == 3 && Arrays.equals(b, start, end, NAN, 0, 3)) {
            return true;
        }
        int i = start < end && b[start] == '-' ? start + 1 : start;
        if (i >= end) {
            return false;
        }
        if (b[i] == 'I') {
            return Arrays.equals(b, i, end, INFINITY, 0, INFINITY.length);
        }
        if (b[i] < '0' || b[i] > '9') {
            return false;
        }
        for (i++; i < end; i++) {
            byte c = b[i];
            if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == '+' || c == '-')) {
                return false;
            }
        }
        return true;
    }

    /** Index of the '{' after a one-dimensional {@code [l:u]=} prefix. */
    private static int skipBoundsPrefix(byte[] bytes) {
        int i = 1;
        while (i < bytes.length && bytes[i] != ']') {
            i++;
        }
        if (i + 1 < bytes.length && bytes[i + 1] == '[') {
            throw VectorFormatException.arrayNotOneDimensional();
        }
        if (i + 1 >= bytes.length || bytes[i + 1] != '=') {
            throw diagnose(bytes);
        }
        return i + 2;
    }

    /** The slow path of {@link #toVectorText}: say precisely what is wrong. */
    private static VectorFormatException diagnose(byte[] bytes) {
        String text = new String(bytes, StandardCharsets.UTF_8);
        try {
            parse(text);
        } catch (VectorFormatException e) {
            return e;
        }
        // Parseable but not in output form (spaces, quotes): not something the server sends.
        return VectorFormatException.malformedRealArray(text, "not in PostgreSQL's real[] output form");
    }

    private static VectorFormatException elementError(CharSequence text, int start, int close, boolean quoted) {
        if (!quoted && start + 4 <= close && "null".contentEquals(lowerAscii(text, start, start + 4))
                && (start + 4 == close || text.charAt(start + 4) == ',' || VectorText.isSpace(text.charAt(start + 4)))) {
            return VectorFormatException.arrayContainsNulls();
        }
        if (start < close && text.charAt(start) == '{') {
            return VectorFormatException.arrayNotOneDimensional();
        }
        return VectorFormatException.malformedRealArray(text, "bad element");
    }

    private static int boundsLength(CharSequence text, int from, int to) {
        int colon = indexOf(text, ':', from, to);
        try {
            int lower = Integer.parseInt(text.subSequence(from, colon < 0 ? to : colon).toString().trim());
            int upper = colon < 0 ? lower : Integer.parseInt(text.subSequence(colon + 1, to).toString().trim());
            return colon < 0 ? upper : upper - lower + 1;
        } catch (NumberFormatException e) {
            throw VectorFormatException.malformedRealArray(text, "bad dimension bounds");
        }
    }

    private static String lowerAscii(CharSequence text, int from, int to) {
        StringBuilder out = new StringBuilder(to - from);
        for (int i = from; i < to; i++) {
            char c = text.charAt(i);
            out.append(c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c);
        }
        return out.toString();
    }

    private static int indexOf(CharSequence text, char c, int from, int to) {
        for (int i = from; i < to; i++) {
            if (text.charAt(i) == c) {
                return i;
            }
        }
        return -1;
    }

    private static int skipSpace(CharSequence text, int pos, int limit) {
        while (pos < limit && VectorText.isSpace(text.charAt(pos))) {
            pos++;
        }
        return pos;
    }

    private static int trimEnd(CharSequence text, int limit) {
        while (limit > 0 && VectorText.isSpace(text.charAt(limit - 1))) {
            limit--;
        }
        return limit;
    }

    private static int countCommas(CharSequence text, int from, int to) {
        int commas = 0;
        for (int i = from; i < to; i++) {
            if (text.charAt(i) == ',') {
                commas++;
            }
        }
        return commas;
    }
}
