package io.neurondb.proxy.route;

import io.neurondb.proxy.sql.SqlToken;
import io.neurondb.proxy.sql.SqlTokenizer;

import java.util.List;

/** Statements that change the role a session's privileges are checked against. */
final class RoleChanges {

    private RoleChanges() {
    }

    static boolean matches(String sql) {
        String head = sql.stripLeading();
        if (head.length() < 5) {
            return false;
        }
        char c = Character.toLowerCase(head.charAt(0));
        if (c != 's' && c != 'r' && c != 'd') {
            return false; // most statements end here, without tokenizing
        }
        return matches(SqlTokenizer.tokenize(sql));
    }

    /** {@link #matches(String)} of a statement already tokenized. */
    static boolean matches(List<SqlToken> t) {
        if (t.isEmpty()) {
            return false;
        }
        int i = 1;
        if (t.getFirst().isWord("set")) {
            if (i < t.size() && (t.get(i).isWord("session") || t.get(i).isWord("local"))
                    && !(i + 1 < t.size() && t.get(i + 1).isWord("authorization"))) {
                i++;
            }
            return i < t.size() && (t.get(i).isWord("role") || t.get(i).isWord("session") && i + 1 < t.size() && t.get(i + 1).isWord("authorization"));
        }
        if (t.getFirst().isWord("reset")) {
            return i < t.size() && (t.get(i).isWord("role") || t.get(i).isWord("all")
                    || t.get(i).isWord("session") && i + 1 < t.size() && t.get(i + 1).isWord("authorization"));
        }
        return t.getFirst().isWord("discard") && i < t.size() && t.get(i).isWord("all");
    }
}
