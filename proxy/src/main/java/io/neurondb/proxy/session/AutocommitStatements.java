package io.neurondb.proxy.session;

import io.vertx.core.buffer.Buffer;

/**
 * Recognises SQL text that is one statement which, sent while the server is idle, leaves it
 * idle outside a transaction whatever happens: a query or a data change (SELECT, INSERT,
 * UPDATE, DELETE, WITH, VALUES, TABLE) and nothing after it. BEGIN, COPY (it waits for the
 * client), SET (it changes what the next holder of the connection would be given), CALL, DO
 * and everything else are not. Conservative on purpose: a {@code ;} with text after it, even
 * inside a literal, a leading comment or a non-ASCII first character all say no. Pure.
 */
final class AutocommitStatements {

    private static final String[] FIRST_WORDS = {"select", "insert", "update", "delete", "with", "values", "table"};

    private AutocommitStatements() {
    }

    static boolean isOne(String sql) {
        Buffer bytes = Buffer.buffer(sql);
        return isOne(bytes, 0, bytes.length());
    }

    /** The text in {@code b} from {@code from}, up to {@code end} or its terminating zero. */
    static boolean isOne(Buffer b, int from, int end) {
        int i = from;
        while (i < end && isBlank(b.getByte(i))) {
            i++;
        }
        int wordStart = i;
        while (i < end && isLetter(b.getByte(i))) {
            i++;
        }
        if (i == wordStart || (i < end && isWordPart(b.getByte(i))) || !isFirstWord(b, wordStart, i)) {
            return false;
        }
        for (; i < end; i++) {
            byte c = b.getByte(i);
            if (c == 0) {
                return true;
            }
            if (c == ';') {
                for (int j = i + 1; j < end && b.getByte(j) != 0; j++) {
                    if (!isBlank(b.getByte(j))) {
                        return false;
                    }
                }
                return true;
            }
        }
        return true;
    }

    private static boolean isFirstWord(Buffer b, int from, int to) {
        for (String w : FIRST_WORDS) {
            if (w.length() != to - from) {
                continue;
            }
            boolean same = true;
            for (int k = 0; k < w.length() && same; k++) {
                same = (b.getByte(from + k) | 0x20) == w.charAt(k);
            }
            if (same) {
                return true;
            }
        }
        return false;
    }

    private static boolean isLetter(byte c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }

    private static boolean isWordPart(byte c) {
        return isLetter(c) || (c >= '0' && c <= '9') || c == '_' || c == '$' || c < 0;
    }

    private static boolean isBlank(byte c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0x0B;
    }
}
