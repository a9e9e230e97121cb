package io.neurondb.proxy.sql;

import java.util.Locale;

/**
 * One lexical token of a SQL statement, with its place in the text so a rewrite can refer
 * back to it. {@link #text()} is the exact source text; {@link #normalized()} is what
 * comparisons use: unquoted identifiers and keywords folded to lower case as PostgreSQL folds
 * them, quoted identifiers without their quotes.
 */
public record SqlToken(Kind kind, String text, int start, int end) {

    public enum Kind {
        /** Keyword or unquoted identifier. */
        WORD,
        /** "Quoted identifier" (also U&"..."). */
        QUOTED_IDENTIFIER,
        /** '...', E'...', B'...', X'...', N'...', U&'...' or $tag$...$tag$. */
        STRING,
        NUMBER,
        /** $1, $2, ...: a bind parameter. */
        PARAMETER,
        /** A run of operator characters as PostgreSQL's lexer forms it: {@code <->}, {@code ::}, {@code =}. */
        OPERATOR,
        /** One of ( ) [ ] , ; . : */
        PUNCTUATION
    }

    public String normalized() {
        return switch (kind) {
            case WORD -> text.toLowerCase(Locale.ROOT);
            case QUOTED_IDENTIFIER -> unquoteIdentifier(text);
            default -> text;
        };
    }

    /** Whether this is the keyword or unquoted identifier {@code word} (case-insensitive). */
    public boolean isWord(String word) {
        return kind == Kind.WORD && text.equalsIgnoreCase(word);
    }

    public boolean isOperator(String op) {
        return kind == Kind.OPERATOR && text.equals(op);
    }

    public boolean isPunctuation(char c) {
        return kind == Kind.PUNCTUATION && text.length() == 1 && text.charAt(0) == c;
    }

    private static String unquoteIdentifier(String quoted) {
        int open = quoted.indexOf('"');
        return quoted.substring(open + 1, quoted.length() - 1).replace("\"\"", "\"");
    }
}
