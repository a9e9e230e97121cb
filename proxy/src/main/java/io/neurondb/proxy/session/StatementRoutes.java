package io.neurondb.proxy.session;

import io.neurondb.plugin.api.StatementEvent.Route;
import io.neurondb.proxy.route.ParamPlan;
import io.neurondb.proxy.route.ProxyCommand;
import io.neurondb.proxy.route.StatementPlan;

/** The route a plan reports to statement observers and metrics. */
final class StatementRoutes {

    private StatementRoutes() {
    }

    /**
     * kNN statements are {@code VECTOR} (served with the engine; when no index can serve,
     * the event's vector details say so with a null index); vector SQL rewritten for stock
     * PostgreSQL is {@code REWRITTEN}; what the proxy answers or carries out itself
     * ({@code neurondb.*} functions and index DDL, {@code SET hnsw.*}, index_stats) is
     * {@code ADMIN}, and so is a statement the proxy refuses itself, except vector SQL the
     * rewriter refused (a bad vector literal): that stays {@code REWRITTEN}, the route it would
     * have taken. The rest is {@code PASSTHROUGH}.
     */
    static Route of(StatementPlan plan) {
        return switch (plan) {
            case StatementPlan.Passthrough p -> Route.PASSTHROUGH;
            case StatementPlan.Knn k -> Route.VECTOR;
            case StatementPlan.Command(ProxyCommand.Reject r) when r.ofRewrite() -> Route.REWRITTEN;
            case StatementPlan.Command c -> Route.ADMIN;
            case StatementPlan.Rewrite r -> r.params().extras().stream().anyMatch(e -> e instanceof ParamPlan.IndexStatsJson)
                    ? Route.ADMIN : Route.REWRITTEN;
        };
    }

    /** Of a simple query with several statements, the route that says most: vector, rewritten, admin, passthrough. */
    static Route stronger(Route a, Route b) {
        return rank(b) > rank(a) ? b : a;
    }

    private static int rank(Route r) {
        return switch (r) {
            case PASSTHROUGH -> 0;
            case ADMIN -> 1;
            case REWRITTEN -> 2;
            case VECTOR -> 3;
        };
    }
}
