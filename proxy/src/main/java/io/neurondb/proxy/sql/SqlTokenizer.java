package io.neurondb.proxy.sql;

import io.neurondb.proxy.sql.SqlToken.Kind;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits SQL text into tokens the way PostgreSQL's lexer (scan.l) does, far enough that a
 * pre-pass can recognise statements and operators without being fooled by string literals,
 * quoted identifiers or comments: {@code SELECT '<->'} holds no operator and
 * {@code -- CREATE INDEX} no statement. Comments and whitespace produce no tokens. Pure and
 * allocation-light; an unterminated literal or comment is an error, as in PostgreSQL.
 */
public final class SqlTokenizer {

    /** Characters that may form an operator (PostgreSQL's {@code op_chars}). */
    private static final String OP_CHARS = "~!@#^&|`?+-*/%<>=";

    private final String sql;
    private int pos;
    /** The token {@link #advance()} stepped onto: its kind and where it starts ({@code pos} is its end). */
    private Kind kind;
    private int tokenStart;

    private SqlTokenizer(String sql) {
        this.sql = sql;
    }

    public static List<SqlToken> tokenize(String sql) {
        return new SqlTokenizer(sql).run();
    }

    /**
     * A tokenizer that steps over {@code sql}'s tokens one at a time without building them:
     * for checks that look at every token of every statement and keep none (the router's
     * test for a plain statement, which runs on each simple query).
     */
    public static SqlTokenizer stepping(String sql) {
        return new SqlTokenizer(sql);
    }

    private List<SqlToken> run() {
        List<SqlToken> out = new ArrayList<>();
        while (advance()) {
            out.add(new SqlToken(kind, sql.substring(tokenStart, pos), tokenStart, pos));
        }
        return out;
    }

    /**
     * Moves to the next token; false at the end of the text.
     *
     * @throws SqlSyntaxException on an unterminated literal or comment, or a character no token starts with
     */
    public boolean advance() {
        skipSpaceAndComments();
        if (pos >= sql.length()) {
            kind = null;
            return false;
        }
        tokenStart = pos;
        kind = scanToken();
        return true;
    }

    /** The current token's kind (after {@link #advance()} returned true). */
    public Kind kind() {
        return kind;
    }

    public int start() {
        return tokenStart;
    }

    public int end() {
        return pos;
    }

    /** Whether the current token's text is {@code text}, ignoring case. */
    public boolean textIs(String text) {
        return pos - tokenStart == text.length() && sql.regionMatches(true, tokenStart, text, 0, text.length());
    }

    /** Whether {@code c} occurs in the current token's text. */
    public boolean textHas(char c) {
        int i = sql.indexOf(c, tokenStart);
        return i >= 0 && i < pos;
    }

    /** Scans the token at {@code pos} (not blank, not a comment) and returns its kind. */
    private Kind scanToken() {
        int n = sql.length();
        char c = sql.charAt(pos);
        if (c == '\'') {
            quoted('\'', false);
            return Kind.STRING;
        } else if ((c == 'e' || c == 'E') && peek(1) == '\'') {
            pos++;
            quoted('\'', true);
            return Kind.STRING;
        } else if ((c == 'b' || c == 'B' || c == 'x' || c == 'X' || c == 'n' || c == 'N') && peek(1) == '\'') {
            pos++;
            quoted('\'', false);
            return Kind.STRING;
        } else if ((c == 'u' || c == 'U') && peek(1) == '&' && (peek(2) == '\'' || peek(2) == '"')) {
            pos += 2;
            Kind k = sql.charAt(pos) == '\'' ? Kind.STRING : Kind.QUOTED_IDENTIFIER;
            quoted(sql.charAt(pos), false);
            return k;
        } else if (c == '"') {
            quoted('"', false);
            return Kind.QUOTED_IDENTIFIER;
        } else if (c == '$' && Character.isDigit(peek(1))) {
            pos++;
            while (pos < n && Character.isDigit(sql.charAt(pos))) {
                pos++;
            }
            return Kind.PARAMETER;
        } else if (c == '$' && dollarQuoteTagEnd(pos) > 0) {
            dollarQuoted();
            return Kind.STRING;
        } else if (isIdentStart(c)) {
            while (pos < n && isIdentPart(sql.charAt(pos))) {
                pos++;
            }
            return Kind.WORD;
        } else if (Character.isDigit(c) || (c == '.' && Character.isDigit(peek(1)))) {
            number();
            return Kind.NUMBER;
        } else if (OP_CHARS.indexOf(c) >= 0) {
            operator();
            return Kind.OPERATOR;
        } else if (c == ':' && peek(1) == ':') {
            pos += 2;
            return Kind.OPERATOR;
        } else if ("()[],;.:".indexOf(c) >= 0) {
            pos++;
            return Kind.PUNCTUATION;
        }
        throw new SqlSyntaxException("unexpected character '" + c + "' at position " + (pos + 1));
    }

    private char peek(int ahead) {
        int i = pos + ahead;
        return i < sql.length() ? sql.charAt(i) : '\0';
    }

    private void skipSpaceAndComments() {
        int n = sql.length();
        while (pos < n) {
            char c = sql.charAt(pos);
            if (Character.isWhitespace(c)) {
                pos++;
            } else if (c == '-' && peek(1) == '-') {
                while (pos < n && sql.charAt(pos) != '\n') {
                    pos++;
                }
            } else if (c == '/' && peek(1) == '*') {
                blockComment();
            } else {
                return;
            }
        }
    }

    /** Block comments nest in PostgreSQL, unlike the SQL standard. */
    private void blockComment() {
        int start = pos;
        int depth = 0;
        int n = sql.length();
        while (pos < n) {
            if (sql.charAt(pos) == '/' && peek(1) == '*') {
                depth++;
                pos += 2;
            } else if (sql.charAt(pos) == '*' && peek(1) == '/') {
                depth--;
                pos += 2;
                if (depth == 0) {
                    return;
                }
            } else {
                pos++;
            }
        }
        throw new SqlSyntaxException("unterminated /* comment at or near position " + (start + 1));
    }

    /** A quoted run; a doubled quote is a quote. With backslash escapes for E'...'. */
    private void quoted(char quote, boolean backslashEscapes) {
        int start = pos;
        pos++;
        int n = sql.length();
        while (pos < n) {
            char c = sql.charAt(pos);
            if (backslashEscapes && c == '\\') {
                pos += 2;
            } else if (c == quote) {
                if (peek(1) == quote) {
                    pos += 2;
                } else {
                    pos++;
                    return;
                }
            } else {
                pos++;
            }
        }
        throw new SqlSyntaxException((quote == '"' ? "unterminated quoted identifier" : "unterminated quoted string")
                + " at or near position " + (start + 1));
    }

    /** End (exclusive) of a {@code $tag$} opening at {@code at}, or -1 if none is there. */
    private int dollarQuoteTagEnd(int at) {
        int i = at + 1;
        int n = sql.length();
        if (i < n && sql.charAt(i) == '$') {
            return i + 1;
        }
        if (i >= n || !isIdentStart(sql.charAt(i))) {
            return -1;
        }
        while (i < n && isIdentPart(sql.charAt(i)) && sql.charAt(i) != '$') {
            i++;
        }
        return i < n && sql.charAt(i) == '$' ? i + 1 : -1;
    }

    private void dollarQuoted() {
        int start = pos;
        int tagEnd = dollarQuoteTagEnd(pos);
        String tag = sql.substring(pos, tagEnd);
        int close = sql.indexOf(tag, tagEnd);
        if (close < 0) {
            throw new SqlSyntaxException("unterminated dollar-quoted string at or near position " + (start + 1));
        }
        pos = close + tag.length();
    }

    private void number() {
        int n = sql.length();
        while (pos < n && (Character.isDigit(sql.charAt(pos)) || sql.charAt(pos) == '_')) {
            pos++;
        }
        if (pos < n && sql.charAt(pos) == '.' && peek(1) != '.') {
            pos++;
            while (pos < n && Character.isDigit(sql.charAt(pos))) {
                pos++;
            }
        }
        if (pos < n && (sql.charAt(pos) == 'e' || sql.charAt(pos) == 'E')
                && (Character.isDigit(peek(1)) || ((peek(1) == '+' || peek(1) == '-') && Character.isDigit(peek(2))))) {
            pos += 2;
            while (pos < n && Character.isDigit(sql.charAt(pos))) {
                pos++;
            }
        }
    }

    /**
     * An operator is the longest run of operator characters, except that a comment start ends
     * it, and a multi-character operator may not end in + or - unless it holds one of
     * ~ ! @ # % ^ & | ` ? (so {@code a<-1} is {@code <} then {@code -1}, but {@code <->} stays whole).
     */
    private void operator() {
        int start = pos;
        int n = sql.length();
        while (pos < n && OP_CHARS.indexOf(sql.charAt(pos)) >= 0) {
            if (pos > start && ((sql.charAt(pos) == '-' && peek(1) == '-') || (sql.charAt(pos) == '/' && peek(1) == '*'))) {
                break;
            }
            pos++;
        }
        int length = pos - start;
        char last = sql.charAt(pos - 1);
        if (length > 1 && (last == '+' || last == '-') && !hasCharOf(start, pos, "~!@#%^&|`?")) {
            int keep = length;
            while (keep > 1 && (sql.charAt(start + keep - 1) == '+' || sql.charAt(start + keep - 1) == '-')) {
                keep--;
            }
            pos = start + keep;
        }
    }

    private boolean hasCharOf(int from, int to, String chars) {
        for (int i = from; i < to; i++) {
            if (chars.indexOf(sql.charAt(i)) >= 0) {
                return true;
            }
        }
        return false;
    }

    private static boolean isIdentStart(char c) {
        return Character.isLetter(c) || c == '_' || c >= 0x80;
    }

    private static boolean isIdentPart(char c) {
        return isIdentStart(c) || Character.isDigit(c) || c == '$';
    }
}
