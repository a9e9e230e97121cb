package io.neurondb.proxy.session;

import io.neurondb.proxy.sql.SqlToken;
import io.neurondb.proxy.sql.SqlTokenizer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The session settings a pooled client expects its server connection to have: startup
 * parameters (client_encoding, DateStyle, TimeZone, ...) and the session-level {@code SET}s it ran
 * of the tracked settings. When the client lands on a server connection whose settings differ,
 * {@link #replayFor} gives the SET/RESET statements that make them equal. Values are kept as
 * the SQL text the client wrote (a search_path list stays a list).
 *
 * <p>A SET counts once its transaction ends well: it is pending until ReadyForQuery 'I' with
 * no error and no ROLLBACK in between. {@code SET LOCAL} is never tracked.
 */
final class SessionVariables {

    /** Settings replayed on another server connection; names lower case as PostgreSQL folds them. */
    private static final Set<String> TRACKED = Set.of("search_path", "application_name", "timezone", "statement_timeout",
            "client_encoding", "datestyle", "intervalstyle", "extra_float_digits", "lock_timeout",
            "idle_in_transaction_session_timeout", "standard_conforming_strings", "bytea_output");
    private static final List<String> TRACKED_PREFIXES = List.of("hnsw.", "ivfflat.", "neurondb.");

    private final Map<String, String> startup = new HashMap<>();
    private final Map<String, String> wanted = new LinkedHashMap<>();
    /** SETs and RESETs (value null) waiting for their transaction's end. */
    private final List<String[]> pending = new ArrayList<>();
    private boolean pendingResetAll;
    /** Of {@link #wanted}; null after it changed, taken again when next asked for. */
    private Fingerprint fingerprint;

    /**
     * 128 bits of SHA-256 over settings in name order. Collision-resistant on purpose: two
     * sessions whose settings print alike share a server connection's settings without a
     * replay, and a client that could craft a collision could leave another on its search_path.
     */
    record Fingerprint(long high, long low) {

        static Fingerprint of(Map<String, String> settings) {
            try {
                java.security.MessageDigest d = java.security.MessageDigest.getInstance("SHA-256");
                for (Map.Entry<String, String> e : new java.util.TreeMap<>(settings).entrySet()) {
                    // Names and values are query text, which holds no zero byte: it separates them.
                    d.update(e.getKey().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    d.update((byte) 0);
                    d.update(e.getValue().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    d.update((byte) 0);
                }
                java.nio.ByteBuffer digest = java.nio.ByteBuffer.wrap(d.digest());
                return new Fingerprint(digest.getLong(), digest.getLong());
            } catch (java.security.NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    private Fingerprint fingerprint() {
        if (fingerprint == null) {
            fingerprint = Fingerprint.of(wanted);
        }
        return fingerprint;
    }

    static boolean tracked(String name) {
        return TRACKED.contains(name) || TRACKED_PREFIXES.stream().anyMatch(name::startsWith);
    }

    /** Startup parameters become the session's defaults (what RESET goes back to). */
    void startupParameters(Map<String, String> params) {
        params.forEach((k, v) -> {
            String name = k.toLowerCase(Locale.ROOT);
            if (tracked(name)) {
                String sql = literal(v);
                startup.put(name, sql);
                wanted.put(name, sql);
                fingerprint = null;
            }
        });
    }

    /** Notes the SETs/RESETs of tracked settings in a statement text the client sent. */
    void sawSql(String sql) {
        if (sql.length() < 5 || !(startsWithWord(sql, "set") || startsWithWord(sql, "reset") || moreAfterSemicolon(sql))) {
            return;
        }
        List<SqlToken> tokens;
        try {
            tokens = SqlTokenizer.tokenize(sql);
        } catch (RuntimeException e) { // SqlSyntaxException included: not a SET we can read
            return;
        }
        int start = 0;
        for (int i = 0; i <= tokens.size(); i++) {
            if (i == tokens.size() || tokens.get(i).isPunctuation(';')) {
                statement(sql, tokens.subList(start, i));
                start = i + 1;
            }
        }
    }

    /** Whether text other than blanks follows a ';': a second statement may be a SET (a lone trailing ';' is common and is not). */
    private static boolean moreAfterSemicolon(String sql) {
        int semicolon = sql.indexOf(';');
        if (semicolon < 0) {
            return false;
        }
        for (int i = semicolon + 1; i < sql.length(); i++) {
            if (!Character.isWhitespace(sql.charAt(i))) {
                return true;
            }
        }
        return false;
    }

    private static boolean startsWithWord(String sql, String word) {
        String s = sql.stripLeading();
        return s.regionMatches(true, 0, word, 0, word.length());
    }

    private void statement(String sql, List<SqlToken> t) {
        if (t.size() < 2) {
            return;
        }
        if (t.get(0).isWord("reset")) {
            if (t.get(1).isWord("all")) {
                pending.clear();
                pendingResetAll = true;
            } else {
                String name = dottedName(t, 1);
                if (name != null && tracked(name)) {
                    pending.add(new String[]{name, null});
                }
            }
            return;
        }
        if (!t.get(0).isWord("set")) {
            return;
        }
        int i = 1;
        if (t.get(i).isWord("local")) {
            return;
        }
        if (t.get(i).isWord("session")) {
            i++;
            if (i >= t.size() || t.get(i).isWord("authorization") || t.get(i).isWord("characteristics")) {
                return;
            }
        }
        if (i + 1 < t.size() && t.get(i).isWord("time") && t.get(i + 1).isWord("zone")) {
            if (i + 2 < t.size()) {
                String value = sql.substring(t.get(i + 2).start(), t.get(t.size() - 1).end());
                pending.add(new String[]{"timezone", value.equalsIgnoreCase("local") || value.equalsIgnoreCase("default") ? null : value});
            }
            return;
        }
        String name = dottedName(t, i);
        if (name == null || !tracked(name)) {
            return;
        }
        int nameTokens = name.split("\\.").length * 2 - 1;
        int v = i + nameTokens;
        if (v >= t.size() || !(t.get(v).isWord("to") || t.get(v).isOperator("="))) {
            return;
        }
        v++;
        if (v >= t.size()) {
            return;
        }
        String value = sql.substring(t.get(v).start(), t.get(t.size() - 1).end());
        pending.add(new String[]{name, value.equalsIgnoreCase("default") ? null : value});
    }

    /** {@code a} or {@code a.b} starting at token {@code i}, lower-cased; null if not a name. */
    private static String dottedName(List<SqlToken> t, int i) {
        if (i >= t.size() || !(t.get(i).kind() == SqlToken.Kind.WORD || t.get(i).kind() == SqlToken.Kind.QUOTED_IDENTIFIER)) {
            return null;
        }
        String name = t.get(i).normalized();
        if (i + 2 < t.size() && t.get(i + 1).isPunctuation('.')) {
            name = name + "." + t.get(i + 2).normalized();
        }
        return name.toLowerCase(Locale.ROOT);
    }

    /** The transaction ended (ReadyForQuery 'I'); {@code committed} false when it failed or rolled back. */
    void transactionEnded(boolean committed, AppliedSettings applied) {
        if (committed && (pendingResetAll || !pending.isEmpty())) {
            fingerprint = null;
            applied.changed();
            if (pendingResetAll) {
                wanted.clear();
                wanted.putAll(startup);
                applied.values.clear();
                // RESET ALL on the server brings back the server's defaults, not the client's startup values.
            }
            for (String[] p : pending) {
                String value = p[1] != null ? p[1] : startup.get(p[0]);
                if (value == null) {
                    wanted.remove(p[0]);
                } else {
                    wanted.put(p[0], value);
                }
                if (p[1] == null) {
                    applied.values.remove(p[0]);
                } else {
                    applied.values.put(p[0], p[1]);
                }
            }
        }
        pending.clear();
        pendingResetAll = false;
    }

    boolean hasPending() {
        return !pending.isEmpty() || pendingResetAll;
    }

    /**
     * The statements that give a server connection with {@code settings} this session's, or
     * null when they already match (at once when their fingerprints do); {@code settings} is
     * updated as if the statements ran.
     */
    String replayFor(AppliedSettings settings) {
        Fingerprint mine = fingerprint();
        if (mine.equals(settings.fingerprint())) {
            return null;
        }
        Map<String, String> applied = settings.values;
        StringBuilder sql = null;
        for (Map.Entry<String, String> e : wanted.entrySet()) {
            if (!e.getValue().equals(applied.get(e.getKey()))) {
                sql = append(sql, "SET " + identifier(e.getKey()) + " TO " + e.getValue());
            }
        }
        for (String name : applied.keySet()) {
            if (!wanted.containsKey(name)) {
                sql = append(sql, "RESET " + identifier(name));
            }
        }
        if (sql != null) {
            applied.clear();
            applied.putAll(wanted);
        }
        settings.matched(mine);
        return sql == null ? null : sql.toString();
    }

    private static StringBuilder append(StringBuilder sb, String statement) {
        if (sb == null) {
            return new StringBuilder(statement);
        }
        return sb.append("; ").append(statement);
    }

    private static String identifier(String name) {
        StringBuilder out = new StringBuilder();
        for (String part : name.split("\\.")) {
            if (!out.isEmpty()) {
                out.append('.');
            }
            out.append('"').append(part.replace("\"", "\"\"")).append('"');
        }
        return out.toString();
    }

    static String literal(String value) {
        return "'" + value.replace("'", "''") + "'";
    }
}
