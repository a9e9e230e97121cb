package io.neurondb.proxy.values;

import java.math.BigDecimal;

/**
 * Prints a float the way PostgreSQL's float4out does with extra_float_digits >= 1, which is
 * also how pgvector's vector_out prints each element (both call float_to_shortest_decimal_bufn,
 * PostgreSQL's copy of Ryu).
 *
 * <p>The digits come from Java: since JDK 19 {@code Float.toString} picks the shortest decimal
 * that rounds back to the float, the closest such one, ties to even — Ryu's choice too. Only the
 * layout differs, so it is re-laid out here: fixed notation when the decimal exponent X of the
 * first digit is in [-4, 6), else {@code d.ddde±XX} with a signed exponent of at least two
 * digits ({@code 1e-05}, {@code 1.5e+20}).
 *
 * <p>One difference in the digits: when a single digit would do, Java may still print two if the
 * two-digit decimal is closer (the JDK spec allows lengths 1 and 2 there); Ryu always prints the
 * single digit. That only happens for tiny subnormals (1.4E-45 vs PostgreSQL's 1e-45) and is
 * handled on a slow path.
 */
final class Float4Text {

    private Float4Text() {
    }

    /** Appends {@code f} in PostgreSQL's float4 output form. */
    static void append(StringBuilder out, float f) {
        if (Float.isNaN(f)) {
            out.append("NaN");
            return;
        }
        if (Float.isInfinite(f)) {
            out.append(f > 0 ? "Infinity" : "-Infinity");
            return;
        }
        if (Float.floatToRawIntBits(f) < 0) {
            out.append('-'); // includes -0, which PostgreSQL prints as "-0"
        }
        float magnitude = Math.abs(f);
        if (magnitude == 0f) {
            out.append('0');
            return;
        }
        int start = out.length();
        // Let the JDK write its form in place (no intermediate String), read the digits back,
        // then overwrite it with PostgreSQL's layout.
        out.append(magnitude);
        long packed = readJavaDecimal(out, start);
        out.setLength(start);
        int digits = (int) (packed >>> 32);
        int exponent = (int) packed;
        if (digits >= 10 && digits < 100) {
            long single = singleDigitAlternative(magnitude, digits, exponent);
            if (single != 0) {
                digits = (int) (single >>> 32);
                exponent = (int) single;
            }
        }
        appendLaidOut(out, digits, exponent);
    }

    /**
     * Reads the decimal Java printed at {@code out[start..]} ({@code 123.45}, {@code 1.0E-5})
     * as significand and exponent with trailing zeros removed: value = digits * 10^exponent.
     * Returned packed as (digits << 32 | exponent & 0xffffffff) to stay allocation-free.
     */
    private static long readJavaDecimal(StringBuilder out, int start) {
        long digits = 0;
        int fractionDigits = 0;
        boolean afterPoint = false;
        int i = start;
        int end = out.length();
        for (; i < end; i++) {
            char c = out.charAt(i);
            if (c == '.') {
                afterPoint = true;
            } else if (c == 'E') {
                break;
            } else {
                digits = digits * 10 + (c - '0');
                if (afterPoint) {
                    fractionDigits++;
                }
            }
        }
        int exponent = 0;
        if (i < end) {
            i++; // 'E'
            boolean negative = out.charAt(i) == '-';
            if (negative) {
                i++;
            }
            for (; i < end; i++) {
                exponent = exponent * 10 + (out.charAt(i) - '0');
            }
            if (negative) {
                exponent = -exponent;
            }
        }
        exponent -= fractionDigits;
        while (digits % 10 == 0) {
            digits /= 10;
            exponent++;
        }
        // At most 9 significant digits for a float, plus leading zeros that add nothing.
        return digits << 32 | (exponent & 0xffffffffL);
    }

    /**
     * Ryu's answer where Java printed two digits but one digit also rounds back to the float:
     * the closer of the two one-digit neighbours that round back (ties to even). 0 if neither
     * does, which is the usual case.
     */
    private static long singleDigitAlternative(float magnitude, int twoDigits, int exponent) {
        int lower = twoDigits / 10;
        int scale = exponent + 1;
        BigDecimal exact = new BigDecimal(magnitude);
        BigDecimal best = null;
        long bestPacked = 0;
        for (int candidate = lower; candidate <= lower + 1; candidate++) {
            BigDecimal value = BigDecimal.valueOf(candidate).scaleByPowerOfTen(scale);
            if (value.floatValue() != magnitude) {
                continue;
            }
            boolean closer = best == null;
            if (!closer) {
                int cmp = value.subtract(exact).abs().compareTo(best.subtract(exact).abs());
                closer = cmp < 0 || (cmp == 0 && candidate % 2 == 0);
            }
            if (closer) {
                best = value;
                bestPacked = candidate == 10
                        ? 1L << 32 | ((scale + 1) & 0xffffffffL)
                        : (long) candidate << 32 | (scale & 0xffffffffL);
            }
        }
        return bestPacked;
    }

    /** PostgreSQL's to_chars: value = digits * 10^exponent, digits without trailing zeros. */
    private static void appendLaidOut(StringBuilder out, int digits, int exponent) {
        int length = decimalLength(digits);
        int displayExponent = exponent + length - 1;
        if (displayExponent >= -4 && displayExponent < 6) {
            appendFixed(out, digits, length, exponent);
            return;
        }
        int digitsStart = out.length();
        out.append(digits);
        if (length > 1) {
            out.insert(digitsStart + 1, '.');
        }
        out.append('e').append(displayExponent < 0 ? '-' : '+');
        int absExponent = Math.abs(displayExponent);
        if (absExponent < 10) {
            out.append('0');
        }
        out.append(absExponent);
    }

    private static void appendFixed(StringBuilder out, int digits, int length, int exponent) {
        if (exponent >= 0) {
            out.append(digits);
            for (int i = 0; i < exponent; i++) {
                out.append('0');
            }
            return;
        }
        int integerDigits = length + exponent; // digits before the point
        if (integerDigits <= 0) {
            out.append("0.");
            for (int i = integerDigits; i < 0; i++) {
                out.append('0');
            }
            out.append(digits);
            return;
        }
        int digitsStart = out.length();
        out.append(digits);
        out.insert(digitsStart + integerDigits, '.');
    }

    private static int decimalLength(int value) {
        int length = 1;
        while (value >= 10) {
            value /= 10;
            length++;
        }
        return length;
    }
}
