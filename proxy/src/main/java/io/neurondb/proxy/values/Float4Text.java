package io.neurondb.proxy.values;

import java.math.BigInteger;

/**
 * Prints a float exactly as PostgreSQL's float4out does with extra_float_digits >= 1 (the
 * default since PostgreSQL 12), which is also how pgvector's vector_out prints each element:
 * both call float_to_shortest_decimal_bufn, PostgreSQL's adaptation of Ulf Adams' Ryu. This is
 * a Java rendering of that algorithm with PostgreSQL's choices, because they matter for the
 * exact text:
 *
 * <ul>
 *   <li>the interval of acceptable decimals excludes its bounds even for even significands
 *       (PostgreSQL builds Ryu with STRICTLY_SHORTEST 0, so it never prints a value exactly
 *       half-way to the neighbouring float). Java's {@code Float.toString} includes them and
 *       so prints fewer digits for about 0.2% of floats — hence no shortcut through it;</li>
 *   <li>integers below 2^24 take a fast path that prints the integer itself;</li>
 *   <li>fixed notation when the decimal exponent X of the first digit is in [-4, 6), else
 *       {@code d.ddde±XX} with a signed exponent of at least two digits ({@code 1e-05},
 *       {@code 1.5e+20}); "NaN", "Infinity", "-Infinity", "0", "-0".</li>
 * </ul>
 *
 * Allocation-free: digits are appended straight to the caller's builder.
 */
final class Float4Text {

    private static final int MANTISSA_BITS = 23;
    private static final int EXPONENT_BITS = 8;
    private static final int BIAS = 127;

    private static final int POW5_INV_BITCOUNT = 59;
    private static final int POW5_BITCOUNT = 61;
    /** floor(2^(bitlength(5^i) - 1 + 59) / 5^i) + 1: multiplies by 5^-i, 59 bits of precision. */
    private static final long[] POW5_INV_SPLIT = new long[31];
    /** 5^i scaled to exactly 61 bits. */
    private static final long[] POW5_SPLIT = new long[47];

    static {
        // Ryu's lookup tables, derived here rather than transcribed.
        BigInteger five = BigInteger.valueOf(5);
        for (int i = 0; i < POW5_SPLIT.length; i++) {
            BigInteger pow = five.pow(i);
            int shift = pow.bitLength() - POW5_BITCOUNT;
            POW5_SPLIT[i] = (shift >= 0 ? pow.shiftRight(shift) : pow.shiftLeft(-shift)).longValueExact();
        }
        for (int i = 0; i < POW5_INV_SPLIT.length; i++) {
            BigInteger pow = five.pow(i);
            int j = pow.bitLength() - 1 + POW5_INV_BITCOUNT;
            POW5_INV_SPLIT[i] = BigInteger.ONE.shiftLeft(j).divide(pow).add(BigInteger.ONE).longValueExact();
        }
    }

    private Float4Text() {
    }

    /** Appends {@code f} in PostgreSQL's float4 output form. */
    static void append(StringBuilder out, float f) {
        int bits = Float.floatToRawIntBits(f);
        boolean negative = bits < 0;
        int ieeeMantissa = bits & ((1 << MANTISSA_BITS) - 1);
        int ieeeExponent = (bits >>> MANTISSA_BITS) & ((1 << EXPONENT_BITS) - 1);
        if (ieeeExponent == (1 << EXPONENT_BITS) - 1) {
            out.append(ieeeMantissa != 0 ? "NaN" : negative ? "-Infinity" : "Infinity");
            return;
        }
        if (negative) {
            out.append('-');
        }
        if (ieeeExponent == 0 && ieeeMantissa == 0) {
            out.append('0');
            return;
        }
        long decimal = smallInteger(ieeeMantissa, ieeeExponent);
        if (decimal == -1) {
            decimal = shortest(ieeeMantissa, ieeeExponent);
        }
        appendLaidOut(out, (int) (decimal >>> 32), (int) decimal);
    }

    /**
     * PostgreSQL's fast path: a float that is an integer in [1, 2^24) is printed as that integer
     * (mantissa with exponent 0, possibly with trailing zeros). -1 when it does not apply.
     */
    private static long smallInteger(int ieeeMantissa, int ieeeExponent) {
        int e2 = ieeeExponent - BIAS - MANTISSA_BITS;
        if (e2 < -MANTISSA_BITS || e2 > 0) {
            return -1;
        }
        int fraction = ieeeMantissa & ((1 << -e2) - 1);
        if (fraction != 0) {
            return -1;
        }
        int m2 = (1 << MANTISSA_BITS) | ieeeMantissa;
        return pack(m2 >>> -e2, 0);
    }

    /**
     * Ryu's f2d with acceptBounds false: the shortest decimal strictly inside the interval of
     * decimals that round to the float, and of those the one closest to it.
     */
    private static long shortest(int ieeeMantissa, int ieeeExponent) {
        int e2;
        int m2;
        if (ieeeExponent == 0) {
            e2 = 1 - BIAS - MANTISSA_BITS - 2; // two extra bits for the bounds
            m2 = ieeeMantissa;
        } else {
            e2 = ieeeExponent - BIAS - MANTISSA_BITS - 2;
            m2 = (1 << MANTISSA_BITS) | ieeeMantissa;
        }
        // Scaled by 4: the value, and its lower and upper bounds (half-way to the neighbours).
        long mv = 4L * m2;
        long mp = 4L * m2 + 2;
        int mmShift = ieeeMantissa != 0 || ieeeExponent <= 1 ? 1 : 0;
        long mm = 4L * m2 - 1 - mmShift;

        long vr;
        long vp;
        long vm;
        int e10;
        boolean vrIsTrailingZeros = false;
        int lastRemovedDigit = 0;
        if (e2 >= 0) {
            int q = log10Pow2(e2);
            e10 = q;
            int k = POW5_INV_BITCOUNT + pow5bits(q) - 1;
            int i = -e2 + q + k;
            vr = mulShift(mv, POW5_INV_SPLIT[q], i);
            vp = mulShift(mp, POW5_INV_SPLIT[q], i);
            vm = mulShift(mm, POW5_INV_SPLIT[q], i);
            if (q != 0 && (vp - 1) / 10 <= vm / 10) {
                // One removed digit is needed for rounding even if the loop below removes none.
                int l = POW5_INV_BITCOUNT + pow5bits(q - 1) - 1;
                lastRemovedDigit = (int) (mulShift(mv, POW5_INV_SPLIT[q - 1], -e2 + q - 1 + l) % 10);
            }
            if (q <= 9) {
                // Only one of mp, mv and mm can be a multiple of 5, if any.
                if (mv % 5 == 0) {
                    vrIsTrailingZeros = multipleOfPowerOf5(mv, q);
                } else if (multipleOfPowerOf5(mp, q)) {
                    vp--; // the upper bound itself is excluded
                }
            }
        } else {
            int q = log10Pow5(-e2);
            e10 = q + e2;
            int i = -e2 - q;
            int k = pow5bits(i) - POW5_BITCOUNT;
            int j = q - k;
            vr = mulShift(mv, POW5_SPLIT[i], j);
            vp = mulShift(mp, POW5_SPLIT[i], j);
            vm = mulShift(mm, POW5_SPLIT[i], j);
            if (q != 0 && (vp - 1) / 10 <= vm / 10) {
                j = q - 1 - (pow5bits(i + 1) - POW5_BITCOUNT);
                lastRemovedDigit = (int) (mulShift(mv, POW5_SPLIT[i + 1], j) % 10);
            }
            if (q <= 1) {
                // mv = 4 * m2 has two trailing zero bits; mp = mv + 2 has one, so it is exact.
                vrIsTrailingZeros = true;
                vp--;
            } else if (q < 31) {
                vrIsTrailingZeros = (mv & ((1L << (q - 1)) - 1)) == 0;
            }
        }

        int removed = 0;
        while (vp / 10 > vm / 10) {
            vrIsTrailingZeros &= lastRemovedDigit == 0;
            lastRemovedDigit = (int) (vr % 10);
            vr /= 10;
            vp /= 10;
            vm /= 10;
            removed++;
        }
        if (vrIsTrailingZeros && lastRemovedDigit == 5 && vr % 2 == 0) {
            lastRemovedDigit = 4; // exactly half-way: round to even
        }
        // Take vr + 1 if vr is the (excluded) lower bound or rounding says so.
        long output = vr + (vr == vm || lastRemovedDigit >= 5 ? 1 : 0);
        return pack((int) output, e10 + removed);
    }

    /** PostgreSQL's to_chars: value = digits * 10^exponent. */
    private static void appendLaidOut(StringBuilder out, int digits, int exponent) {
        int length = decimalLength(digits);
        int displayExponent = exponent + length - 1;
        if (displayExponent >= -4 && displayExponent < 6) {
            appendFixed(out, digits, length, exponent);
            return;
        }
        if (exponent == 0) {
            // From the small-integer path: move trailing zeros into the exponent.
            while (digits % 10 == 0) {
                digits /= 10;
                length--;
            }
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

    private static long pack(int digits, int exponent) {
        return (long) digits << 32 | (exponent & 0xffffffffL);
    }

    /** The upper 32 bits of m * factor shifted right by {@code shift} (> 32); m < 2^26. */
    private static long mulShift(long m, long factor, int shift) {
        long factorLo = factor & 0xffffffffL;
        long factorHi = factor >>> 32;
        long bits0 = m * factorLo;
        long bits1 = m * factorHi;
        long sum = (bits0 >>> 32) + bits1;
        return sum >>> (shift - 32);
    }

    private static boolean multipleOfPowerOf5(long value, int p) {
        int count = 0;
        while (value % 5 == 0) {
            value /= 5;
            count++;
        }
        return count >= p;
    }

    /** ceil(log2(5^e)), for 0 <= e <= 3528. */
    private static int pow5bits(int e) {
        return ((e * 1217359) >>> 19) + 1;
    }

    /** floor(log10(2^e)), for 0 <= e <= 1650. */
    private static int log10Pow2(int e) {
        return (e * 78913) >>> 18;
    }

    /** floor(log10(5^e)), for 0 <= e <= 2620. */
    private static int log10Pow5(int e) {
        return (e * 732923) >>> 20;
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
