package io.neurondb.proxy.session;

import io.neurondb.plugin.api.SqlFunction;
import io.neurondb.plugin.api.SqlFunctionException;
import io.neurondb.proxy.metrics.SessionMeters;
import io.neurondb.proxy.plugin.PluginFunctions;
import io.neurondb.proxy.protocol.BackendMessages;
import io.neurondb.proxy.protocol.BindMessage;
import io.neurondb.proxy.protocol.ErrorFields;
import io.neurondb.proxy.protocol.Frame;
import io.neurondb.proxy.protocol.FrontendMessages;
import io.neurondb.proxy.protocol.MessageWriter;
import io.neurondb.proxy.protocol.ParseMessage;
import io.neurondb.proxy.protocol.PgProtocol;
import io.neurondb.proxy.protocol.SqlState;
import io.neurondb.proxy.protocol.TransactionStatus;
import io.neurondb.proxy.route.Effect;
import io.neurondb.proxy.route.ParamPlan;
import io.neurondb.proxy.route.ProxyCommand;
import io.neurondb.proxy.route.StatementPlan;
import io.neurondb.proxy.route.StatementRouter;
import io.neurondb.proxy.route.StatementRouter.PlannedStatement;
import io.neurondb.proxy.route.TableName;
import io.neurondb.proxy.route.VectorCatalog;
import io.neurondb.proxy.values.CopyInTranslator;
import io.neurondb.proxy.values.VectorFormatException;
import io.neurondb.proxy.vectors.VectorDatabase;
import io.neurondb.proxy.vectors.VectorSqlException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * The client's requests after login, turned into what the server is sent and what the proxy
 * answers itself: statements are planned by the {@link StatementRouter}; plain ones pass as
 * the client's own bytes; rewritten ones go out re-encoded with their parameters converted;
 * kNN statements get the engine's candidates; the proxy's own statements are answered in
 * their place in the reply order, which the {@link ReplyQueue} keeps.
 *
 * <p>A simple Query that needs the proxy is carried out as the equivalent extended-protocol
 * messages (one implicit transaction up to the Sync, as the simple protocol has), so values
 * can travel as parameters.
 */
final class RequestPipeline implements ReplyQueue.Output {

    private static final Logger log = LoggerFactory.getLogger(RequestPipeline.class);

    /** Names the proxy uses for statements it injects in the client's extended-protocol stream. */
    private static final String INJECTED = "__neurondb_internal";

    /** What the pipeline needs from the session around it. */
    interface Host {
        void forward(Frame frame);

        void forward(Buffer message);

        void toClient(Frame frame);

        void toClient(Buffer message);

        /** Holds decoding the client until {@link #resumeClient()} (async work in the middle of its stream). */
        void pauseClient();

        void resumeClient();

        /** Sends what is queued for both sides now (after work that completed later). */
        void flush();

        /** The future, completing on the session's own thread. */
        <T> Future<T> onSessionContext(Future<T> f);

        void transactionStatus(TransactionStatus status);

        TransactionStatus transactionStatus();

        SessionInfo info();

        /** The proxy's own answers about itself (functions, index stats). */
        ProxyFacts facts();

        /** The neurondb.* functions plugins answer. */
        PluginFunctions functions();

        /** Runs blocking work on a worker thread; the future completes on the session's thread. */
        <T> Future<T> blocking(java.util.concurrent.Callable<T> work);

        /**
         * Gets the proxy's own connections out of a database a {@code DROP DATABASE} is about to
         * drop; the hold is told the outcome. Null result: nothing to release.
         */
        default Future<io.neurondb.proxy.vectors.VectorDatabases.DropHold> holdForDrop(String database) {
            return Future.succeededFuture(null);
        }

        /** How the Query or Bind being handled is served, for statement observers ({@link StatementTracker#routed}). */
        default void routed(io.neurondb.plugin.api.StatementEvent.Route route, io.neurondb.plugin.api.StatementEvent.VectorSearch vector) {
        }
    }

    private final Host host;
    private final StatementRouter router;
    private final VectorDatabase database;
    private final ReplyQueue replies;
    private final ClientStatements statements = new ClientStatements();
    private final SessionSettings settings = new SessionSettings();
    private static final String LOG_LEVEL = "neurondb.log_level";
    private boolean logLevelRegistered;
    private final KnnExecutor knn;

    /** Something was forwarded since the last Sync: the Sync must go to the server. */
    private boolean batchForwarded;
    /** A local error ended the batch: client messages up to its Sync are dropped. */
    private boolean discardUntilSync;
    /** A statement changed the vector catalog: re-read it once the transaction is over. */
    private boolean catalogChanged;
    /** The client is held after its Sync until the catalog its DDL changed is re-read. */
    private boolean heldForCatalog;
    /** Tables written in the current transaction: their indexes are stale for this session now, for all once it ends. */
    private final Set<TableName> writtenTables = new HashSet<>();
    /**
     * Tables whose key and vector columns this session's role may read, with no row security:
     * only for them may the engine answer without PostgreSQL. Checked once per table, by a
     * query of the proxy's own on the client's connection (so as the client's role).
     */
    private final Set<TableName> readableTables = new HashSet<>();
    /** Tables checked or being checked (whatever the answer): asked once per session. */
    private final Set<TableName> checkedReadable = new HashSet<>();
    /** Vector tables this session's open transaction created or changed, before the shared catalog can see them. */
    private final SessionCatalog overlay = new SessionCatalog();
    private CopyInTranslator copyIn;
    private boolean copyInFailed;
    /** The error a COPY abandoned by the proxy reports instead of the server's "COPY from stdin failed". */
    private Buffer copyError;
    /** The statement being handled came in the extended protocol (injected statements then use their own name). */
    private boolean inExtendedBatch;
    /**
     * This session committed writes to indexed tables since its last read_your_writes wait: the
     * next kNN search in that mode first waits until replication has applied them.
     */
    private boolean commitsToAwait;

    RequestPipeline(Host host, StatementRouter router, VectorDatabase database, SessionMeters meters) {
        this.host = host;
        this.router = router;
        this.database = database;
        this.replies = new ReplyQueue(this, this::catalog);
        this.knn = new KnnExecutor(settings, meters);
    }

    /** Nothing owed to the client by the server or the proxy (a pooled lease may go back). */
    boolean idle() {
        return replies.isEmpty();
    }

    private VectorCatalog catalog() {
        VectorCatalog base = database == null ? VectorCatalog.EMPTY : database.catalog();
        return overlay.isEmpty() ? base : overlay.over(base);
    }

    // ======================= client requests =======================

    void onClientFrame(Frame f) {
        inExtendedBatch = f.type() != PgProtocol.QUERY;
        switch (f.type()) {
            case PgProtocol.QUERY -> onQuery(f);
            case PgProtocol.PARSE -> onParse(f);
            case PgProtocol.BIND -> onBind(f);
            case PgProtocol.DESCRIBE -> onDescribe(f);
            case PgProtocol.EXECUTE -> onExecute(f);
            case PgProtocol.CLOSE -> onClose(f);
            case PgProtocol.SYNC -> onSync(f);
            case PgProtocol.FLUSH -> {
                if (!discardUntilSync) {
                    host.forward(f);
                }
            }
            case PgProtocol.FUNCTION_CALL -> {
                host.forward(f);
                replies.add(PendingReply.of(PendingReply.Kind.FUNCTION_CALL));
            }
            case PgProtocol.COPY_DATA -> onCopyData(f);
            case PgProtocol.COPY_DONE, PgProtocol.COPY_FAIL -> onCopyEnd(f);
            default -> host.forward(f);
        }
    }

    // ---- simple protocol ----

    private void onQuery(Frame f) {
        String sql = FrontendMessages.query(f).sql();
        statements.forgetUnnamed();
        List<PlannedStatement> planned = router.planQuery(sql, catalog());
        if (allPlain(planned)) {
            host.forward(f);
            replies.add(PendingReply.of(PendingReply.Kind.QUERY));
            return;
        }
        if (planned.size() == 1 && planned.getFirst().plan() instanceof StatementPlan.Passthrough pt
                && pt.effect() instanceof Effect.DatabaseDropped d) {
            Buffer query = f.copyBytes(); // a heap copy: the read is recycled once this returns
            PendingReply q = PendingReply.of(PendingReply.Kind.QUERY);
            dropDatabase(d, q, () -> {
                host.forward(query);
                replies.add(q);
            });
            return;
        }
        if (planned.stream().allMatch(p -> p.plan() instanceof StatementPlan.Passthrough pt
                && !(pt.effect() instanceof Effect.TablesDropped))) {
            // The text goes as sent (COPY FROM STDIN must stay a simple query: the extended
            // protocol ignores a Sync sent ahead of the data); only the effects need the proxy.
            PendingReply q = PendingReply.of(PendingReply.Kind.QUERY);
            List<Runnable> effects = new ArrayList<>();
            for (PlannedStatement p : planned) {
                Effect effect = ((StatementPlan.Passthrough) p.plan()).effect();
                beforeEffect(effect);
                Runnable after = afterEffect(effect);
                if (after != null) {
                    effects.add(after);
                }
            }
            q.onSuccess = () -> effects.forEach(Runnable::run);
            q.onFailure = () -> copyIn = null;
            host.forward(f);
            replies.add(q);
            return;
        }
        batchForwarded = false;
        runSimple(planned.iterator());
    }

    /**
     * Carries out a simple query's statements in order; a statement that needs async work
     * (building an index) pauses the client and continues here when done.
     */
    private void runSimple(Iterator<PlannedStatement> rest) {
        while (rest.hasNext() && !discardUntilSync) {
            PlannedStatement s = rest.next();
            Future<?> pending = runSimpleStatement(s);
            if (pending != null) {
                host.pauseClient();
                pending.onComplete(ar -> {
                    inExtendedBatch = false;
                    runSimple(replanned(rest));
                    host.resumeClient();
                });
                return;
            }
        }
        endBatch();
    }

    /** The rest of a simple query planned again: the statement before it may have changed the catalog. */
    private Iterator<PlannedStatement> replanned(Iterator<PlannedStatement> rest) {
        List<PlannedStatement> again = new ArrayList<>();
        rest.forEachRemaining(p -> again.add(new PlannedStatement(p.sql(), router.planStatement(p.sql(), catalog()))));
        return again.iterator();
    }

    /** Runs one statement of a simple query; returns a future when it completes later. */
    private Future<?> runSimpleStatement(PlannedStatement s) {
        pendingCatalogRead = null;
        Future<?> later = runSimpleStatementNow(s);
        return later != null ? later : pendingCatalogRead;
    }

    private Future<?> runSimpleStatementNow(PlannedStatement s) {
        StatementPlan plan = servedBy(s.plan());
        sessionLog("query", describe(plan));
        host.routed(StatementRoutes.of(plan), null);
        switch (plan) {
            case StatementPlan.Passthrough p -> forwardStatement("", "", s.sql(), new int[0], List.of(), p.effect(), false);
            case StatementPlan.Rewrite r -> {
                try {
                    List<Buffer> values = ParamValues.extras(r.params(), dynamicExtras(r.params()));
                    forwardStatement("", "", r.sql(), ParamValues.types(r.params(), new int[0]), values, r.effect(), false);
                } catch (VectorFormatException e) {
                    localError(ErrorFields.error(e.sqlState(), e.getMessage()));
                }
            }
            case StatementPlan.Knn k -> {
                Future<Void> wait = ownCommitsApplied();
                if (wait != null) {
                    return wait.transform(ar -> {
                        if (ar.failed()) {
                            localError(errorOf(ar.cause()));
                            return Future.succeededFuture();
                        }
                        pendingCatalogRead = null;
                        runSimpleKnn(s, k);
                        return pendingCatalogRead != null ? pendingCatalogRead : Future.succeededFuture();
                    });
                }
                runSimpleKnn(s, k);
            }
            case StatementPlan.Command c -> {
                return runCommand(c.command(), s.sql(), false, null);
            }
        }
        return null;
    }

    private void runSimpleKnn(PlannedStatement s, StatementPlan.Knn k) {
                try {
                    KnnExecutor.Prepared run = knn.prepare(k, null, database, catalog(), host.transactionStatus(), writtenTables, readableTables);
                    sessionLog("knn", run.route());
                    host.routed(io.neurondb.plugin.api.StatementEvent.Route.VECTOR, run.search());
                    if (run.localAnswer() != null) {
                        LocalResults rows = run.localAnswer();
                        replies.add(PendingReply.local(rows::all));
                    } else {
                        forwardStatement("", "", k.sql(), ParamValues.types(k.params(), new int[0]),
                                ParamValues.extras(k.params(), run.extras()), Effect.NONE, true);
                        checkReadable(k, false);
                    }
                } catch (VectorFormatException | VectorSqlException e) {
                    localError(errorOf(e));
                }
    }

    /**
     * {@code neurondb.consistency = read_your_writes} and this session committed writes since
     * it last waited: the wait (completing on the session's thread) until replication has
     * applied them, else null. The caller holds the client meanwhile, so replies stay in order.
     * Without replication sync there is nothing to wait for: the writes marked their indexes
     * stale and kNN takes the exact path until the rebuild.
     */
    private Future<Void> ownCommitsApplied() {
        if (!commitsToAwait || database == null || !settings.readYourWrites()) {
            return null;
        }
        if (!database.replicating()) {
            commitsToAwait = false;
            return null;
        }
        long started = System.nanoTime();
        return host.onSessionContext(database.awaitCommitted(settings.consistencyTimeoutMillis())).andThen(ar -> {
            if (ar.succeeded()) {
                commitsToAwait = false;
            }
            sessionLog("consistency_wait", (ar.succeeded() ? "applied" : "timed_out") + " waited_ms="
                    + (System.nanoTime() - started) / 1_000_000);
        });
    }

    /** The Sync that ends a simple query carried out in the extended protocol. */
    private void endBatch() {
        endBatch(() -> host.forward(SYNC));
    }

    /**
     * Ends the client's batch: the Sync goes to the server when anything of the batch (or a
     * reply still owed) is there, or when the client is held for a catalog re-read that the
     * server's ReadyForQuery releases; a batch the proxy answered alone gets its ReadyForQuery
     * from the proxy.
     */
    private void endBatch(Runnable forwardSync) {
        discardUntilSync = false;
        holdForCatalog();
        if (batchForwarded || !replies.isEmpty() || heldForCatalog) {
            forwardSync.run();
            replies.add(PendingReply.of(PendingReply.Kind.SYNC));
        } else {
            replies.add(PendingReply.localSync(() -> List.of(host.transactionStatus().encodeReadyForQuery())));
        }
        batchForwarded = false;
    }

    // ---- extended protocol ----

    private void onParse(Frame f) {
        if (discardUntilSync) {
            return;
        }
        ParseMessage parse = ParseMessage.decode(f);
        StatementPlan plan = servedBy(router.planStatement(parse.sql(), catalog()));
        sessionLog("parse", describe(plan));
        host.routed(StatementRoutes.of(plan), null); // an error at Parse still counts on this route
        boolean wantShape = !catalog().tables().isEmpty();
        switch (plan) {
            case StatementPlan.Passthrough p -> {
                forwardMarked(f);
                register(parse, plan, false, false);
                replies.add(PendingReply.of(PendingReply.Kind.PARSE));
                if (wantShape) {
                    describeHidden(parse.statementName());
                }
            }
            case StatementPlan.Rewrite r -> forwardRewrittenParse(parse, plan, r.sql(), r.params(), false);
            case StatementPlan.Knn k -> forwardRewrittenParse(parse, plan, k.sql(), k.params(), true);
            case StatementPlan.Command c -> {
                if (c.command() instanceof ProxyCommand.Reject reject) {
                    localError(ErrorFields.error(reject.sqlState(), reject.message()));
                } else if (c.command() instanceof ProxyCommand.SetSetting) {
                    forwardMarked(f); // the server keeps the value too, so current_setting() sees it
                    register(parse, plan, false, false);
                    replies.add(PendingReply.of(PendingReply.Kind.PARSE));
                } else {
                    register(parse, plan, true, false);
                    replies.add(PendingReply.local(() -> List.of(BackendMessages.parseComplete())));
                }
            }
        }
    }

    /** Whether every statement goes to the server as written (a loop: this runs on every simple query). */
    private static boolean allPlain(List<PlannedStatement> planned) {
        for (PlannedStatement p : planned) {
            if (!StatementRouter.isPlain(servedBy(p.plan()))) {
                return false;
            }
        }
        return true;
    }

    /**
     * {@code neurondb.version()} is the installed extension's version, which the shim's
     * function in PostgreSQL knows: that statement goes to the server.
     */
    private static StatementPlan servedBy(StatementPlan plan) {
        if (plan instanceof StatementPlan.Command(ProxyCommand.CallFunction call)
                && call.function() == ProxyCommand.NeuronDbFunction.VERSION) {
            return StatementPlan.Passthrough.PLAIN;
        }
        return plan;
    }

    private void forwardRewrittenParse(ParseMessage parse, StatementPlan plan, String sql, ParamPlan params, boolean knnShape) {
        forwardMarked(new ParseMessage(parse.statementName(), sql, ParamValues.types(params, parse.parameterTypes())).encode());
        register(parse, plan, false, knnShape);
        replies.add(PendingReply.of(PendingReply.Kind.PARSE));
        describeHidden(parse.statementName());
    }

    private void register(ParseMessage parse, StatementPlan plan, boolean local, boolean knnShape) {
        statements.putStatement(new ClientStatements.Statement(parse.statementName(), parse.sql(), plan, local,
                parse.parameterTypes(), new ResultColumns(knnShape)));
    }

    /** Learns a statement's result shape (which columns hold vectors) before any of its rows arrive. */
    private void describeHidden(String statementName) {
        host.forward(describe((byte) 'S', statementName));
        PendingReply d = PendingReply.hidden(PendingReply.Kind.DESCRIBE);
        ClientStatements.Statement s = statements.statement(statementName);
        d.results = s == null ? null : s.results;
        replies.add(d);
    }

    private void onBind(Frame f) {
        if (discardUntilSync) {
            return;
        }
        FrontendMessages.Bind names = FrontendMessages.bind(f);
        ClientStatements.Statement s = statements.statement(names.statementName());
        if (s == null) {
            forwardMarked(f); // the server says the statement does not exist
            replies.add(PendingReply.of(PendingReply.Kind.BIND));
            return;
        }
        if (s.plan instanceof StatementPlan.Knn) {
            Future<Void> wait = ownCommitsApplied();
            if (wait != null) {
                // The frame is a window on pooled socket memory that goes back when this handler returns: keep a heap copy.
                Frame kept = f.copy();
                host.pauseClient();
                wait.onComplete(ar -> {
                    inExtendedBatch = true;
                    if (ar.failed()) {
                        localError(errorOf(ar.cause()));
                    } else {
                        onBind(kept);
                    }
                    host.flush();
                    host.resumeClient();
                });
                return;
            }
        }
        BindMessage bind = s.results.hasVectors() || !(s.plan instanceof StatementPlan.Passthrough) || s.local
                ? BindMessage.decode(f) : null;
        BindMessage kept = bind == null ? null : bind.withoutValues();
        ClientStatements.Portal portal = new ClientStatements.Portal(names.portalName(), s, kept, s.results.forPortal(kept));
        statements.putPortal(portal);
        host.routed(StatementRoutes.of(s.plan), null);
        try {
            switch (s.plan) {
                case StatementPlan.Passthrough p -> forwardBind(f);
                case StatementPlan.Rewrite r -> forwardBind(ParamValues.convert(bind, r.params(), dynamicExtras(r.params())).encode());
                case StatementPlan.Knn k -> {
                    KnnExecutor.Prepared run = knn.prepare(k, bind, database, catalog(), host.transactionStatus(), writtenTables, readableTables);
                    sessionLog("knn", run.route());
                    host.routed(io.neurondb.plugin.api.StatementEvent.Route.VECTOR, run.search());
                    if (run.localAnswer() != null) {
                        portal.localRows = run.localAnswer();
                        replies.add(PendingReply.local(() -> List.of(BackendMessages.bindComplete())));
                    } else {
                        forwardBind(ParamValues.convert(bind, k.params(), run.extras(),
                                k.spec().query().param(), run.query()).encode()); // the vector is read once
                        checkReadable(k, true);
                    }
                }
                case StatementPlan.Command c -> {
                    if (s.local) {
                        if (c.command() instanceof ProxyCommand.CallPluginFunction call) {
                            if (!allText(bind)) {
                                statements.closePortal(names.portalName());
                                localError(ErrorFields.error(SqlState.FEATURE_NOT_SUPPORTED,
                                        "neurondb." + call.name() + "() takes its arguments in text format"));
                                return;
                            }
                            portal.boundArguments = textArguments(bind);
                        }
                        replies.add(PendingReply.local(() -> List.of(BackendMessages.bindComplete())));
                    } else {
                        forwardBind(f);
                    }
                }
            }
        } catch (VectorFormatException | VectorSqlException e) {
            statements.closePortal(names.portalName());
            localError(errorOf(e));
        }
    }

    /**
     * A SET of a setting the proxy owns: refused here with PostgreSQL's error when the value is
     * out of range, else sent on ({@code send} forwards the statement with the given reply) and
     * applied when the server accepts it.
     */
    private void setSetting(ProxyCommand.SetSetting set, java.util.function.Consumer<PendingReply> send) {
        SessionSettings.Refusal refusal = set.name() == null ? null : SessionSettings.check(set.name(), set.value());
        if (refusal != null) {
            localError(refusalError(refusal));
            return;
        }
        PendingReply e = PendingReply.of(PendingReply.Kind.EXECUTE);
        e.onSuccess = () -> applySetting(set);
        send.accept(e);
    }

    /** A SET the server accepted; RESET ALL also resets the role, so the readability checks go too. */
    private void applySetting(ProxyCommand.SetSetting set) {
        settings.applied(set.name(), set.value(), set.local());
        if (!logLevelRegistered && LOG_LEVEL.equals(set.name())) {
            // From the first SET neurondb.log_level on, this session's log lines follow its setting
            // (ClientSession unregisters at close). Sessions that never set it cost the log filter nothing.
            logLevelRegistered = true;
            io.neurondb.proxy.logging.SessionLogLevels.register(host.info().connectionId(), () -> settings.explicitValue(LOG_LEVEL));
        }
        if (set.name() == null) {
            readableTables.clear();
            checkedReadable.clear();
        }
    }

    /** Values of the proxy's own parameters that are known only now (its index figures). */
    private List<Buffer> dynamicExtras(ParamPlan params) {
        List<Buffer> out = new ArrayList<>(1);
        for (ParamPlan.Extra e : params.extras()) {
            if (e instanceof ParamPlan.IndexStatsJson) {
                out.add(ParamValues.text(LocalAnswers.indexStatsJson(database)));
            }
        }
        return out;
    }

    private void forwardBind(Frame f) {
        forwardMarked(f);
        replies.add(PendingReply.of(PendingReply.Kind.BIND));
    }

    private void forwardBind(Buffer encoded) {
        forwardMarked(encoded);
        replies.add(PendingReply.of(PendingReply.Kind.BIND));
    }

    private void onDescribe(Frame f) {
        if (discardUntilSync) {
            return;
        }
        FrontendMessages.Target target = FrontendMessages.target(f);
        if (target.isStatement()) {
            ClientStatements.Statement s = statements.statement(target.name());
            if (s != null && s.local) {
                replies.add(PendingReply.local(() -> {
                    List<Buffer> out = new ArrayList<>(2);
                    out.add(BackendMessages.parameterDescription(localParameterTypes(s)));
                    out.add(describeLocal(s, null));
                    return out;
                }));
                return;
            }
            forwardMarked(f);
            PendingReply d = PendingReply.of(PendingReply.Kind.DESCRIBE);
            if (s != null) {
                d.results = s.results;
                d.visibleParams = clientParams(s);
                d.vectorParams = vectorParams(s);
            }
            replies.add(d);
            return;
        }
        ClientStatements.Portal p = statements.portal(target.name());
        if (p != null && p.local()) {
            replies.add(PendingReply.local(() -> List.of(p.localRows != null ? p.localRows.rowDescription(p.bind)
                    : describeLocal(p.statement, p.bind))));
            return;
        }
        forwardMarked(f);
        PendingReply d = PendingReply.of(PendingReply.Kind.DESCRIBE);
        d.results = p == null ? null : p.results;
        replies.add(d);
    }

    private static java.util.BitSet vectorParams(ClientStatements.Statement s) {
        return switch (s.plan) {
            case StatementPlan.Rewrite r -> r.params().vectorParams();
            case StatementPlan.Knn k -> k.params().vectorParams();
            default -> null;
        };
    }

    private static int clientParams(ClientStatements.Statement s) {
        return switch (s.plan) {
            case StatementPlan.Rewrite r -> r.params().clientParams();
            case StatementPlan.Knn k -> k.params().clientParams();
            default -> -1;
        };
    }

    /** Parameter types of a statement the proxy answers: a plugin call's {@code $n}, text unless declared. */
    private static int[] localParameterTypes(ClientStatements.Statement s) {
        if (s.plan instanceof StatementPlan.Command(ProxyCommand.CallPluginFunction call)) {
            return PluginCalls.parameterTypes(call, s.declaredTypes);
        }
        return new int[0];
    }

    /** RowDescription or NoData of a statement the proxy answers. */
    private Buffer describeLocal(ClientStatements.Statement s, BindMessage formats) {
        if (s.plan instanceof StatementPlan.Command c) {
            LocalResults shape = LocalAnswers.shapeOf(c.command(), host.facts(), host.functions());
            if (shape != null) {
                return shape.rowDescription(formats);
            }
        }
        return BackendMessages.noData();
    }

    private void onExecute(Frame f) {
        if (discardUntilSync) {
            return;
        }
        FrontendMessages.Execute exec = FrontendMessages.execute(f);
        ClientStatements.Portal p = statements.portal(exec.portalName());
        if (p == null) {
            forwardMarked(f);
            replies.add(PendingReply.of(PendingReply.Kind.EXECUTE));
            return;
        }
        if (p.localRows != null) {
            sendLocalRows(p, exec.maxRows());
            return;
        }
        StatementPlan plan = p.statement.plan;
        if (plan instanceof StatementPlan.Command c) {
            if (p.statement.local) {
                Future<?> pending = runCommand(c.command(), p.statement.sql, true, p.boundArguments);
                if (pending != null) {
                    host.pauseClient();
                    pending.onComplete(ar -> host.resumeClient());
                }
                return;
            }
            if (c.command() instanceof ProxyCommand.SetSetting set) {
                setSetting(set, e -> {
                    forwardMarked(f);
                    replies.add(e);
                });
                return;
            }
        }
        Effect effect = switch (plan) {
            case StatementPlan.Passthrough pt -> pt.effect();
            case StatementPlan.Rewrite r -> r.effect();
            default -> Effect.NONE;
        };
        if (effect instanceof Effect.DatabaseDropped d) {
            Buffer execute = f.copyBytes(); // a heap copy, as above
            PendingReply e = PendingReply.of(PendingReply.Kind.EXECUTE);
            e.results = p.results;
            dropDatabase(d, e, () -> {
                forwardMarked(execute);
                replies.add(e);
            });
            return;
        }
        beforeEffect(effect);
        injectBefore(effect, true);
        forwardMarked(f);
        PendingReply e = PendingReply.of(PendingReply.Kind.EXECUTE);
        e.results = p.results;
        e.onSuccess = afterEffect(effect);
        replies.add(e);
        Future<Void> seen = injectFollowUps(effect, true);
        if (seen != null) {
            host.pauseClient();
            seen.onComplete(ar -> host.resumeClient());
        }
    }

    private void sendLocalRows(ClientStatements.Portal p, int maxRows) {
        LocalResults rows = p.localRows;
        int from = p.sent;
        int to = maxRows > 0 ? Math.min(rows.rowCount(), from + maxRows) : rows.rowCount();
        p.sent = to;
        boolean suspended = to < rows.rowCount();
        replies.add(PendingReply.local(() -> {
            List<Buffer> out = new ArrayList<>(rows.dataRows(p.bind, from, to));
            out.add(suspended ? PORTAL_SUSPENDED.copy() : BackendMessages.commandComplete(rows.commandTag()));
            return out;
        }));
    }

    private void onClose(Frame f) {
        if (discardUntilSync) {
            return;
        }
        FrontendMessages.Target target = FrontendMessages.target(f);
        boolean local;
        if (target.isStatement()) {
            ClientStatements.Statement s = statements.statement(target.name());
            local = s != null && s.local;
            statements.closeStatement(target.name());
        } else {
            ClientStatements.Portal p = statements.portal(target.name());
            local = p != null && p.statement.local;
            statements.closePortal(target.name());
        }
        if (local) {
            replies.add(PendingReply.local(() -> List.of(BackendMessages.closeComplete())));
        } else {
            forwardMarked(f);
            replies.add(PendingReply.of(PendingReply.Kind.CLOSE));
        }
    }

    private void onSync(Frame f) {
        endBatch(() -> host.forward(f)); // the client's own bytes: adjacent frames leave as one slice
    }

    // ---- COPY FROM STDIN into vector columns ----

    private void onCopyData(Frame f) {
        if (copyIn == null) {
            host.forward(f);
            return;
        }
        if (copyInFailed) {
            return;
        }
        try {
            Buffer payload = f.payload();
            byte[] out = copyIn.feed(payload.getBytes(), 0, payload.length());
            if (out.length > 0) {
                host.forward(copyData(out));
            }
        } catch (VectorFormatException e) {
            failCopy(e);
        }
    }

    private void onCopyEnd(Frame f) {
        if (copyIn == null) {
            host.forward(f);
            return;
        }
        CopyInTranslator translator = copyIn;
        boolean failed = copyInFailed;
        copyIn = null;
        copyInFailed = false;
        if (failed) {
            return; // the server already has our CopyFail
        }
        if (f.type() == PgProtocol.COPY_DONE) {
            try {
                byte[] rest = translator.finish();
                if (rest.length > 0) {
                    host.forward(copyData(rest));
                }
            } catch (VectorFormatException e) {
                copyError = ErrorFields.error(e.sqlState(), e.getMessage()).encodeError();
                host.forward(copyFail(e.getMessage()));
                return;
            }
        }
        host.forward(f);
    }

    /** Bad vector data: the server abandons the COPY; the client sees pgvector's error; the rest of its data is dropped. */
    private void failCopy(VectorFormatException e) {
        copyInFailed = true;
        copyError = ErrorFields.error(e.sqlState(), e.getMessage()).encodeError();
        host.forward(copyFail(e.getMessage()));
    }

    // ======================= the proxy's own statements =======================

    /**
     * Carries out a statement the proxy handles itself, at its Execute (or in its place in a
     * simple query). Returns a future when the work completes later; the client is paused until then.
     *
     * @param bound the Bind's parameter values as text, null in a simple query
     */
    private Future<?> runCommand(ProxyCommand command, String sql, boolean extended, List<String> bound) {
        if (command instanceof ProxyCommand.CreateExtension || command instanceof ProxyCommand.UpdateExtension
                || command instanceof ProxyCommand.DropExtension || command instanceof ProxyCommand.CreateVectorIndex
                || command instanceof ProxyCommand.DropVectorIndexes) {
            catalogChanged();
        }
        switch (command) {
            case ProxyCommand.Reject r -> localError(ErrorFields.error(r.sqlState(), r.message()));
            case ProxyCommand.ShowSetting show -> {
                SessionSettings.Refusal refusal = SessionSettings.check(show.name(), null);
                if (refusal != null) {
                    localError(refusalError(refusal));
                } else {
                    replies.add(PendingReply.local(() -> localRows(LocalResults.select(List.of(LocalResults.Column.text(show.name())))
                            .row(settings.value(show.name())), extended)));
                }
            }
            case ProxyCommand.SetSetting set -> setSetting(set, e -> forwardInjected(sql, new int[0], List.of(), e, extended));
            case ProxyCommand.CallFunction call -> replies.add(PendingReply.local(() ->
                    localRows(LocalAnswers.call(call, host.facts(), database), extended)));
            case ProxyCommand.CallPluginFunction call -> {
                return callPluginFunction(call, bound, extended);
            }
            case ProxyCommand.CreateExtension ce -> {
                PendingReply e = PendingReply.tagOnly("CREATE EXTENSION");
                e.onSuccess = this::catalogChanged;
                forwardInjected(io.neurondb.proxy.shim.ShimScripts.install(ce.schema(), ce.ifNotExists(), ce.version()),
                        new int[0], List.of(), e, extended);
            }
            case ProxyCommand.UpdateExtension ue -> {
                PendingReply e = PendingReply.tagOnly("ALTER EXTENSION");
                e.onSuccess = this::catalogChanged;
                forwardInjected(io.neurondb.proxy.shim.ShimScripts.update(ue.toVersion()), new int[0], List.of(), e, extended);
            }
            case ProxyCommand.DropExtension de -> {
                PendingReply e = PendingReply.tagOnly("DROP EXTENSION");
                e.onSuccess = this::catalogChanged;
                forwardInjected(io.neurondb.proxy.shim.ShimScripts.drop(de.ifExists(), de.cascade()), new int[0], List.of(), e, extended);
            }
            case ProxyCommand.CreateVectorIndex ci -> {
                return createIndex(ci, extended);
            }
            case ProxyCommand.DropVectorIndexes di -> dropIndexes(di, extended);
            case ProxyCommand.ReindexVectorIndex ri -> {
                if (database == null) {
                    localError(noEngine());
                    return null;
                }
                return host.onSessionContext(database.rebuild(ri.index())).onComplete(ar -> {
                    if (ar.succeeded()) {
                        replies.add(PendingReply.local(() -> List.of(BackendMessages.commandComplete("REINDEX"))));
                    } else {
                        localError(errorOf(ar.cause()));
                    }
                });
            }
        }
        return null;
    }

    /** A plugin's neurondb.* function, run on a worker thread; its rows (or error) take the statement's place. */
    private Future<?> callPluginFunction(ProxyCommand.CallPluginFunction call, List<String> bound, boolean extended) {
        SqlFunction function = host.functions().find(call.name());
        List<String> arguments;
        try {
            arguments = PluginCalls.arguments(call, bound);
        } catch (SqlFunctionException e) {
            localError(ErrorFields.error(e.sqlState(), e.getMessage()));
            return null;
        }
        SessionInfo info = host.info();
        SqlFunction.Caller caller = new SqlFunction.Caller(info.connectionId(), info.database(), info.user(), info.superuser());
        return host.blocking(() -> PluginCalls.rows(call, function, function.call(arguments, caller))).onComplete(ar -> {
            if (ar.succeeded()) {
                replies.add(PendingReply.local(() -> localRows(ar.result(), extended)));
            } else {
                localError(PluginCalls.error(call, ar.cause()));
            }
        });
    }

    private static boolean allText(BindMessage bind) {
        for (int i = 0; i < bind.values().length; i++) {
            if (bind.parameterFormat(i) != BindMessage.TEXT) {
                return false;
            }
        }
        return true;
    }

    /** A Bind's values as text, for a plugin function's {@code $n} arguments. */
    private static List<String> textArguments(BindMessage bind) {
        List<String> values = new ArrayList<>(bind.values().length);
        for (int i = 0; i < bind.values().length; i++) {
            values.add(bind.textValue(i));
        }
        return values;
    }

    private Future<?> createIndex(ProxyCommand.CreateVectorIndex ci, boolean extended) {
        if (database == null) {
            localError(noEngine());
            return null;
        }
        return host.onSessionContext(database.prepareIndex(ci)).onComplete(ar -> {
            if (ar.failed()) {
                localError(errorOf(ar.cause()));
                return;
            }
            var prepared = ar.result();
            if (prepared.alreadyExists()) {
                replies.add(PendingReply.local(() -> List.of(
                        ErrorFields.of("NOTICE", "42P07", prepared.skipNotice()).encodeNotice(),
                        BackendMessages.commandComplete("CREATE INDEX"))));
                return;
            }
            var def = prepared.def();
            PendingReply e = PendingReply.tagOnly("CREATE INDEX");
            e.onSuccess = () -> {
                database.register(prepared);
                catalogChanged();
            };
            e.onFailure = () -> database.discard(prepared);
            forwardInjected(CatalogStatements.INSERT_INDEX, CatalogStatements.INSERT_INDEX_TYPES,
                    CatalogStatements.indexRow(def), e, extended);
        });
    }

    private void dropIndexes(ProxyCommand.DropVectorIndexes di, boolean extended) {
        if (di.remainingSql() != null) {
            forwardInjected(di.remainingSql(), new int[0], List.of(), PendingReply.hidden(PendingReply.Kind.EXECUTE), extended);
        }
        for (int i = 0; i < di.indexes().size(); i++) {
            var def = di.indexes().get(i);
            boolean last = i == di.indexes().size() - 1;
            PendingReply e = last ? PendingReply.tagOnly("DROP INDEX") : PendingReply.hidden(PendingReply.Kind.EXECUTE);
            e.onSuccess = () -> {
                if (database != null) {
                    database.drop(def);
                }
                catalogChanged();
            };
            forwardInjected(CatalogStatements.DELETE_INDEX, CatalogStatements.DELETE_INDEX_TYPES,
                    CatalogStatements.indexKey(def), e, extended);
        }
    }

    /**
     * Sends a statement of the proxy's own in the client's stream: its Parse and Bind replies
     * are hidden, its Execute reply is {@code execute}'s to shape. In the extended protocol it
     * uses a name of its own (and closes it) so the client's unnamed statement survives.
     */
    private void forwardInjected(String sql, int[] types, List<Buffer> values, PendingReply execute, boolean extended) {
        String name = extended ? INJECTED : "";
        if (extended) {
            // Closed first, not after: after an error the server skips to Sync, a Close included.
            // Closing a name that does not exist is not an error.
            host.forward(close((byte) 'S', name));
            replies.add(PendingReply.hidden(PendingReply.Kind.CLOSE));
            host.forward(close((byte) 'P', name));
            replies.add(PendingReply.hidden(PendingReply.Kind.CLOSE));
        }
        forwardStatement(name, name, sql, types, values, Effect.NONE, false, execute);
    }

    private void forwardStatement(String statement, String portal, String sql, int[] types, List<Buffer> values,
                                  Effect effect, boolean knnShape) {
        PendingReply e = PendingReply.of(PendingReply.Kind.EXECUTE);
        forwardStatement(statement, portal, sql, types, values, effect, knnShape, e);
    }

    /** Parse, Bind, (Describe,) Execute of one statement, standing in for part of a simple query or a command. */
    private void forwardStatement(String statement, String portal, String sql, int[] types, List<Buffer> values,
                                  Effect effect, boolean knnShape, PendingReply execute) {
        injectBefore(effect, !statement.isEmpty());
        forwardMarked(new ParseMessage(statement, sql, types).encode());
        replies.add(PendingReply.hidden(PendingReply.Kind.PARSE));
        BindMessage bind = new BindMessage(portal, statement, new short[0], values.toArray(Buffer[]::new), new short[0]);
        host.forward(bind.encode());
        replies.add(PendingReply.hidden(PendingReply.Kind.BIND));
        ResultColumns results = new ResultColumns(knnShape);
        if (execute.visibility == PendingReply.Visibility.SHOWN) {
            host.forward(describe((byte) 'P', portal));
            PendingReply d = PendingReply.rowsOnly();
            d.results = results;
            replies.add(d);
        }
        beforeEffect(effect);
        host.forward(executeMessage(portal));
        execute.results = results;
        Runnable after = afterEffect(effect);
        if (after != null) {
            Runnable own = execute.onSuccess;
            execute.onSuccess = own == null ? after : () -> {
                own.run();
                after.run();
            };
        }
        replies.add(execute);
        Future<Void> seen = injectFollowUps(effect, !statement.isEmpty());
        if (seen != null) {
            pendingCatalogRead = seen;
        }
    }

    /** Set when a statement of a simple query made vector columns: the rest of the query waits and is planned again. */
    private Future<Void> pendingCatalogRead;

    /**
     * A kNN statement the engine could answer alone, on a table not checked yet: ask
     * PostgreSQL, as the client's role, whether it may read the key and vector columns and
     * whether row security applies. The next executions are answered by the engine if so.
     */
    private void checkReadable(StatementPlan.Knn k, boolean extended) {
        if (k.spec().localAnswer() == null || k.spec().filtered() || database == null
                || !checkedReadable.add(k.spec().table())) {
            return;
        }
        var table = catalog().table(k.spec().table());
        var index = table.flatMap(t -> catalog().indexFor(t, k.spec().column(), k.spec().operator()));
        if (index.isEmpty()) {
            checkedReadable.remove(k.spec().table()); // no index yet: ask when there is one
            return;
        }
        TableName name = k.spec().table();
        PendingReply check = PendingReply.hidden(PendingReply.Kind.EXECUTE);
        check.rowSink = row -> {
            if (row.length == 1 && row[0] != null && row[0].toString(StandardCharsets.UTF_8).equals("t")) {
                readableTables.add(name);
            }
        };
        check.onFailure = () -> checkedReadable.remove(name); // skipped after an error: ask again later
        forwardInjected(CatalogStatements.READABLE_CHECK, CatalogStatements.READABLE_CHECK_TYPES,
                CatalogStatements.readableCheck(name, index.get()), check, extended);
    }

    // ---- effects of forwarded statements ----

    private void beforeEffect(Effect effect) {
        // Writes count from the moment they are sent: a kNN later in the same transaction
        // (even in the same pipeline) must not be answered from the engine, which cannot see them.
        switch (effect) {
            case Effect.CopyIn c -> {
                copyIn = new CopyInTranslator(CopyFormats.of(c.options()), c.table().toString(), CopyFormats.vectorColumns(c, catalog()));
                copyInFailed = false;
                copyError = null;
                written(List.of(c.table()));
            }
            case Effect.TablesWritten w -> written(w.tables());
            case Effect.TablesTruncated t -> written(t.tables());
            case Effect.RegisterVectorColumns r -> catalogChanged();
            case Effect.TablesDropped d -> catalogChanged();
            case Effect.RoleChanged r -> {
                // The engine answers alone only for tables this role was shown to read: ask again.
                readableTables.clear();
                checkedReadable.clear();
            }
            default -> {
            }
        }
    }

    private void written(List<TableName> tables) {
        for (TableName t : tables) {
            writtenTables.add(catalog().table(t).map(VectorCatalog.Table::tableName).orElse(t));
        }
    }

    /**
     * {@code DROP DATABASE}: the client waits while the proxy lets go of the database (its
     * replication stream and connections would make PostgreSQL refuse), then the statement goes
     * as sent; its reply tells the proxy whether to forget the database or follow it again.
     */
    private void dropDatabase(Effect.DatabaseDropped d, PendingReply reply, Runnable send) {
        host.pauseClient();
        host.onSessionContext(host.holdForDrop(d.database())).onComplete(ar -> {
            if (ar.succeeded() && ar.result() != null) {
                var hold = ar.result();
                reply.onSuccess = hold::dropped;
                reply.onFailure = hold::kept;
            } else if (ar.failed()) {
                log.warn("event=drop_database_release_failed db={} error=\"{}\"", d.database(), ar.cause().getMessage());
            }
            send.run();
            host.resumeClient();
        });
    }

    private Runnable afterEffect(Effect effect) {
        return switch (effect) {
            case Effect.None n -> null;
            case Effect.DatabaseDropped d -> null;
            case Effect.RegisterVectorColumns r -> this::catalogChanged;
            case Effect.TablesDropped d -> this::catalogChanged;
            case Effect.TablesTruncated t -> null;
            case Effect.TablesWritten w -> null;
            case Effect.CopyIn c -> null;
            case Effect.RoleChanged r -> null;
        };
    }

    /** Catalog rows of dropped tables go just before the DROP, in its transaction (and are kept if it fails). */
    private void injectBefore(Effect effect, boolean extended) {
        if (effect instanceof Effect.TablesDropped d) {
            for (TableName t : d.tables()) {
                forwardInjected(CatalogStatements.DELETE_TABLE, CatalogStatements.DELETE_TABLE_TYPES,
                        CatalogStatements.tableKey(t), PendingReply.hidden(PendingReply.Kind.EXECUTE), extended);
            }
        }
    }

    /**
     * Catalog writes that belong to a statement go right behind it, before the client's Sync,
     * so they commit or roll back with it; if the statement fails the server skips them.
     */
    private Future<Void> injectFollowUps(Effect effect, boolean extended) {
        if (!(effect instanceof Effect.RegisterVectorColumns r)) {
            return null;
        }
        for (Effect.NewVectorColumn col : r.columns()) {
            forwardInjected(CatalogStatements.INSERT_VECTOR_COLUMN, CatalogStatements.INSERT_VECTOR_COLUMN_TYPES,
                    CatalogStatements.vectorColumnRow(r.table(), col), PendingReply.hidden(PendingReply.Kind.EXECUTE), extended);
        }
        // What follows in the same transaction (an INSERT of '[..]' literals into the new
        // column) must be planned knowing the column, which the shared catalog cannot see
        // before commit: read the table as this transaction sees it, and hold the client.
        Promise<Void> seen = Promise.promise();
        PendingReply read = PendingReply.hidden(PendingReply.Kind.EXECUTE);
        read.rowSink = row -> {
            if (row.length == 1 && row[0] != null) {
                overlay.add(row[0].toString(StandardCharsets.UTF_8));
            }
        };
        read.onSuccess = () -> seen.tryComplete();
        read.onFailure = () -> seen.tryComplete();
        forwardInjected(CatalogStatements.TABLE_AS_SEEN, CatalogStatements.TABLE_AS_SEEN_TYPES,
                CatalogStatements.tableKey(r.table()), read, extended);
        // The server sends replies before a Sync only when asked; the client is held until this one.
        host.forward(FLUSH);
        return seen.future();
    }

    private void catalogChanged() {
        catalogChanged = true;
    }

    /** After a Sync that ends DDL on vector objects, nothing more from the client until the catalog is re-read. */
    private void holdForCatalog() {
        if (catalogChanged && database != null && !heldForCatalog) {
            heldForCatalog = true;
            host.pauseClient();
        }
    }

    // ======================= server replies =======================

    void onServerFrame(Frame f) {
        replies.onServerFrame(f);
    }

    @Override
    public void toClient(Frame frame) {
        host.toClient(frame);
    }

    @Override
    public void toClient(Buffer message) {
        host.toClient(message);
    }

    @Override
    public void onCommandComplete(String tag) {
        if (tag.equals("ROLLBACK")) {
            settings.rolledBack();
            writtenTables.clear();
        }
    }

    @Override
    public Future<Void> onReady(TransactionStatus status, boolean errorSeen) {
        host.transactionStatus(status);
        if (status != TransactionStatus.IDLE) {
            if (heldForCatalog) {
                heldForCatalog = false;
                host.resumeClient(); // the catalog is re-read when the transaction ends
            }
            return null;
        }
        if (errorSeen) {
            settings.rolledBack();
        } else {
            settings.transactionEnded();
        }
        statements.transactionEnded();
        overlay.clear(); // committed or not, the shared catalog (re-read below if needed) now tells the truth
        if (!writtenTables.isEmpty() && database != null) {
            database.tablesChanged(List.copyOf(writtenTables));
            commitsToAwait = true; // (a failed transaction only makes the next wait unneeded, never wrong)
        }
        writtenTables.clear();
        if (catalogChanged && database != null) {
            catalogChanged = false;
            // The client hears ReadyForQuery only once the catalog is re-read, and what it sent
            // after its Sync waits too: every later statement, on any connection, is planned
            // against the catalog this DDL made.
            return host.onSessionContext(database.refreshCatalog()).<Void>transform(ar -> {
                if (ar.failed()) {
                    log.warn("conn={} event=catalog_refresh_failed error=\"{}\"", host.info().connectionId(), ar.cause().toString());
                }
                return Future.succeededFuture();
            });
        }
        if (heldForCatalog) {
            heldForCatalog = false;
            host.resumeClient();
        }
        return null;
    }

    @Override
    public void readyReleased() {
        if (heldForCatalog) {
            heldForCatalog = false;
            host.resumeClient();
        } else {
            host.flush();
        }
    }

    // ======================= helpers =======================

    /**
     * The session's own log line (route decisions; never SQL text or values): at INFO when the
     * session has {@code SET neurondb.log_level = debug}, so one client can be traced without
     * raising the whole proxy's level; at DEBUG otherwise.
     */
    private static String describe(StatementPlan plan) {
        return switch (plan) {
            case StatementPlan.Passthrough p -> p.effect() == Effect.NONE ? "passthrough" : "passthrough+" + p.effect().getClass().getSimpleName();
            case StatementPlan.Rewrite r -> "rewritten";
            case StatementPlan.Knn k -> "knn table=" + k.spec().table() + " op=" + k.spec().operator().symbol();
            case StatementPlan.Command c -> "proxy " + c.command().getClass().getSimpleName();
        };
    }

    private void sessionLog(String event, String detail) {
        if ("debug".equals(settings.value(LOG_LEVEL))) {
            log.info("conn={} event={} route=\"{}\"", host.info().connectionId(), event, detail);
        } else if (log.isDebugEnabled()) {
            log.debug("conn={} event={} route=\"{}\"", host.info().connectionId(), event, detail);
        }
    }

    /** Forwards a client message and notes that the batch now needs the server's Sync. */
    private void forwardMarked(Frame f) {
        host.forward(f);
        batchForwarded = true;
    }

    private void forwardMarked(Buffer message) {
        host.forward(message);
        batchForwarded = true;
    }

    /**
     * An error of the proxy's own (a malformed vector, a refused setting). It must do to the
     * server's transaction what the same error raised by PostgreSQL would: abort it, so what
     * the batch sent before it rolls back, and skip to Sync. So the proxy sends a statement
     * that fails, and shows its own error in place of that statement's.
     */
    private void localError(ErrorFields error) {
        PendingReply fail = PendingReply.hidden(PendingReply.Kind.EXECUTE);
        fail.replaceError = error.encodeError();
        forwardInjected(CatalogStatements.FAIL, new int[0], List.of(), fail, inExtendedBatch);
        discardUntilSync = true;
    }

    @Override
    public Buffer replaceError(ErrorFields serverError, PendingReply head) {
        if (head != null && head.replaceError != null && "P0001".equals(serverError.sqlState())) {
            return head.replaceError;
        }
        if (copyError != null && "57014".equals(serverError.sqlState())) {
            Buffer ours = copyError;
            copyError = null;
            return ours;
        }
        return null;
    }

    private List<Buffer> localRows(LocalResults rows, boolean extended) {
        if (!extended) {
            return rows.all();
        }
        // Extended: the client described the statement separately; the Execute gets rows and completion.
        List<Buffer> out = new ArrayList<>(rows.dataRows(null, 0, rows.rowCount()));
        out.add(BackendMessages.commandComplete(rows.commandTag()));
        return out;
    }

    private static ErrorFields refusalError(SessionSettings.Refusal r) {
        ErrorFields e = ErrorFields.error(r.sqlState(), r.message());
        return r.hint() == null ? e : e.withHint(r.hint());
    }

    private static ErrorFields noEngine() {
        return ErrorFields.error(SqlState.FEATURE_NOT_SUPPORTED, "the NeuronDB engine is not available for this database");
    }

    static ErrorFields errorOf(Throwable t) {
        if (t instanceof VectorFormatException v) {
            return ErrorFields.error(v.sqlState(), v.getMessage());
        }
        if (t instanceof VectorSqlException v) {
            ErrorFields e = ErrorFields.error(v.sqlState(), v.getMessage());
            return v.hint() == null ? e : e.withHint(v.hint());
        }
        log.error("event=vector_command_failed", t);
        return ErrorFields.error(SqlState.INTERNAL_ERROR, "internal error in NeuronDB proxy: " + t);
    }

    private static final Buffer SYNC = MessageWriter.typed(PgProtocol.SYNC, 0).finish();
    private static final Buffer FLUSH = MessageWriter.typed(PgProtocol.FLUSH, 0).finish();
    private static final Buffer PORTAL_SUSPENDED = MessageWriter.typed(PgProtocol.PORTAL_SUSPENDED, 0).finish();

    private static Buffer describe(byte kind, String name) {
        return MessageWriter.typed(PgProtocol.DESCRIBE, name.length() + 2).int8(kind).cstring(name).finish();
    }

    private static Buffer close(byte kind, String name) {
        return MessageWriter.typed(PgProtocol.CLOSE, name.length() + 2).int8(kind).cstring(name).finish();
    }

    private static Buffer executeMessage(String portal) {
        return MessageWriter.typed(PgProtocol.EXECUTE, portal.length() + 5).cstring(portal).int32(0).finish();
    }

    private static Buffer copyData(byte[] bytes) {
        return MessageWriter.typed(PgProtocol.COPY_DATA, bytes.length).bytes(Buffer.buffer(bytes)).finish();
    }

    private static Buffer copyFail(String message) {
        return MessageWriter.typed(PgProtocol.COPY_FAIL, message.length() + 1).cstring(message).finish();
    }
}
