package io.neurondb.proxy.route;

/** How one client statement is carried out. Plans are immutable and cached by SQL text. */
public sealed interface StatementPlan {

    /** Forward the client's statement unchanged, then apply {@code effect} when it succeeds. */
    record Passthrough(Effect effect) implements StatementPlan {
        public static final Passthrough PLAIN = new Passthrough(Effect.NONE);
    }

    /** Forward {@code sql} (with {@code params}) in place of the client's, then apply {@code effect}. */
    record Rewrite(String sql, ParamPlan params, Effect effect) implements StatementPlan {
    }

    /**
     * A kNN SELECT: forward {@code sql}, whose extras carry the engine's candidates; it is
     * correct for any candidate list (empty included), so it also serves when the engine
     * cannot (index building, stale, dropped).
     */
    record Knn(String sql, ParamPlan params, KnnSpec spec) implements StatementPlan {
    }

    /** Carried out by the proxy. */
    record Command(ProxyCommand command) implements StatementPlan {
    }
}
