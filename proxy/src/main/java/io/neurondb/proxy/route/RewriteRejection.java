package io.neurondb.proxy.route;

/** A statement the rewriter refuses, with a PostgreSQL-style SQLSTATE; becomes a {@link ProxyCommand.Reject}. */
final class RewriteRejection extends RuntimeException {

    private final String sqlState;

    RewriteRejection(String sqlState, String message) {
        super(message, null, false, false);
        this.sqlState = sqlState;
    }

    String sqlState() {
        return sqlState;
    }

    StatementPlan toPlan() {
        return new StatementPlan.Command(new ProxyCommand.Reject(sqlState, getMessage(), true));
    }
}
