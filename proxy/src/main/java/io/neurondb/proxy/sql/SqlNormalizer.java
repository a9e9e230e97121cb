package io.neurondb.proxy.sql;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.neurondb.plugin.api.NormalizedSql;
import io.neurondb.proxy.sql.SqlToken.Kind;

import java.util.List;
import java.util.Set;

/**
 * Turns statement text into the form that groups statements: literals (strings, dollar
 * quotes, numbers, a number's sign) become {@code $n}, numbered after the statement's own
 * parameters as pg_stat_statements numbers them; a list of only constants after {@code IN} or
 * {@code ARRAY} becomes one {@code $n /*, ... *}{@code /}, so lists of any length group
 * together; comments go and runs of space become one. The fingerprint hashes the token stream
 * (keywords folded, every constant alike), so spacing, comments, keyword case and whether a
 * value came as a literal or a bind parameter do not split a group.
 *
 * <p>Literals can hold personal data, which is why observers persist this form and not the
 * raw text. Pure; results for texts without literals are cached, and {@link #lazy} defers the
 * work to whoever first asks, so the session's event loop never tokenizes for an observer.
 */
public final class SqlNormalizer {

    /** A normalised statement. */
    public record Normalized(String text, String fingerprint) implements NormalizedSql {
    }

    /** Keywords after which a minus sign starts a negative number rather than a subtraction. */
    private static final Set<String> VALUE_KEYWORDS = Set.of("select", "where", "and", "or", "not", "when", "then",
            "else", "limit", "offset", "by", "in", "values", "return", "returning", "as", "is", "between", "like",
            "set", "having", "on", "any", "all", "some", "array", "case", "distinct", "default");

    private static final String LIST = " /*, ... */";
    private static final long MAX_CACHED_CHARS = 8L << 20;

    private static final Cache<String, Normalized> CACHE = Caffeine.newBuilder()
            .maximumWeight(MAX_CACHED_CHARS)
            .weigher((String sql, Normalized n) -> 32 + sql.length() + n.text().length())
            // Evictions on the asking thread (an observer's own), not handed to the common pool.
            .executor(Runnable::run)
            .build();

    private SqlNormalizer() {
    }

    /**
     * The normalised form, from the cache when this text was seen before. Only texts that hold
     * no literal are kept (a driver's prepared statement, sent again and again): a text with
     * literals is seldom sent twice, and inserting each one cost more than normalising it.
     */
    public static Normalized cached(String sql) {
        Normalized n = CACHE.getIfPresent(sql);
        if (n != null) {
            return n;
        }
        n = normalize(sql);
        if (n.text().equals(sql)) {
            CACHE.put(sql, n);
        }
        return n;
    }

    /**
     * A handle that normalises {@code sql} when first asked (on the asking thread) and
     * remembers it. Creating it costs one small object.
     */
    public static NormalizedSql lazy(String sql) {
        return new Lazy(sql);
    }

    public static Normalized normalize(String sql) {
        List<SqlToken> tokens;
        try {
            tokens = SqlTokenizer.tokenize(sql);
        } catch (SqlSyntaxException e) {
            // Literals cannot be told apart reliably: show nothing of the text. The hash still
            // groups repeats of the same broken statement.
            return new Normalized("/* statement not normalised: " + e.getMessage() + " */", hex(finish(mix(FNV_OFFSET, sql))));
        }
        int end = tokens.size();
        while (end > 0 && tokens.get(end - 1).isPunctuation(';')) {
            end--; // "SELECT 1;" is "SELECT 1"
        }
        int next = 1;
        for (int i = 0; i < end; i++) {
            SqlToken t = tokens.get(i);
            if (t.kind() == Kind.PARAMETER) {
                next = Math.max(next, parameterNumber(t) + 1);
            }
        }
        StringBuilder text = new StringBuilder(sql.length());
        long hash = FNV_OFFSET;
        int lastEnd = -1;
        for (int i = 0; i < end; i++) {
            SqlToken t = tokens.get(i);
            int listEnd = constantList(tokens, i, end);
            if (listEnd > 0) {
                // "(" constant {, constant} ")" after IN / ARRAY "[" ... "]"
                space(text, lastEnd, t.start());
                String close = tokens.get(listEnd).text();
                text.append(t.text()).append('$').append(next++).append(LIST).append(close);
                hash = mix(mix(mix(hash, t.text()), "?..."), close);
                lastEnd = tokens.get(listEnd).end();
                i = listEnd;
                continue;
            }
            if (isUnaryMinus(tokens, i, end)) {
                space(text, lastEnd, t.start());
                text.append('$').append(next++);
                hash = mix(hash, "?");
                lastEnd = tokens.get(i + 1).end();
                i++;
                continue;
            }
            space(text, lastEnd, t.start());
            lastEnd = t.end();
            switch (t.kind()) {
                case STRING, NUMBER -> {
                    text.append('$').append(next++);
                    hash = mix(hash, "?");
                }
                case PARAMETER -> {
                    text.append(t.text());
                    hash = mix(hash, "?");
                }
                case WORD -> {
                    text.append(t.text());
                    hash = mix(hash, t.normalized());
                }
                case QUOTED_IDENTIFIER -> {
                    text.append(t.text());
                    hash = mix(hash, "\"" + t.normalized());
                }
                default -> {
                    text.append(t.text());
                    hash = mix(hash, t.text());
                }
            }
        }
        return new Normalized(text.toString(), hex(finish(hash)));
    }

    /** One space where the original had space or a comment between two tokens. */
    private static void space(StringBuilder text, int lastEnd, int start) {
        if (lastEnd >= 0 && start > lastEnd) {
            text.append(' ');
        }
    }

    private static int parameterNumber(SqlToken t) {
        try {
            return Integer.parseInt(t.text(), 1, t.text().length(), 10);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /**
     * If an {@code (} after IN, or a {@code [} after ARRAY, opens a list of only constants,
     * the index of its closing bracket; else -1.
     */
    private static int constantList(List<SqlToken> tokens, int open, int end) {
        if (open == 0) {
            return -1;
        }
        SqlToken before = tokens.get(open - 1);
        SqlToken t = tokens.get(open);
        char close;
        if (t.isPunctuation('(') && before.isWord("in")) {
            close = ')';
        } else if (t.isPunctuation('[') && before.isWord("array")) {
            close = ']';
        } else {
            return -1;
        }
        int i = open + 1;
        boolean expectConstant = true;
        while (i < end) {
            SqlToken c = tokens.get(i);
            if (expectConstant) {
                if (isConstant(c)) {
                    i++;
                } else if (c.isOperator("-") && i + 1 < end && tokens.get(i + 1).kind() == Kind.NUMBER) {
                    i += 2;
                } else {
                    return -1;
                }
                expectConstant = false;
            } else if (c.isPunctuation(',')) {
                expectConstant = true;
                i++;
            } else if (c.isPunctuation(close)) {
                return i;
            } else {
                return -1;
            }
        }
        return -1;
    }

    private static boolean isConstant(SqlToken t) {
        return t.kind() == Kind.STRING || t.kind() == Kind.NUMBER || t.kind() == Kind.PARAMETER;
    }

    /** A minus sign that makes the number after it negative (not a subtraction). */
    private static boolean isUnaryMinus(List<SqlToken> tokens, int i, int end) {
        SqlToken t = tokens.get(i);
        if (!t.isOperator("-") || i + 1 >= end || tokens.get(i + 1).kind() != Kind.NUMBER
                || tokens.get(i + 1).start() != t.end()) {
            return false;
        }
        if (i == 0) {
            return true;
        }
        SqlToken prev = tokens.get(i - 1);
        return switch (prev.kind()) {
            case OPERATOR -> true;
            case PUNCTUATION -> !prev.isPunctuation(')') && !prev.isPunctuation(']');
            case WORD -> VALUE_KEYWORDS.contains(prev.normalized());
            default -> false;
        };
    }

    // ---- 64-bit FNV-1a over the token stream, with a final avalanche ----

    private static final long FNV_OFFSET = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;

    private static long mix(long h, String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            h = (h ^ (c & 0xff)) * FNV_PRIME;
            h = (h ^ (c >>> 8)) * FNV_PRIME;
        }
        return (h ^ 0x1f) * FNV_PRIME; // token separator: "ab" "c" differs from "a" "bc"
    }

    /** murmur3's fmix64: FNV's low bits mix poorly on their own. */
    private static long finish(long h) {
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }

    private static String hex(long h) {
        String s = Long.toHexString(h);
        return "0".repeat(16 - s.length()) + s;
    }

    /** Normalises on first use, on the thread that asks; a race computes twice, harmlessly. */
    private static final class Lazy implements NormalizedSql {
        private final String sql;
        private volatile Normalized value;

        Lazy(String sql) {
            this.sql = sql;
        }

        private Normalized get() {
            Normalized v = value;
            if (v == null) {
                v = cached(sql);
                value = v;
            }
            return v;
        }

        @Override
        public String text() {
            return get().text();
        }

        @Override
        public String fingerprint() {
            return get().fingerprint();
        }

        @Override
        public String toString() {
            return get().text();
        }
    }
}
