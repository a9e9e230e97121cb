package io.neurondb.proxy.route;

import io.neurondb.proxy.sql.SqlSyntaxException;
import io.neurondb.proxy.sql.SqlToken;
import io.neurondb.proxy.sql.SqlTokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a simple-protocol Query string into its statements, at the semicolons PostgreSQL
 * would end a statement at: not inside string literals, quoted identifiers, dollar quotes or
 * comments (the tokenizer sees to those), not inside parentheses, and not inside the
 * SQL-standard body of {@code CREATE [OR REPLACE] FUNCTION|PROCEDURE ... BEGIN ATOMIC ... END}.
 *
 * <p>The body is tracked the way psql does it (psqlscan.l): in a statement that begins with
 * {@code CREATE [OR REPLACE] FUNCTION|PROCEDURE}, every {@code BEGIN} outside parentheses
 * opens a block, a {@code CASE} inside a block opens one more (it also ends with
 * {@code END}), and {@code END} closes one.
 */
public final class StatementSplitter {

    private StatementSplitter() {
    }

    /**
     * The statements of {@code sql}, each its exact source text without the semicolon and
     * without surrounding whitespace; pieces holding nothing but whitespace and comments are
     * dropped. Text the tokenizer cannot split (an unterminated literal or comment) is
     * returned whole as one statement, so that PostgreSQL reports the error in its own words.
     */
    /**
     * The text's only statement when that can be seen without tokenizing, else null (then
     * {@link #split} decides): no comment, dollar quote or parameter sign anywhere, and no
     * semicolon except in a run of semicolons and whitespace at the end. A semicolon inside a
     * quoted literal or identifier is always followed by more of it (at least its closing
     * quote), so it never passes for that trailing run. Blank text has no sole statement.
     */
    public static String soleStatement(String sql) {
        int end = sql.length();
        while (end > 0 && (sql.charAt(end - 1) == ';' || Character.isWhitespace(sql.charAt(end - 1)))) {
            end--;
        }
        if (end == 0) {
            return null;
        }
        for (int i = 0; i < end; i++) {
            char c = sql.charAt(i);
            if (c == ';' || c == '$' || (c == '-' || c == '/' || c == '*') && i + 1 < end && isCommentPair(c, sql.charAt(i + 1))) {
                return null;
            }
        }
        return sql.substring(0, end).strip();
    }

    private static boolean isCommentPair(char a, char b) {
        return a == '-' && b == '-' || a == '/' && b == '*' || a == '*' && b == '/';
    }

    public static List<String> split(String sql) {
        List<SqlToken> tokens;
        try {
            tokens = SqlTokenizer.tokenize(sql);
        } catch (SqlSyntaxException e) {
            return sql.isBlank() ? List.of() : List.of(sql.strip());
        }
        List<String> out = new ArrayList<>();
        int pieceStart = 0;
        int pieceTokens = 0;
        int parenDepth = 0;
        int beginDepth = 0;
        int words = 0;
        boolean routine = false;
        String[] head = new String[4];
        for (SqlToken token : tokens) {
            if (token.isPunctuation(';') && parenDepth == 0 && beginDepth == 0) {
                if (pieceTokens > 0) {
                    out.add(sql.substring(pieceStart, token.start()).strip());
                }
                pieceStart = token.end();
                pieceTokens = 0;
                parenDepth = 0;
                beginDepth = 0;
                words = 0;
                routine = false;
                head = new String[4];
                continue;
            }
            pieceTokens++;
            if (token.isPunctuation('(')) {
                parenDepth++;
            } else if (token.isPunctuation(')')) {
                parenDepth = Math.max(0, parenDepth - 1);
            } else if (token.kind() == SqlToken.Kind.WORD) {
                if (words < head.length) {
                    head[words] = token.text().toLowerCase(java.util.Locale.ROOT);
                    routine = isRoutineHead(head, words + 1);
                }
                words++;
                if (routine && parenDepth == 0) {
                    if (token.isWord("begin")) {
                        beginDepth++;
                    } else if (token.isWord("case")) {
                        if (beginDepth > 0) {
                            beginDepth++;
                        }
                    } else if (token.isWord("end")) {
                        if (beginDepth > 0) {
                            beginDepth--;
                        }
                    }
                }
            }
        }
        if (pieceTokens > 0) {
            out.add(sql.substring(pieceStart).strip());
        }
        return List.copyOf(out);
    }

    /** Whether the first {@code n} words read {@code CREATE [OR REPLACE] FUNCTION|PROCEDURE}. */
    private static boolean isRoutineHead(String[] head, int n) {
        if (n < 2 || !"create".equals(head[0])) {
            return false;
        }
        if (isRoutineWord(head[1])) {
            return true;
        }
        return n >= 4 && "or".equals(head[1]) && "replace".equals(head[2]) && isRoutineWord(head[3]);
    }

    private static boolean isRoutineWord(String word) {
        return "function".equals(word) || "procedure".equals(word);
    }
}
