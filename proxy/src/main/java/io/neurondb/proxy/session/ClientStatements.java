package io.neurondb.proxy.session;

import io.neurondb.proxy.protocol.BindMessage;
import io.neurondb.proxy.route.StatementPlan;

import java.util.HashMap;
import java.util.Map;

/**
 * The client's prepared statements and portals as the proxy sees them: what each was planned
 * as, whether it lives on the server or only in the proxy (statements the proxy answers
 * itself), and the shape of its results.
 */
final class ClientStatements {

    static final class Statement {
        final String name;
        final String sql;
        final StatementPlan plan;
        /** Only in the proxy: nothing of it was sent to the server. */
        final boolean local;
        final int[] declaredTypes;
        final ResultColumns results;

        Statement(String name, String sql, StatementPlan plan, boolean local, int[] declaredTypes, ResultColumns results) {
            this.name = name;
            this.sql = sql;
            this.plan = plan;
            this.local = local;
            this.declaredTypes = declaredTypes;
            this.results = results;
        }
    }

    static final class Portal {
        final String name;
        final Statement statement;
        final BindMessage bind;
        final ResultColumns results;
        /** Answered by the proxy: the rows it will send, and how many it sent so far. */
        LocalResults localRows;
        int sent;
        /** A plugin function's arguments as bound (text, null for NULL), kept from the Bind. */
        java.util.List<String> boundArguments;

        Portal(String name, Statement statement, BindMessage bind, ResultColumns results) {
            this.name = name;
            this.statement = statement;
            this.bind = bind;
            this.results = results;
        }

        boolean local() {
            return statement.local || localRows != null;
        }
    }

    private final Map<String, Statement> statements = new HashMap<>();
    private final Map<String, Portal> portals = new HashMap<>();

    Statement statement(String name) {
        return statements.get(name);
    }

    void putStatement(Statement s) {
        statements.put(s.name, s);
    }

    void closeStatement(String name) {
        statements.remove(name);
    }

    Portal portal(String name) {
        return portals.get(name);
    }

    void putPortal(Portal p) {
        portals.put(p.name, p);
    }

    void closePortal(String name) {
        portals.remove(name);
    }

    /** A simple Query destroys the unnamed statement and portal; a transaction's end every portal. */
    void forgetUnnamed() {
        statements.remove("");
        portals.remove("");
    }

    void transactionEnded() {
        portals.clear();
    }
}
