package io.neurondb.proxy.values;

/**
 * Reads one float the way C's strtof does in the "C" locale, which is what pgvector's vector_in
 * (and PostgreSQL's float4in) call: optional sign, then decimal digits with an optional point
 * ({@code 1}, {@code 1.}, {@code .5}) and an optional exponent, or one of the words
 * {@code inf}, {@code infinity}, {@code nan} in any case. strtof's hexadecimal form is not
 * accepted: a client sending {@code 0x1p3} to pgvector through this proxy gets a syntax error
 * rather than a value PostgreSQL's own float parsing would never produce from other paths.
 *
 * <p>Split in two so the caller can tell "no number here" from a bad value: {@link #end} finds
 * the longest prefix that is a number, {@link #value} converts exactly that range, correctly
 * rounded.
 */
final class FloatToken {

    /** 2^24: every integer up to here is exact in a float. */
    private static final long MAX_EXACT_SIGNIFICAND = 1L << 24;

    /** Powers of ten that are exact in a float (5^10 < 2^24). */
    private static final float[] EXACT_POWERS_OF_TEN = {
        1e0f, 1e1f, 1e2f, 1e3f, 1e4f, 1e5f, 1e6f, 1e7f, 1e8f, 1e9f, 1e10f,
    };

    private FloatToken() {
    }

    /**
     * End of the number starting at {@code pos} (no leading whitespace), or {@code pos} itself
     * when there is none. Like strtof, a dangling exponent marker is not part of the number:
     * {@code 1e} ends after the 1.
     */
    static int end(CharSequence s, int pos, int limit) {
        int i = pos;
        if (i < limit && (s.charAt(i) == '+' || s.charAt(i) == '-')) {
            i++;
        }
        if (i < limit && isWordStart(s.charAt(i))) {
            if (matchesIgnoreCase(s, i, limit, "infinity")) {
                return i + 8;
            }
            if (matchesIgnoreCase(s, i, limit, "inf") || matchesIgnoreCase(s, i, limit, "nan")) {
                return i + 3;
            }
            return pos;
        }
        int digits = 0;
        while (i < limit && isDigit(s.charAt(i))) {
            i++;
            digits++;
        }
        if (i < limit && s.charAt(i) == '.') {
            i++;
            while (i < limit && isDigit(s.charAt(i))) {
                i++;
                digits++;
            }
        }
        if (digits == 0) {
            return pos;
        }
        if (i < limit && (s.charAt(i) == 'e' || s.charAt(i) == 'E')) {
            int j = i + 1;
            if (j < limit && (s.charAt(j) == '+' || s.charAt(j) == '-')) {
                j++;
            }
            if (j < limit && isDigit(s.charAt(j))) {
                while (j < limit && isDigit(s.charAt(j))) {
                    j++;
                }
                i = j;
            }
        }
        return i;
    }

    /** True when the number at {@code start} is one of the words rather than digits. */
    static boolean isWord(CharSequence s, int start) {
        char c = s.charAt(start);
        if (c == '+' || c == '-') {
            c = s.charAt(start + 1);
        }
        return isWordStart(c);
    }

    /**
     * The float nearest to the number in {@code s[start, end)}, a range {@link #end} accepted.
     * Overflow gives an infinity and underflow zero or a subnormal, as strtof's return value does.
     */
    static float value(CharSequence s, int start, int end) {
        int i = start;
        boolean negative = false;
        char c = s.charAt(i);
        if (c == '+' || c == '-') {
            negative = c == '-';
            i++;
        }
        if (isWordStart(s.charAt(i))) {
            if (lowerAscii(s.charAt(i)) == 'n') {
                return Float.NaN;
            }
            return negative ? Float.NEGATIVE_INFINITY : Float.POSITIVE_INFINITY;
        }
        // Fast path (Clinger): a significand and a power of ten that are both exact floats give
        // a correctly rounded result with one float operation. Typical embedding values take it.
        long significand = 0;
        int scale = 0;
        boolean afterPoint = false;
        for (; i < end; i++) {
            c = s.charAt(i);
            if (c == '.') {
                afterPoint = true;
                continue;
            }
            if (c == 'e' || c == 'E') {
                break;
            }
            significand = significand * 10 + (c - '0');
            if (significand > MAX_EXACT_SIGNIFICAND) {
                return slowValue(s, start, end);
            }
            if (afterPoint) {
                scale--;
            }
        }
        if (i < end) {
            scale += exponent(s, i + 1, end);
        }
        if (significand == 0) {
            return negative ? -0f : 0f;
        }
        if (scale < -10 || scale > 10) {
            return slowValue(s, start, end);
        }
        float magnitude = scale < 0
                ? (float) significand / EXACT_POWERS_OF_TEN[-scale]
                : (float) significand * EXACT_POWERS_OF_TEN[scale];
        return negative ? -magnitude : magnitude;
    }

    /** The exponent after 'e', clamped: anything past ±100000 is far outside float range anyway. */
    private static int exponent(CharSequence s, int i, int end) {
        boolean negative = false;
        char c = s.charAt(i);
        if (c == '+' || c == '-') {
            negative = c == '-';
            i++;
        }
        int value = 0;
        for (; i < end; i++) {
            value = Math.min(value * 10 + (s.charAt(i) - '0'), 100_000);
        }
        return negative ? -value : value;
    }

    private static float slowValue(CharSequence s, int start, int end) {
        // Float.parseFloat rounds correctly and accepts every form end() does (it also takes
        // suffixes like "f", which end() never includes).
        return Float.parseFloat(s.subSequence(start, end).toString());
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static boolean isWordStart(char c) {
        return c == 'i' || c == 'I' || c == 'n' || c == 'N';
    }

    /** ASCII only: strtof in the C locale does not fold other letters (Character.toLowerCase maps U+0130 to 'i'). */
    private static char lowerAscii(char c) {
        return c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c;
    }

    private static boolean matchesIgnoreCase(CharSequence s, int pos, int limit, String word) {
        if (limit - pos < word.length()) {
            return false;
        }
        for (int k = 0; k < word.length(); k++) {
            if (lowerAscii(s.charAt(pos + k)) != word.charAt(k)) {
                return false;
            }
        }
        return true;
    }
}
