package io.neurondb.proxy.session;

import io.neurondb.proxy.values.VectorText;

/** Floating-point values written as PostgreSQL writes them in text results. */
final class PgFloat {

    private PgFloat() {
    }

    /** The shortest form that reads back as the same float, laid out as PostgreSQL's float4/float8 output does. */
    static String format(float f) {
        String v = VectorText.format(new float[]{f});
        return v.substring(1, v.length() - 1);
    }

    static String format(double d) {
        if (Double.isNaN(d)) {
            return "NaN";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "Infinity" : "-Infinity";
        }
        float f = (float) d;
        if (f == d) {
            return format(f);
        }
        String s = Double.toString(d);
        int e = s.indexOf('E');
        if (e < 0) {
            return s.endsWith(".0") ? s.substring(0, s.length() - 2) : s;
        }
        String mantissa = s.substring(0, e);
        if (mantissa.endsWith(".0")) {
            mantissa = mantissa.substring(0, mantissa.length() - 2);
        }
        int exp = Integer.parseInt(s.substring(e + 1));
        return mantissa + "e" + (exp < 0 ? "-" : "+") + (Math.abs(exp) < 10 ? "0" : "") + Math.abs(exp);
    }
}
