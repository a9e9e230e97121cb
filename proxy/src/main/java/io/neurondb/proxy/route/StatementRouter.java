package io.neurondb.proxy.route;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

import io.neurondb.proxy.sql.SqlSyntaxException;
import io.neurondb.proxy.sql.SqlToken;
import io.neurondb.proxy.sql.SqlTokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Decides how each client statement is carried out, and remembers the decision: plans are
 * cached by SQL text and catalog version, so a statement a driver parses again and again
 * (unnamed statements are re-parsed on every execution) is parsed once. Pure: no I/O.
 * Thread-safe; one per proxy.
 */
public final class StatementRouter {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(StatementRouter.class);

    /** One statement of a simple query, with its plan. */
    public record PlannedStatement(String sql, StatementPlan plan) {
    }

    private record Key(String sql, long catalogVersion, boolean wholeQuery) {
    }

    private final CommandRecognizer commands;
    private final VectorSqlRewriter rewriter = new VectorSqlRewriter();
    private final Cache<Key, Object> cache;

    /** @param maxCachedBytes bound on the cached SQL text (plans are small beside it) */
    public StatementRouter(long maxCachedBytes) {
        this(maxCachedBytes, java.util.Set.of());
    }

    /** @param pluginFunctions names of the neurondb.* functions plugins answer (fixed for the proxy's life) */
    public StatementRouter(long maxCachedBytes, java.util.Set<String> pluginFunctions) {
        this.commands = new CommandRecognizer(pluginFunctions);
        this.cache = Caffeine.newBuilder()
                // Upkeep (eviction) on the calling event loop, not handed to ForkJoinPool's common
                // pool: waking a pool thread per new entry cost more than the work on 2 cores.
                .executor(Runnable::run)
                .maximumWeight(maxCachedBytes)
                .weigher((Key k, Object v) -> 64 + 2 * k.sql().length())
                .build();
    }

    /** The plan of one statement (a Parse message carries exactly one). */
    public StatementPlan planStatement(String sql, VectorCatalog catalog) {
        return (StatementPlan) cache.get(new Key(sql, catalog.version(), false), k -> plan(sql, catalog));
    }

    /**
     * The plans of a simple query's statements. When none needs the proxy, a single
     * pass-through entry for the whole text, so it is forwarded exactly as sent.
     */
    @SuppressWarnings("unchecked")
    public List<PlannedStatement> planQuery(String sql, VectorCatalog catalog) {
        if (PlainStatements.obvious(sql, catalog)) {
            return List.of(new PlannedStatement(sql, StatementPlan.Passthrough.PLAIN));
        }
        Key key = new Key(sql, catalog.version(), true);
        Object hit = cache.getIfPresent(key);
        if (hit != null) {
            return (List<PlannedStatement>) hit;
        }
        List<PlannedStatement> planned = planAll(sql, catalog);
        // A query forwarded untouched is not remembered: on simple-protocol traffic nearly every
        // text is new (its literals differ), and inserting it (and evicting another) cost more
        // than planning it again — pooled pgbench -S at 8 clients went from 0.49x to 0.87x
        // PgBouncer's TPS without it. Queries the proxy changes are remembered.
        if (planned.size() != 1 || planned.getFirst().plan() != StatementPlan.Passthrough.PLAIN) {
            cache.put(key, planned);
        }
        return planned;
    }

    /** Every statement of a simple query planned in full (without the first look); package-private for tests. */
    List<PlannedStatement> planAll(String sql, VectorCatalog catalog) {
        List<String> statements;
        String sole = StatementSplitter.soleStatement(sql);
        if (sole != null) {
            statements = List.of(sole); // the usual query: one statement, split without tokenizing
        } else {
            try {
                statements = StatementSplitter.split(sql);
            } catch (RuntimeException e) {
                return List.of(new PlannedStatement(sql, StatementPlan.Passthrough.PLAIN)); // the server reports the syntax error
            }
        }
        List<PlannedStatement> planned = new ArrayList<>(statements.size());
        boolean any = false;
        for (String s : statements) {
            StatementPlan p = plan(s, catalog);
            any |= p != StatementPlan.Passthrough.PLAIN;
            planned.add(new PlannedStatement(s, p));
        }
        return any ? List.copyOf(planned) : List.of(new PlannedStatement(sql, StatementPlan.Passthrough.PLAIN));
    }

    private StatementPlan plan(String sql, VectorCatalog catalog) {
        try {
            // Tokenized once for all the readers below: on simple-protocol traffic, where every
            // literal makes a new text and so a cache miss, tokenizing is most of the routing cost.
            List<SqlToken> tokens;
            try {
                tokens = SqlTokenizer.tokenize(sql);
            } catch (SqlSyntaxException e) {
                return StatementPlan.Passthrough.PLAIN; // the server reports the syntax error
            }
            StatementPlan plan = commands.recognize(tokens, catalog).orElseGet(() -> rewriter.rewrite(sql, tokens, catalog));
            if (plan != StatementPlan.Passthrough.PLAIN) {
                return plan;
            }
            if (RoleChanges.matches(tokens)) {
                return new StatementPlan.Passthrough(new Effect.RoleChanged());
            }
            return IndexStatsCalls.rewrite(sql).orElse(plan);
        } catch (RuntimeException e) {
            // A statement the proxy cannot make sense of is still the server's to judge.
            log.debug("event=plan_failed error={}", e.toString());
            return StatementPlan.Passthrough.PLAIN;
        }
    }

    /** Whether a plan sends the client's statement to the server exactly as written, with no follow-up. */
    public static boolean isPlain(StatementPlan plan) {
        return plan == StatementPlan.Passthrough.PLAIN
                || plan instanceof StatementPlan.Passthrough p && p.effect() == Effect.NONE;
    }
}
