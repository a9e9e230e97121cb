package io.neurondb.proxy.session;

import io.neurondb.plugin.api.StatementEvent;
import io.neurondb.plugin.api.StatementEvent.Protocol;
import io.neurondb.plugin.api.StatementEvent.Route;
import io.neurondb.proxy.protocol.CommandTag;
import io.neurondb.proxy.protocol.ErrorFields;
import io.neurondb.proxy.protocol.Frame;
import io.neurondb.proxy.protocol.FrontendMessages;
import io.neurondb.proxy.protocol.PgProtocol;
import io.neurondb.proxy.sql.SqlNormalizer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Matches the server's replies to the client's requests, in order, to time each statement
 * from its Query or Execute to the reply that completes it. Replies come back in request
 * order (the protocol guarantees it), so a FIFO of pending requests is enough; after an
 * error the server skips everything up to the next Sync, and so does this tracker.
 *
 * <p>It sees the client's frames before the {@link RequestPipeline} and the frames the client
 * is sent after it, so times are what the client sees. The route comes from the pipeline,
 * which reports its decision ({@link #routed}) while it handles the Query, Parse or Bind this
 * tracker has just seen; a portal starts from its statement's route (so an Execute whose Parse
 * failed still counts on that route), and an Execute takes its portal's route. The text is normalised only
 * when an observer asks for it ({@link SqlNormalizer#lazy}), never here on the event loop.
 */
final class StatementTracker {

    private static final Logger log = LoggerFactory.getLogger(StatementTracker.class);

    private enum Kind { SIMPLE_QUERY, FUNCTION_CALL, PARSE, BIND, DESCRIBE, EXECUTE, CLOSE, SYNC }

    /** The pipeline's decision for a query or a portal. */
    private static final class RouteNote {
        Route route = Route.PASSTHROUGH;
        StatementEvent.VectorSearch vector;
    }

    /** A bound portal: its statement's text and how the pipeline serves it. */
    private record Portal(String sql, RouteNote note) {
    }

    /**
     * A parsed statement: its text and the route the pipeline gave it at Parse, which its
     * portals start from; an error at Parse skips the Bind, and the failed Execute still
     * counts on the statement's route, not as passthrough.
     */
    private record Parsed(String sql, RouteNote note) {
    }

    private static final Parsed UNKNOWN_STATEMENT = new Parsed("", new RouteNote());

    private static final Portal UNKNOWN_PORTAL = new Portal("", new RouteNote());

    private static final class Pending {
        final Kind kind;
        final String sql;
        final RouteNote note;
        final long startNanos;
        /** Wall-clock start in epoch ms: System.currentTimeMillis is cheaper than Instant.now per statement. */
        final long startedAtMillis;
        long rows = -1;
        String sqlState;

        Pending(Kind kind, String sql) {
            this(kind, sql, null);
        }

        Pending(Kind kind, String sql, RouteNote note) {
            this.kind = kind;
            this.sql = sql;
            this.note = note;
            boolean timed = kind == Kind.SIMPLE_QUERY || kind == Kind.EXECUTE || kind == Kind.FUNCTION_CALL;
            this.startNanos = timed ? System.nanoTime() : 0;
            this.startedAtMillis = timed ? System.currentTimeMillis() : 0;
        }
    }

    // Requests that are not timed carry no state of their own: one shared instance each
    // instead of an allocation per message on the relay's hot path.
    private static final Pending UNTIMED_PARSE = new Pending(Kind.PARSE, null);
    private static final Pending UNTIMED_BIND = new Pending(Kind.BIND, null);
    private static final Pending UNTIMED_DESCRIBE = new Pending(Kind.DESCRIBE, null);
    private static final Pending UNTIMED_CLOSE = new Pending(Kind.CLOSE, null);
    private static final Pending UNTIMED_SYNC = new Pending(Kind.SYNC, null);

    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    private final Map<String, Parsed> statements = new HashMap<>();
    private final Map<String, Portal> portals = new HashMap<>();
    /** Where the pipeline's report for the frame being handled goes (null: nowhere). */
    private RouteNote routeTarget;
    private final SessionInfo session;
    private final Consumer<StatementEvent> sink;

    StatementTracker(SessionInfo session, Consumer<StatementEvent> sink) {
        this.session = session;
        this.sink = sink;
    }

    /** A frame the client sent, seen before it is forwarded. */
    void onClientFrame(Frame f) {
        routeTarget = null;
        switch (f.type()) {
            case PgProtocol.QUERY -> {
                routeTarget = new RouteNote();
                pending.add(new Pending(Kind.SIMPLE_QUERY, FrontendMessages.query(f).sql(), routeTarget));
            }
            case PgProtocol.FUNCTION_CALL -> pending.add(new Pending(Kind.FUNCTION_CALL, "<function call>"));
            case PgProtocol.PARSE -> {
                FrontendMessages.Parse p = FrontendMessages.parse(f);
                routeTarget = new RouteNote();
                statements.put(p.statementName(), new Parsed(p.sql(), routeTarget));
                pending.add(UNTIMED_PARSE);
            }
            case PgProtocol.BIND -> {
                FrontendMessages.Bind b = FrontendMessages.bind(f);
                Parsed parsed = statements.getOrDefault(b.statementName(), UNKNOWN_STATEMENT);
                routeTarget = new RouteNote();
                routeTarget.route = parsed.note().route;
                portals.put(b.portalName(), new Portal(parsed.sql(), routeTarget));
                pending.add(UNTIMED_BIND);
            }
            case PgProtocol.DESCRIBE -> pending.add(UNTIMED_DESCRIBE);
            case PgProtocol.EXECUTE -> {
                Portal portal = portals.getOrDefault(FrontendMessages.execute(f).portalName(), UNKNOWN_PORTAL);
                pending.add(new Pending(Kind.EXECUTE, portal.sql(), portal.note()));
            }
            case PgProtocol.CLOSE -> {
                FrontendMessages.Target t = FrontendMessages.target(f);
                (t.isStatement() ? statements : portals).remove(t.name());
                pending.add(UNTIMED_CLOSE);
            }
            case PgProtocol.SYNC -> pending.add(UNTIMED_SYNC);
            default -> {
                // Flush, CopyData/Done/Fail, Terminate: no reply of their own.
            }
        }
    }

    /**
     * The pipeline's decision for the Query, Parse or Bind just seen: the strongest route of a
     * query's statements wins, and a kNN statement adds what it searched.
     */
    void routed(Route route, StatementEvent.VectorSearch vector) {
        if (routeTarget == null) {
            return;
        }
        routeTarget.route = StatementRoutes.stronger(routeTarget.route, route);
        if (vector != null) {
            routeTarget.vector = vector;
        }
    }

    /** A frame sent to the client (the server's, or the proxy's own answer), seen before it leaves. */
    void onServerFrame(Frame f) {
        Pending head = pending.peek();
        if (head == null) {
            return; // NoticeResponse, NotificationResponse, ParameterStatus outside a request
        }
        switch (f.type()) {
            case PgProtocol.PARSE_COMPLETE -> expectAndPop(Kind.PARSE);
            case PgProtocol.BIND_COMPLETE -> expectAndPop(Kind.BIND);
            case PgProtocol.CLOSE_COMPLETE -> expectAndPop(Kind.CLOSE);
            case PgProtocol.NO_DATA -> expectAndPop(Kind.DESCRIBE);
            case PgProtocol.ROW_DESCRIPTION -> {
                if (head.kind == Kind.DESCRIBE) {
                    pending.poll();
                }
            }
            case PgProtocol.COMMAND_COMPLETE, PgProtocol.EMPTY_QUERY_RESPONSE, PgProtocol.PORTAL_SUSPENDED -> {
                long rows = f.type() == PgProtocol.COMMAND_COMPLETE ? CommandTag.rowsOf(f) : -1;
                if (head.kind == Kind.EXECUTE) {
                    head.rows = rows;
                    complete(pending.poll(), Protocol.EXTENDED);
                } else if (head.kind == Kind.SIMPLE_QUERY) {
                    head.rows = rows;
                }
            }
            case PgProtocol.ERROR_RESPONSE -> onError(head, ErrorFields.decode(f).sqlState());
            case PgProtocol.READY_FOR_QUERY -> onReadyForQuery(head);
            default -> {
                // DataRow, ParameterDescription, Copy*, notices: part of the current reply.
            }
        }
    }

    private void onError(Pending head, String sqlState) {
        if (head.kind == Kind.SIMPLE_QUERY || head.kind == Kind.FUNCTION_CALL) {
            head.sqlState = sqlState;
            return;
        }
        // Extended protocol: the failed request and everything after it up to Sync are
        // skipped by the server, and their replies will never come. The first Execute among
        // them is the statement that failed, whether the error came at its Execute or
        // earlier, at its Parse or Bind (a missing table, a syntax error); later ones never ran.
        boolean reported = false;
        while (!pending.isEmpty() && pending.peek().kind != Kind.SYNC) {
            Pending skipped = pending.poll();
            if (skipped.kind == Kind.EXECUTE && !reported) {
                skipped.sqlState = sqlState;
                complete(skipped, Protocol.EXTENDED);
                reported = true;
            }
        }
    }

    private void onReadyForQuery(Pending head) {
        switch (head.kind) {
            case SIMPLE_QUERY, FUNCTION_CALL -> complete(pending.poll(), Protocol.SIMPLE);
            case SYNC -> pending.poll();
            default -> resync("ReadyForQuery while waiting for the reply to " + head.kind);
        }
    }

    private void expectAndPop(Kind kind) {
        Pending head = pending.peek();
        if (head.kind == kind) {
            pending.poll();
        } else {
            resync("reply for " + kind + " while waiting for " + head.kind);
        }
    }

    /** Replies and requests no longer line up: stop timing rather than report wrong numbers. */
    private void resync(String why) {
        log.warn("conn={} event=statement_tracking_reset reason=\"{}\"", session.connectionId(), why);
        pending.clear();
    }

    private void complete(Pending p, Protocol protocol) {
        long duration = System.nanoTime() - p.startNanos;
        RouteNote note = p.note == null ? UNKNOWN_PORTAL.note() : p.note;
        sink.accept(new StatementEvent(session.connectionId(), session.database(), session.user(),
                session.applicationName(), session.clientAddress(), protocol, note.route,
                p.sql, Instant.ofEpochMilli(p.startedAtMillis), duration, p.rows, p.sqlState, SqlNormalizer.lazy(p.sql), note.vector));
    }
}
