package io.neurondb.proxy.route;

import io.neurondb.proxy.sql.SqlSyntaxException;
import io.neurondb.proxy.sql.SqlToken;
import io.neurondb.proxy.sql.SqlToken.Kind;
import io.neurondb.proxy.sql.SqlTokenizer;

import java.util.List;

/**
 * The router's first look at a simple query: whether it is obviously one plain statement, which
 * the server runs as sent and the proxy has nothing to add to. On simple-protocol traffic every
 * literal makes a new text, so the plan cache misses, and building tokens for the full
 * planner was most of the proxy's routing cost (pooled pgbench -S spent a fifth of its
 * event-loop time there). This steps over the tokens without building them.
 *
 * <p>It errs one way only: "obvious" means the full planner would say plain too (a test holds
 * every statement of the route tests to that), while "not obvious" only means the full planner
 * decides. A statement is obvious when none of its tokens could interest any part of the
 * planner:
 * <ul>
 * <li>it does not start with a word a proxy command or a role change starts with
 *     ({@link CommandRecognizer}, {@link RoleChanges});</li>
 * <li>no word or quoted identifier is a vector type, {@code neurondb} (the proxy's functions,
 *     {@link IndexStatsCalls}) or, ignoring case, the name of a table in the catalog;</li>
 * <li>no operator is a distance operator and no string literal holds a {@code [}
 *     ({@link VectorSqlRewriter}'s relevance test);</li>
 * <li>no second statement follows a {@code ;}.</li>
 * </ul>
 * Pure; no I/O.
 */
final class PlainStatements {

    private PlainStatements() {
    }

    /** First words of statements the planner may take for itself: its commands, and role changes. */
    private static final List<String> COMMAND_WORDS = List.of(
            "create", "alter", "drop", "reindex", "set", "reset", "show", "copy", "truncate", "discard");
    /** The relevance test's vector types, and the schema of the proxy's functions. */
    private static final List<String> INTERESTING_WORDS = java.util.stream.Stream.concat(
            VectorSqlRewriter.VECTOR_WORDS.stream(), java.util.stream.Stream.of("neurondb")).toList();

    static boolean obvious(String sql, VectorCatalog catalog) {
        List<VectorCatalog.Table> tables = catalog.tables();
        SqlTokenizer t = SqlTokenizer.stepping(sql);
        try {
            boolean first = true;
            boolean afterSemicolon = false;
            while (t.advance()) {
                if (afterSemicolon) {
                    return false; // another statement follows: the planner splits the text
                }
                Kind kind = t.kind();
                if (first && kind == Kind.WORD && anyIs(t, COMMAND_WORDS)) {
                    return false;
                }
                first = false;
                switch (kind) {
                    case WORD -> {
                        if (anyIs(t, INTERESTING_WORDS) || namesTable(t, tables)) {
                            return false;
                        }
                    }
                    case QUOTED_IDENTIFIER -> {
                        String name = new SqlToken(kind, sql.substring(t.start(), t.end()), t.start(), t.end()).normalized();
                        if (quotedNameIsInteresting(name, tables)) {
                            return false;
                        }
                    }
                    case OPERATOR -> {
                        if (anyIs(t, VectorSqlRewriter.DISTANCE_OPERATORS)) {
                            return false;
                        }
                    }
                    case STRING -> {
                        if (t.textHas('[')) {
                            return false;
                        }
                    }
                    case PUNCTUATION -> afterSemicolon = t.textIs(";");
                    default -> {
                    }
                }
            }
            return !first; // an empty text is the planner's to answer
        } catch (SqlSyntaxException e) {
            return false; // the planner passes it on; the server reports the error
        }
    }

    private static boolean anyIs(SqlTokenizer t, java.util.Collection<String> texts) {
        for (String s : texts) {
            if (t.textIs(s)) {
                return true;
            }
        }
        return false;
    }

    private static boolean namesTable(SqlTokenizer t, List<VectorCatalog.Table> tables) {
        for (VectorCatalog.Table table : tables) {
            if (t.textIs(table.name())) {
                return true;
            }
        }
        return false;
    }

    /** A quoted identifier (rare in hot traffic), without its quotes: compared case ignored. */
    private static boolean quotedNameIsInteresting(String name, List<VectorCatalog.Table> tables) {
        for (String s : INTERESTING_WORDS) {
            if (s.equalsIgnoreCase(name)) {
                return true;
            }
        }
        for (VectorCatalog.Table table : tables) {
            if (table.name().equalsIgnoreCase(name)) {
                return true;
            }
        }
        return false;
    }
}
