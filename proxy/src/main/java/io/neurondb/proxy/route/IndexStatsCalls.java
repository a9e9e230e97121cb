package io.neurondb.proxy.route;

import io.neurondb.proxy.sql.SqlToken;
import io.neurondb.proxy.sql.SqlTokenizer;

import java.util.BitSet;
import java.util.List;
import java.util.Optional;

/**
 * {@code neurondb.index_stats()} anywhere in a statement other than the plain
 * {@code SELECT * FROM neurondb.index_stats()} the proxy answers itself: the call becomes
 * {@code neurondb.index_stats($n::jsonb)} and the proxy binds its current figures, so the
 * statement's columns, filters and joins run in PostgreSQL on the proxy's numbers.
 */
final class IndexStatsCalls {

    private IndexStatsCalls() {
    }

    static Optional<StatementPlan> rewrite(String sql) {
        if (!containsIgnoreCase(sql, "index_stats")) {
            return Optional.empty();
        }
        List<SqlToken> tokens = SqlTokenizer.tokenize(sql);
        int highest = 0;
        for (SqlToken t : tokens) {
            if (t.kind() == SqlToken.Kind.PARAMETER) {
                highest = Math.max(highest, Integer.parseInt(t.text().substring(1)));
            }
        }
        String placeholder = "$" + (highest + 1) + "::jsonb";
        StringBuilder out = new StringBuilder(sql.length() + 16);
        int copied = 0;
        boolean found = false;
        for (int i = 0; i + 4 < tokens.size(); i++) {
            if (tokens.get(i).normalized().equals("neurondb") && tokens.get(i + 1).isPunctuation('.')
                    && tokens.get(i + 2).normalized().equals("index_stats") && tokens.get(i + 3).isPunctuation('(')
                    && tokens.get(i + 4).isPunctuation(')')) {
                // Only the (empty) argument list changes; the value is a parameter, never text.
                out.append(sql, copied, tokens.get(i + 3).end()).append(placeholder);
                copied = tokens.get(i + 4).start();
                found = true;
            }
        }
        if (!found) {
            return Optional.empty();
        }
        out.append(sql, copied, sql.length());
        return Optional.of(new StatementPlan.Rewrite(out.toString(),
                new ParamPlan(highest, new BitSet(), List.of(new ParamPlan.IndexStatsJson())), Effect.NONE));
    }

    private static boolean containsIgnoreCase(String s, String word) {
        // Without a lower-cased copy of every statement's text: this runs on all of them.
        for (int i = 0, last = s.length() - word.length(); i <= last; i++) {
            if (s.regionMatches(true, i, word, 0, word.length())) {
                return true;
            }
        }
        return false;
    }
}
