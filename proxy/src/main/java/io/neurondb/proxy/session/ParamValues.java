package io.neurondb.proxy.session;

import io.neurondb.proxy.protocol.BindMessage;
import io.neurondb.proxy.route.ParamPlan;
import io.neurondb.proxy.values.PgvectorBinary;
import io.neurondb.proxy.values.RealArrayBinary;
import io.neurondb.proxy.values.RealArrayText;
import io.neurondb.proxy.values.VectorFormatException;
import io.neurondb.proxy.values.VectorText;
import io.vertx.core.buffer.Buffer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Parameters of rewritten statements: the types declared in the Parse, and the values of a
 * Bind with the client's vectors converted to {@code real[]} form and the proxy's own values
 * appended. Values are data on the wire; none of this ever builds SQL text.
 */
final class ParamValues {

    private ParamValues() {
    }

    /** Parameter types for the server's Parse: the client's, vectors as real[], then the extras'. */
    static int[] types(ParamPlan plan, int[] declared) {
        int[] types = new int[Math.max(plan.totalParams(), declared.length)];
        for (int i = 0; i < plan.clientParams() && i < types.length; i++) {
            int n = i + 1;
            types[i] = plan.isVector(n) ? ParamPlan.REAL_ARRAY_OID : i < declared.length ? declared[i] : 0;
        }
        List<ParamPlan.Extra> extras = plan.extras();
        for (int i = 0; i < extras.size(); i++) {
            types[plan.clientParams() + i] = extras.get(i).typeOid();
        }
        return types;
    }

    /** The values of the extras that do not depend on a search (lifted literals), as text. */
    static List<Buffer> extras(ParamPlan plan, List<Buffer> candidates) {
        List<Buffer> out = new ArrayList<>(plan.extras().size());
        int c = 0;
        for (ParamPlan.Extra e : plan.extras()) {
            if (e instanceof ParamPlan.VectorValue v) {
                out.add(text(RealArrayText.format(v.value())));
            } else {
                out.add(candidates.get(c++));
            }
        }
        return out;
    }

    /**
     * The client's Bind for the rewritten statement: vector parameters converted, {@code extras}
     * appended (text format).
     */
    static BindMessage convert(BindMessage bind, ParamPlan plan, List<Buffer> extraValues) {
        return convert(bind, plan, extraValues, 0, null);
    }

    /**
     * @param parsedParam a vector parameter (1-based) the caller has already read, or 0
     * @param parsed      its value, so it is not read twice
     */
    static BindMessage convert(BindMessage bind, ParamPlan plan, List<Buffer> extraValues, int parsedParam, float[] parsed) {
        List<ParamPlan.Extra> extras = plan.extras();
        int clientValues = bind.values().length;
        Buffer[] values = new Buffer[clientValues + extras.size()];
        short[] formats = new short[values.length];
        for (int i = 0; i < clientValues; i++) {
            Buffer v = bind.values()[i];
            if (v != null && plan.isVector(i + 1)) {
                Converted c = i + 1 == parsedParam && parsed != null ? binary(parsed) : toRealArray(v, bind.parameterFormat(i));
                values[i] = c.value();
                formats[i] = c.format();
            } else {
                values[i] = v;
                formats[i] = bind.parameterFormat(i);
            }
        }
        List<Buffer> extraBuffers = extras(plan, extraValues);
        for (int i = 0; i < extras.size(); i++) {
            values[clientValues + i] = extraBuffers.get(i);
            formats[clientValues + i] = BindMessage.TEXT;
        }
        return new BindMessage(bind.portalName(), bind.statementName(), formats, values, bind.resultFormats());
    }

    /** A vector parameter in whichever form the client sent it. */
    static float[] vector(BindMessage bind, int param) {
        int i = param - 1;
        if (i >= bind.values().length) {
            throw new io.neurondb.proxy.vectors.VectorSqlException("22023", "bind message has no value for parameter $" + param);
        }
        Buffer v = bind.values()[i];
        if (v == null) {
            return null;
        }
        if (bind.parameterFormat(i) == BindMessage.BINARY && !looksLikeText(v)) {
            byte[] b = v.getBytes();
            return PgvectorBinary.matches(b, 0, b.length) ? PgvectorBinary.decode(b, 0, b.length) : RealArrayBinary.decode(b, 0, b.length);
        }
        String s = v.toString(StandardCharsets.UTF_8);
        return VectorText.looksLikeVector(s) ? VectorText.parse(s) : RealArrayText.parse(s);
    }

    /** An integer parameter (LIMIT, OFFSET), or null for NULL. */
    static Long integer(BindMessage bind, int param) {
        int i = param - 1;
        Buffer v = i < bind.values().length ? bind.values()[i] : null;
        if (v == null) {
            return null;
        }
        if (bind.parameterFormat(i) == BindMessage.BINARY) {
            return switch (v.length()) {
                case 8 -> v.getLong(0);
                case 4 -> (long) v.getInt(0);
                case 2 -> (long) v.getShort(0);
                default -> throw new io.neurondb.proxy.vectors.VectorSqlException("22P03", "incorrect binary data format in bind parameter " + param);
            };
        }
        try {
            return Long.parseLong(v.toString(StandardCharsets.UTF_8).strip());
        } catch (NumberFormatException e) {
            throw new io.neurondb.proxy.vectors.VectorSqlException("22P02", "invalid input syntax for type bigint: \"" + v.toString(StandardCharsets.UTF_8) + "\"");
        }
    }

    /** A vector parameter's value for the server's {@code real[]}, with its format. */
    private record Converted(Buffer value, short format) {
    }

    /**
     * A real[] (text or binary) passes as sent — PostgreSQL's own input checks it; pgvector's
     * text and binary forms become a binary real[] (no float printing). A driver that encodes
     * every value in binary (Vert.x) sends the text type the proxy described as its UTF-8
     * bytes: that is read as text.
     */
    private static Converted toRealArray(Buffer value, short format) {
        if (format == BindMessage.TEXT || looksLikeText(value)) {
            String s = value.toString(StandardCharsets.UTF_8);
            if (s.stripLeading().startsWith("{")) {
                return new Converted(value, BindMessage.TEXT);
            }
            return binary(VectorText.parse(s));
        }
        byte[] b = value.getBytes();
        if (PgvectorBinary.matches(b, 0, b.length)) {
            return binary(PgvectorBinary.decode(b, 0, b.length));
        }
        try {
            RealArrayBinary.decode(b, 0, b.length); // a real[] already: checked, passed as is
        } catch (RuntimeException e) {
            throw new io.neurondb.proxy.vectors.VectorSqlException("22P03", "incorrect binary data format for a vector parameter");
        }
        return new Converted(value, BindMessage.BINARY);
    }

    private static Converted binary(float[] v) {
        return new Converted(Buffer.buffer(RealArrayBinary.encode(v)), BindMessage.BINARY);
    }

    /** Binary pgvector and real[] values start with a zero byte (a small dimension or ndim); text starts with a bracket or brace. */
    private static boolean looksLikeText(Buffer v) {
        for (int i = 0; i < v.length(); i++) {
            byte b = v.getByte(i);
            if (b == '[' || b == '{') {
                return true;
            }
            if (b != ' ' && b != '\t' && b != '\n' && b != '\r') {
                return false;
            }
        }
        return false;
    }

    static Buffer text(String s) {
        return Buffer.buffer(s.getBytes(StandardCharsets.UTF_8));
    }
}
