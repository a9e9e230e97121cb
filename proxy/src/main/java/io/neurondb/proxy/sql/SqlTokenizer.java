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

    private SqlTokenizer(String sql) {
        this.sql = sql;
    }

    public static List<SqlToken> tokenize(String sql) {
        return new SqlTokenizer(sql).run();
    }

    private List<SqlToken> run() {
        List<SqlToken> out = new ArrayList<>();
        int n = sql.length();
        while (true) {
            skipSpaceAndComments();
            if (pos >= n) {
                return out;
            }
            int start = pos;
            char c = sql.charAt(pos);
            Kind kind;
            if (c == '\'') {
                kind = Kind.STRING;
                quoted('\'', false);
            } else if ((c == 'e' || c == 'E') && peek(1) == '\'') {
                kind = Kind.STRING;
                pos++;
                quoted('\'', true);
            } else if ((c == 'b' || c == 'B' || c == 'x' || c == 'X' || c == 'n' || c == 'N') && peek(1) == '\'') {
                kind = Kind.STRING;
                pos++;
                quoted('\'', false);
            } else if ((c == 'u' || c == 'U') && peek(1) == '&' && (peek(2) == '\'' || peek(2) == '"')) {
                pos += 2;
                kind = sql.charAt(pos) == '\'' ? Kind.STRING : Kind.QUOTED_IDENTIFIER;
                quoted(sql.charAt(pos), false);
            } else if (c == '"') {
                kind = Kind.QUOTED_IDENTIFIER;
                quoted('"', false);
            } else if (c == '$' && Character.isDigit(peek(1))) {
                kind = Kind.PARAMETER;
                pos++;
                while (pos < n && Character.isDigit(sql.charAt(pos))) {
                    pos++;
                }
            } else if (c == '$' && dollarQuoteTagEnd(pos) > 0) {
                kind = Kind.STRING;
                dollarQuoted();
            } else if (isIdentStart(c)) {
                kind = Kind.WORD;
                while (pos < n && isIdentPart(sql.charAt(pos))) {
                    pos++;
                }
            } else if (Character.isDigit(c) || (c == '.' && Character.isDigit(peek(1)))) {
                kind = Kind.NUMBER;
                number();
            } else if (OP_CHARS.indexOf(c) >= 0) {
                kind = Kind.OPERATOR;
                operator();
            } else if (c == ':' && peek(1) == ':') {
                kind = Kind.OPERATOR;
                pos += 2;
            } else if ("()[],;.:".indexOf(c) >= 0) {
                kind = Kind.PUNCTUATION;
                pos++;
            } else {
                throw new SqlSyntaxException("unexpected character '" + c + "' at position " + (pos + 1));
            }
            out.add(new SqlToken(kind, sql.substring(start, pos), start, pos));
        }
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
        String op = sql.substring(start, pos);
        if (op.length() > 1 && (op.endsWith("+") || op.endsWith("-")) && op.chars().noneMatch(ch -> "~!@#%^&|`?".indexOf(ch) >= 0)) {
            int keep = op.length();
            while (keep > 1 && (op.charAt(keep - 1) == '+' || op.charAt(keep - 1) == '-')) {
                keep--;
            }
            pos = start + keep;
        }
    }

    private static boolean isIdentStart(char c) {
        return Character.isLetter(c) || c == '_' || c >= 0x80;
    }

    private static boolean isIdentPart(char c) {
        return isIdentStart(c) || Character.isDigit(c) || c == '$';
    }
}
