package io.neurondb.proxy.session;

import io.neurondb.plugin.api.BackendConnectionProvider;
import io.neurondb.plugin.api.BackendConnectionProvider.AuthStep;
import io.neurondb.plugin.api.BackendConnectionProvider.BackendLease;
import io.neurondb.plugin.api.BackendConnectionProvider.PoolMode;
import io.neurondb.plugin.api.BackendConnectionProvider.PooledClient;
import io.neurondb.plugin.api.BackendUnavailableException;
import io.neurondb.proxy.net.CancelRegistry;
import io.neurondb.proxy.net.CancelRegistry.CancelTarget;
import io.neurondb.proxy.logging.SessionLogLevels;
import io.neurondb.proxy.protocol.AuthenticationRequest;
import io.neurondb.proxy.protocol.BackendKeyData;
import io.neurondb.proxy.protocol.ErrorFields;
import io.neurondb.proxy.protocol.Frame;
import io.neurondb.proxy.protocol.FrameDecoder;
import io.neurondb.proxy.protocol.FrameLimits;
import io.neurondb.proxy.protocol.MessageWriter;
import io.neurondb.proxy.protocol.MessageReader;
import io.neurondb.proxy.protocol.PgProtocol;
import io.neurondb.proxy.protocol.ProtocolException;
import io.neurondb.proxy.protocol.SqlState;
import io.neurondb.proxy.protocol.StartupPacket;
import io.neurondb.proxy.protocol.StartupPacket.CancelRequest;
import io.neurondb.proxy.protocol.StartupPacket.StartupMessage;
import io.neurondb.proxy.protocol.TransactionStatus;
import io.neurondb.proxy.plugin.PluginFunctions;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.neurondb.proxy.vectors.VectorDatabase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * One client connection and the server connection it runs on: in 1:1 mode the startup and
 * authentication relay, then the message relay with backpressure both ways. With an active
 * pooling provider ({@link SessionServices#pool()}) the provider checks the client's password,
 * and the session borrows a server connection (a lease) when it has work: for the whole
 * session in session mode, per transaction in transaction mode, where {@link PooledServerLink}
 * keeps prepared statements and settings across server connections. Everything here runs on
 * the event loop that accepted the client, so no field needs synchronisation; a borrowed
 * server connection living on another event loop has its events moved to this one.
 *
 * <p>Client and server bytes go through their own {@link FrameDecoder}; frames are inspected
 * and forwarded as the original bytes; only BackendKeyData, the SASL mechanism list and an
 * authentication error that gets a hint are re-encoded. Frames from one read go out with one
 * socket write.
 */
public final class ClientSession implements SessionInfo {

    private static final Logger log = LoggerFactory.getLogger(ClientSession.class);
    private static final Buffer TLS_ACCEPTED = Buffer.buffer(new byte[]{'S'});
    private static final Buffer TLS_DECLINED = Buffer.buffer(new byte[]{'N'});

    private final SessionServices services;
    private final NetSocket client;
    private final long connectionId;
    private final FrameDecoder clientDecoder;
    private final StatementTracker tracker;

    private SessionState state = SessionState.AWAITING_STARTUP;
    private TransactionStatus transactionStatus = TransactionStatus.IDLE;
    private StartupMessage startup;
    private String applicationName = "";
    private boolean superuser;
    private String clientAddress;
    private NetSocket server;
    private FrameDecoder serverDecoder;
    /** Holds reading the client while the server's channel is full (COPY IN), and the reverse. */
    private FlowControl clientToServer;
    private FlowControl serverToClient;
    /** The cancel key the client was given, and where its cancels go now. */
    private CancelRegistry.Registration cancelKey;
    /** Where a pooled session's cancels go while it holds no server connection (nowhere: no server key). */
    private CancelTarget noServerTarget;
    private boolean serverReportedFatal;
    private long loginTimer = -1;
    /** The engine side of the client's database, opened while the client logs in. */
    private Future<VectorDatabase> vectorDatabase;
    private RequestPipeline pipeline;
    /** Nested holds on decoding the client (async work of the pipeline). */
    private int clientHolds;
    private Context context;

    /** The read being handled on each side: frames are views on it until the handler returns. */
    private final BorrowedRead clientRead = new BorrowedRead();
    private final BorrowedRead serverRead = new BorrowedRead();

    // ---- pooled mode (all null / unused in 1:1 mode) ----
    private PooledClient pooled;
    private PoolMode poolMode;
    private BackendLease lease;
    private PooledServerLink link;
    private final SessionVariables variables = new SessionVariables();
    /** Set while handling a server read when the lease can go back once the read is done. */
    private boolean releaseAfterRead;
    private AdminConsole console;

    /** Frames decoded from one read, written with one write. */
    private final WriteBatch toServer = new WriteBatch();
    private final WriteBatch toClient = new WriteBatch();
    // The sinks the hot path hands on, made once: a method reference capturing this is a new
    // object wherever the JIT does not inline the call it is passed to.
    private final Consumer<Buffer> clientBytes = this::onClientBytes;
    private final Consumer<Frame> clientFrames = this::onClientFrame;
    private final Consumer<Buffer> serverBytes = this::onServerBytes;
    private final Consumer<Frame> serverFrames = this::onServerFrame;
    private final Consumer<Frame> framesToServer = this::queueToServer;
    private final Consumer<Buffer> bytesToServer = toServer::add;

    public ClientSession(SessionServices services, NetSocket client) {
        this.services = services;
        this.client = client;
        this.connectionId = services.connectionIds().incrementAndGet();
        this.clientDecoder = new FrameDecoder(services.clientLimits(), FrameDecoder.Expect.STARTUP);
        this.tracker = services.observing() ? new StatementTracker(this, services::publish) : null;
        services.meters().clientAccepted();
    }

    public void start() {
        context = Vertx.currentContext();
        // Raw Netty buffers rather than Vert.x's copies: frames pass through without a copy.
        ((NetSocketInternal) client).messageHandler(this::onClientMessage);
        client.closeHandler(v -> onClientClosed());
        client.exceptionHandler(e -> log.debug("conn={} event=client_socket_error error=\"{}\"", connectionId, e.toString()));
        long loginTimeout = services.clientLoginTimeout().toMillis();
        if (loginTimeout > 0) {
            // A client that connects and never finishes logging in must not hold a slot forever.
            loginTimer = Vertx.currentContext().owner().setTimer(loginTimeout, id -> {
                if (state != SessionState.READY && state != SessionState.CLOSED) {
                    failClient(ErrorFields.fatal(SqlState.PROTOCOL_VIOLATION, "client_login_timeout ("
                            + services.clientLoginTimeout().toSeconds() + " s) expired before the login completed"), "login_timeout");
                }
            });
        }
        log.debug("conn={} event=accepted client={}", connectionId, clientAddress());
    }

    public SessionState state() {
        return state;
    }

    public TransactionStatus transactionStatus() {
        return transactionStatus;
    }

    // ---- the state machine's one door ----

    private void transition(SessionState next) {
        if (!state.canMoveTo(next)) {
            throw new IllegalStateException("session " + connectionId + ": " + state + " -> " + next + " is not a valid transition");
        }
        log.trace("conn={} event=state from={} to={}", connectionId, state, next);
        services.meters().moved(state, next);
        state = next;
        if (next == SessionState.CLOSED) {
            io.neurondb.proxy.logging.SessionLogLevels.unregister(connectionId);
        }
        if ((next == SessionState.READY || next == SessionState.CLOSED) && loginTimer >= 0) {
            Vertx.currentContext().owner().cancelTimer(loginTimer);
            loginTimer = -1;
        }
    }

    // ---- client side ----

    private void onClientMessage(Object message) {
        clientRead.handle(message, clientBytes, toServer);
    }

    private void onClientBytes(Buffer chunk) {
        if (state != SessionState.CLOSED) {
            services.meters().received(chunk.length());
            decodeClient(chunk);
        }
    }

    /** Resumes the client decoder and forwards what it produced. */
    private void resumeClientDecoder() {
        decodeClient(null);
    }

    /** Runs the client decoder on new bytes ({@code chunk}), or resumes it (null), and forwards what it produced. */
    private void decodeClient(Buffer chunk) {
        decodingClient++;
        try {
            if (chunk != null) {
                clientDecoder.feed(chunk, clientFrames);
            } else {
                clientDecoder.resume(clientFrames);
            }
        } catch (RuntimeException e) {
            onDecodeFailure(e);
            return;
        } finally {
            decodingClient--;
            if (decodingClient == 0 && pauseAfterRead) {
                pauseAfterRead = false;
                if (clientHolds > 0) {
                    clientDecoder.pause();
                }
            }
        }
        flushToServer();
        flushToClient();
    }

    private void onDecodeFailure(RuntimeException e) {
        if (e instanceof ProtocolException p) {
            failClient(ErrorFields.fatal(p.sqlState(), p.getMessage()), "protocol_violation");
        } else {
            internalError(e);
        }
    }

    /** Inside the client decoder's loop: a resume (releaseClient) must not run it again from within. */
    private int decodingClient;
    /** A lease wait began inside the decoder's loop: the decoder pauses once that read is decoded. */
    private boolean pauseAfterRead;

    private void onClientFrame(Frame frame) {
        switch (state) {
            case AWAITING_STARTUP -> onStartupPacket(StartupPacket.decode(frame));
            case AUTHENTICATING -> {
                if (frame.type() == PgProtocol.TERMINATE) {
                    closeBoth("client_terminated_during_auth");
                } else if (frame.type() != PgProtocol.PASSWORD_MESSAGE) {
                    throw ProtocolException.violation("expected password response, got message type " + PgProtocol.describeType(frame.type()));
                } else if (pooled != null) {
                    runLoginStep(pooled.authenticate(Buffer.buffer(frame.payload().getBytes()))); // a heap copy: the read is recycled
                } else {
                    queueToServer(frame);
                }
            }
            case READY -> onClientWork(frame);
            case TLS_HANDSHAKE, CONNECTING -> throw new IllegalStateException("decoder must be paused in " + state);
            case CLOSED -> {
            }
        }
    }

    private void onStartupPacket(StartupPacket packet) {
        switch (packet) {
            case StartupPacket.SslRequest ignored -> onSslRequest();
            case StartupPacket.GssEncRequest ignored -> sendToClient(TLS_DECLINED);
            case CancelRequest cancel -> onCancelRequest(cancel);
            case StartupMessage message -> onStartupMessage(message);
        }
    }

    private void onSslRequest() {
        if (services.clientTls() == null) {
            sendToClient(TLS_DECLINED);
            return;
        }
        if (clientDecoder.hasBufferedBytes()) {
            // Anything sent before the handshake would be trusted as if encrypted (CVE-2021-23214).
            throw ProtocolException.violation("received unencrypted data after SSL request");
        }
        transition(SessionState.TLS_HANDSHAKE);
        clientDecoder.pause();
        services.meters().sent(TLS_ACCEPTED.length()); // the upgrade writes it
        services.clientTls().upgrade(client, TLS_ACCEPTED).onComplete(ar -> {
            if (state == SessionState.CLOSED) {
                return;
            }
            if (ar.failed()) {
                log.info("conn={} event=client_tls_failed error=\"{}\"", connectionId, ar.cause());
                closeBoth("tls_handshake_failed");
                return;
            }
            transition(SessionState.AWAITING_STARTUP);
            resumeClientDecoder();
        });
    }

    private void onCancelRequest(CancelRequest cancel) {
        // The protocol sends no reply to a cancel; the connection just closes.
        services.cancels().cancel(cancel.processId(), cancel.secretKey()).filter(t -> t.serverKey() != null).ifPresentOrElse(this::sendCancel,
                () -> log.debug("conn={} event=cancel_not_sent", connectionId));
        transition(SessionState.CLOSED);
        client.end();
    }

    /** Sends a cancel to the server connection {@code target} names, on a connection of its own. */
    private void sendCancel(CancelTarget target) {
        services.upstream().connectPlain().onSuccess(socket -> {
            ChannelWrites.send(socket, new CancelRequest(target.serverKey().processId(), target.serverKey().secretKey()).encode());
            socket.end();
        });
    }

    private void onStartupMessage(StartupMessage message) {
        if (message.user() == null || message.user().isEmpty()) {
            throw new ProtocolException(SqlState.INVALID_AUTHORIZATION_SPECIFICATION, "no PostgreSQL user name specified in startup packet");
        }
        startup = message;
        applicationName = message.parameters().getOrDefault("application_name", "");
        if (services.pool() != null) {
            startPooledLogin(message);
            return;
        }
        openVectorDatabase(message);
        transition(SessionState.CONNECTING);
        connectUpstream(message);
    }

    private void openVectorDatabase(StartupMessage message) {
        if (services.vectors() != null) {
            Future<VectorDatabase> opening;
            try {
                opening = services.vectors().open(message.database());
            } catch (RuntimeException e) {
                opening = Future.failedFuture(e); // vector routing off for this session; the relay goes on
            }
            vectorDatabase = onSessionContext(opening);
        }
    }

    private void connectUpstream(StartupMessage message) {
        clientDecoder.expect(FrameDecoder.Expect.TYPED);
        clientDecoder.pause();
        services.upstream().connect().onComplete(ar -> {
            if (state == SessionState.CLOSED) {
                if (ar.succeeded()) {
                    ar.result().close();
                }
                return;
            }
            if (ar.failed()) {
                String why = ar.cause().getMessage();
                log.warn("conn={} event=upstream_connect_failed server={} error=\"{}\"", connectionId, services.upstream().server(), why);
                failClient(ErrorFields.fatal(SqlState.SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION,
                        "could not connect to upstream server " + services.upstream().server() + ": " + why), "upstream_unreachable");
                return;
            }
            onServerConnected(ar.result(), message);
        });
    }

    // ---- pooled mode: the provider's login, and leases ----

    private void startPooledLogin(StartupMessage message) {
        try {
            pooled = services.pool().admit(message.parameters(), clientAddress());
        } catch (BackendUnavailableException e) {
            failClient(ErrorFields.fatal(e.sqlState(), e.getMessage()), "client_refused");
            return;
        }
        poolMode = pooled.poolMode();
        if (!pooled.console()) {
            openVectorDatabase(message);
        }
        Map<String, String> params = new LinkedHashMap<>(message.parameters());
        params.keySet().removeAll(java.util.Set.of("user", "database", "options", "replication"));
        variables.startupParameters(params);
        link = new PooledServerLink(poolMode != PoolMode.SESSION, pooled.maxPreparedStatements(), variables);
        transition(SessionState.AUTHENTICATING);
        clientDecoder.expect(FrameDecoder.Expect.TYPED);
        runLoginStep(pooled.authenticate(null));
    }

    /** One step of the provider's login; the client is held until it is decided. */
    private void runLoginStep(Future<AuthStep> step) {
        holdClient();
        onSessionContext(step).onComplete(ar -> {
            if (state == SessionState.CLOSED) {
                return;
            }
            if (ar.failed()) {
                failPooled(ar.cause(), "login_failed");
                return;
            }
            switch (ar.result()) {
                case AuthStep.Challenge c -> queueToClient(c.message());
                case AuthStep.Accepted a -> {
                    if (a.finalMessage() != null) {
                        queueToClient(a.finalMessage());
                    }
                    queueToClient(AUTHENTICATION_OK);
                    sendPooledLoginEnd();
                }
                case AuthStep.Rejected r -> {
                    failClient(ErrorFields.fatal(r.sqlState(), r.message()), "authentication_failed");
                    return;
                }
            }
            releaseClient();
        });
    }

    /** After the password: the server's parameters (with the client's own startup values), a cancel key, ReadyForQuery. */
    private void sendPooledLoginEnd() {
        holdClient();
        onSessionContext(pooled.serverParameters()).onComplete(ar -> {
            if (state == SessionState.CLOSED) {
                return;
            }
            if (ar.failed()) {
                failPooled(ar.cause(), "no_server_connection");
                return;
            }
            Map<String, String> shown = new LinkedHashMap<>(ar.result());
            for (Map.Entry<String, String> p : startup.parameters().entrySet()) {
                for (String reported : List.copyOf(shown.keySet())) {
                    if (reported.equalsIgnoreCase(p.getKey()) && !"server_version".equals(reported)) {
                        shown.put(reported, p.getValue());
                    }
                }
            }
            shown.forEach((k, v) -> queueToClient(MessageWriter.typed(PgProtocol.PARAMETER_STATUS, k.length() + v.length() + 2).cstring(k).cstring(v).finish()));
            noServerTarget = new CancelTarget(services.upstream().server(), null);
            cancelKey = services.cancels().register(noServerTarget);
            queueToClient(cancelKey.key().encode());
            queueToClient(TransactionStatus.IDLE.encodeReadyForQuery());
            transition(SessionState.READY);
            if (pooled.console()) {
                console = new AdminConsole(new ConsoleHost(), services.adminCommands(), user());
            }
            armIdleTimer();
            log.info("conn={} event=session_ready user={} database={} client={} pool_mode={}", connectionId, user(), database(), clientAddress(),
                    pooled.console() ? "console" : poolMode.name().toLowerCase(java.util.Locale.ROOT));
            releaseClient();
        });
    }

    /** The provider said no (no server connection, query_wait_timeout, ...): the client gets its SQLSTATE and is closed. */
    private void failPooled(Throwable cause, String reason) {
        String sqlState = cause instanceof BackendUnavailableException b ? b.sqlState() : SqlState.CONNECTION_FAILURE;
        failClient(ErrorFields.fatal(sqlState, cause.getMessage() == null ? cause.toString() : cause.getMessage()), reason);
    }

    /**
     * Work from a pooled client: Terminate never reaches a shared server connection; other
     * work needs a lease, which is waited for with the frame pushed back. Returns true when
     * the frame was handled here.
     */
    private boolean onPooledWork(Frame frame) {
        cancelIdleTimer();
        if (console != null) {
            if (tracker != null) {
                // Console commands are statements the proxy answers itself: the admin route.
                tracker.onClientFrame(frame);
                tracker.routed(io.neurondb.plugin.api.StatementEvent.Route.ADMIN, null);
            }
            console.onFrame(frame);
            return true;
        }
        if (frame.type() == PgProtocol.TERMINATE) {
            closeBoth("client_terminated");
            return true;
        }
        // Without a lease the work goes through the pipeline anyway: the link keeps what it
        // would send, and the flush borrows a server connection only if one is needed.
        return false;
    }

    private boolean acquiring;

    /**
     * What the client sent while no server connection was held: answered by the link alone
     * (PQprepare's Parse and Sync), or sent once a lease is had (the client is held meanwhile).
     */
    private void flushDetached() {
        if (acquiring) {
            return;
        }
        if (link.detachedAnswerable()) {
            for (Buffer reply : link.answerDetached()) {
                onServerWork(new Frame(reply.getByte(0), reply, 0, reply.length()));
            }
            releaseAfterRead = false;
            flushToClient();
            return;
        }
        waitForLease(pooled.acquire());
    }

    /**
     * Before a frame the server must see goes to the link: a free server connection is attached
     * at once, so the frame goes out as read (no copy kept aside, no hold of the client).
     * Otherwise the session waits for one as usual and the frame is kept aside meanwhile.
     * Parse and Sync alone do not borrow: the link may answer them (PQprepare).
     */
    private void leaseBeforeForward(byte type) {
        if (lease != null || acquiring || state != SessionState.READY
                || type == PgProtocol.PARSE || type == PgProtocol.SYNC || type == PgProtocol.FLUSH) {
            return;
        }
        Future<BackendLease> acquired = pooled.acquire();
        if (acquired.succeeded() && Vertx.currentContext() == context) {
            attachLease(acquired.result());
            return;
        }
        waitForLease(acquired);
    }

    /**
     * The client is held until the lease comes; then what was kept aside goes out. The rest of
     * the read being decoded is still taken (the link keeps it aside, in order) and only then
     * is the decoder paused: an extended-protocol batch (Parse, Bind, Describe, Execute, Sync)
     * then reaches the server in one write once the lease comes. Paused at its Bind, the rest
     * went in a second write, and the server's backend slept between the two in about one
     * transaction in six (docs/BENCHMARKS.md, session 11).
     */
    private void waitForLease(Future<BackendLease> acquired) {
        acquiring = true;
        clientHolds++;
        if (decodingClient > 0) {
            pauseAfterRead = true;
        } else {
            clientDecoder.pause();
        }
        acquired.onComplete(ar -> {
            // On this session's event loop the lease is used at once: one another session on
            // this loop just released (at the end of its read). The trip through the task queue
            // cost more than the rest of the hand-over. From another loop, or from inside this
            // session's own decoding loop (a resume must not re-enter it), it waits its turn.
            if (decodingClient == 0 && Vertx.currentContext() == context) {
                onAcquired(ar);
            } else {
                context.runOnContext(v -> onAcquired(ar));
            }
        });
    }

    private void onAcquired(io.vertx.core.AsyncResult<BackendLease> ar) {
        acquiring = false;
        if (state == SessionState.CLOSED) {
            if (ar.succeeded()) {
                ar.result().release(true);
            }
            return;
        }
        if (ar.failed()) {
            failPooled(ar.cause(), "no_server_connection");
            return;
        }
        attachLease(ar.result());
        flushToServer();
        releaseClient();
    }

    private void attachLease(BackendLease l) {
        if (SessionLogLevels.debugEnabled(log, connectionId)) {
            log.debug("conn={} event=lease_attached server_pid={}", connectionId, l.processId());
        }
        lease = l;
        server = l.socket();
        serverDecoder = new FrameDecoder(FrameLimits.backend(), FrameDecoder.Expect.TYPED);
        clientToServer = new FlowControl(client, server);
        serverToClient = new FlowControl(server, client);
        // Until the connection's replies are this session's (at once, unless it was lent behind
        // another client's statement), a cancel would reach someone else's: it is kept.
        cancelKey.hold();
        l.read(new LeaseReads(server));
        Buffer replay = link.attach(l);
        if (replay != null) {
            toServer.add(replay);
        }
        // What the client sent while no connection was held goes out after the settings replay.
        link.sendDetached(framesToServer, bytesToServer);
    }

    /**
     * The reads and the close of one lease's server connection, run on this session's event
     * loop (a pooled connection may live on another). Events of a connection the session no
     * longer holds are dropped.
     */
    private final class LeaseReads implements BackendConnectionProvider.LeaseReader {
        private final NetSocket socket;

        LeaseReads(NetSocket socket) {
            this.socket = socket;
        }

        @Override
        public void onMessage(Object message) {
            onSessionThread(message);
        }

        @Override
        public void onClosed() {
            onSessionThread(null);
        }

        /**
         * The connection's replies are this session's now: its cancels go there from here (not
         * before: while lent behind another client's statement, a cancel would reach that one),
         * and a batch written while it waited may in turn let the pool lend the connection on.
         */
        @Override
        public void onTurn() {
            if (server != socket || state == SessionState.CLOSED) {
                return;
            }
            leaseTurn = true;
            CancelTarget target = new CancelTarget(services.upstream().server(), new BackendKeyData(lease.processId(), lease.secretKey()));
            if (cancelKey.retarget(target)) {
                log.debug("conn={} event=held_cancel_sent", connectionId);
                sendCancel(target);
            }
            if (link.attached()) {
                lendBehindIfDone();
            }
        }

        @Override
        public void onRoomBehind() {
            if (server == socket && state != SessionState.CLOSED && link.attached()) {
                lendBehindIfDone();
            }
        }

        /** A read, or the close when {@code message} is null, moved to the session's loop. */
        private void onSessionThread(Object message) {
            if (Vertx.currentContext() == context) {
                onLeaseEvent(message);
            } else {
                context.runOnContext(v -> onLeaseEvent(message));
            }
        }

        private void onLeaseEvent(Object message) {
            if (server != socket || state == SessionState.CLOSED) {
                io.netty.util.ReferenceCountUtil.release(message);
            } else if (message == null) {
                onServerClosed();
            } else {
                onServerMessage(message);
            }
        }
    }

    /** The lease goes back: the server connection is the pool's again. */
    private void returnLease(boolean reusable) {
        returnLease(reusable, null);
    }

    private void returnLease(boolean reusable, Buffer unread) {
        if (lease != null && SessionLogLevels.debugEnabled(log, connectionId)) {
            log.debug("conn={} event=lease_returned server_pid={} reusable={}", connectionId, lease.processId(), reusable);
        }
        BackendLease l = detachLease();
        if (l != null) {
            l.release(reusable, link.usage.take(), unread);
        }
    }

    /** Lets go of the lease here (the link, the flow controls, the cancel key); null if none is held. */
    private BackendLease detachLease() {
        BackendLease l = lease;
        if (l == null) {
            return null;
        }
        lease = null;
        lentBehind = false;
        leaseTurn = false;
        clientToServer.detach();
        serverToClient.detach();
        clientToServer = null;
        serverToClient = null;
        server = null;
        serverDecoder = null;
        link.detach();
        cancelKey.retarget(noServerTarget);
        return l;
    }

    /** Whether the server connection is between transactions with nothing owed: it can serve another client as is. */
    private boolean leaseClean() {
        return transactionStatus == TransactionStatus.IDLE && link.idle() && (pipeline == null || pipeline.idle());
    }

    /** Ends the pooled side of a closing session: a clean lease goes back, anything else is closed. */
    private void endPooled() {
        if (lease != null && (lentBehind || !leaseTurn) && !leaseClean()) {
            // Another client's work is queued behind this one's on the connection: the pool
            // reads this client's last replies and passes the connection on, rather than close it.
            int owed = link.readyForQueriesOwed();
            Buffer unread = serverDecoder.takeBuffered();
            BackendLease l = detachLease();
            l.abandon(owed, link.usage.take(), unread);
        } else if (lease != null) {
            returnLease(leaseClean());
        }
        cancelIdleTimer();
        pooled.close();
    }

    private long idleTimer = -1;

    /** idle_transaction_timeout inside a transaction, client_idle_timeout outside one. */
    private void armIdleTimer() {
        cancelIdleTimer();
        boolean inTransaction = transactionStatus != TransactionStatus.IDLE;
        java.time.Duration limit = inTransaction ? pooled.idleTransactionTimeout() : pooled.clientIdleTimeout();
        if (limit.isZero() || state != SessionState.READY) {
            return;
        }
        idleTimer = context.owner().setTimer(limit.toMillis(), id -> {
            idleTimer = -1;
            if (inTransaction) {
                failClient(ErrorFields.fatal("25P03", "idle_transaction_timeout (" + limit.toSeconds() + " s): the transaction stayed open without work"), "idle_transaction_timeout");
            } else {
                failClient(ErrorFields.fatal("57P05", "client_idle_timeout (" + limit.toSeconds() + " s): the connection was idle too long"), "client_idle_timeout");
            }
        });
    }

    private void cancelIdleTimer() {
        if (idleTimer >= 0) {
            context.owner().cancelTimer(idleTimer);
            idleTimer = -1;
        }
    }

    /** What the admin console writes through. */
    private final class ConsoleHost implements AdminConsole.Host {
        @Override
        public void toClient(Buffer message) {
            if (tracker != null) {
                tracker.onServerFrame(new Frame(message.getByte(0), message, 0, message.length()));
            }
            queueToClient(message);
        }

        @Override
        public void hold() {
            holdClient();
        }

        @Override
        public void release() {
            releaseClient();
        }

        @Override
        public Vertx vertx() {
            return context.owner();
        }

        @Override
        public void close() {
            closeBoth("console_terminated");
        }
    }

    private static final Buffer AUTHENTICATION_OK = MessageWriter.typed(PgProtocol.AUTHENTICATION, 4).int32(0).finish();

    private void onServerConnected(NetSocket socket, StartupMessage message) {
        server = socket;
        serverDecoder = new FrameDecoder(FrameLimits.backend(), FrameDecoder.Expect.TYPED);
        clientToServer = new FlowControl(client, server);
        serverToClient = new FlowControl(server, client);
        ((NetSocketInternal) server).messageHandler(this::onServerMessage);
        server.closeHandler(v -> onServerClosed());
        server.exceptionHandler(e -> log.debug("conn={} event=server_socket_error error=\"{}\"", connectionId, e.toString()));
        transition(SessionState.AUTHENTICATING);
        ChannelWrites.send(server, message.encode());
        log.debug("conn={} event=server_connected user={} database={}", connectionId, message.user(), message.database());
        resumeClientDecoder();
    }

    private void onClientWork(Frame frame) {
        if (pooled != null && console == null && pipeline == null && !startPipeline()) {
            return;
        }
        if (pooled != null && onPooledWork(frame)) {
            return;
        }
        if (pipeline == null && !startPipeline()) {
            return;
        }
        if (tracker != null) {
            tracker.onClientFrame(frame);
        }
        if (frame.type() == PgProtocol.TERMINATE) {
            queueToServer(frame);
            flushToServer();
            closeBoth("client_terminated");
            return;
        }
        pipeline.onClientFrame(frame);
    }

    /**
     * Starts the pipeline once the database's vector state is known. While it is still being
     * read, the client is held; the frame is decoded again when it is ready.
     */
    private boolean startPipeline() {
        if (vectorDatabase != null && !vectorDatabase.isComplete()) {
            clientDecoder.pushBack();
            holdClient();
            vectorDatabase.onComplete(ar -> releaseClient());
            return false;
        }
        VectorDatabase db = null;
        if (vectorDatabase != null) {
            if (vectorDatabase.succeeded()) {
                db = vectorDatabase.result();
            } else {
                log.warn("conn={} event=vector_routing_off database={} reason=\"{}\"", connectionId, database(), vectorDatabase.cause().getMessage());
            }
        }
        pipeline = new RequestPipeline(new PipelineHost(), services.router(), db, services.meters());
        return true;
    }

    private void holdClient() {
        clientHolds++;
        clientDecoder.pause(); // also when a lease wait left the decoder running to the end of its read
    }

    private void releaseClient() {
        if (state == SessionState.CLOSED) {
            return;
        }
        if (--clientHolds == 0) {
            resumeClientDecoder();
        }
        flushToServer();
        flushToClient();
    }

    /** Futures of shared services complete on their own threads; session state is touched on the session's. */
    private <T> Future<T> onSessionContext(Future<T> f) {
        Promise<T> p = Promise.promise();
        f.onComplete(ar -> context.runOnContext(v -> p.handle(ar)));
        return p.future();
    }

    /** What the pipeline does through the session: the sockets, holds, and the transaction status. */
    private final class PipelineHost implements RequestPipeline.Host {
        @Override
        public void forward(Frame frame) {
            if (log.isTraceEnabled()) {
                log.trace("conn={} event=client_frame type={}", connectionId, (char) frame.type());
            }
            if (link != null) {
                leaseBeforeForward(frame.type());
                link.outgoing(frame, framesToServer, bytesToServer);
            } else {
                queueToServer(frame);
            }
        }

        @Override
        public void forward(Buffer message) {
            if (link == null) {
                toServer.add(message);
                return;
            }
            // Proxy-made bytes may hold several messages: the link looks at each.
            int at = 0;
            while (at < message.length()) {
                int end = at + 1 + message.getInt(at + 1);
                link.outgoing(new Frame(message.getByte(at), message, at, end), framesToServer, bytesToServer);
                at = end;
            }
        }

        @Override
        public void toClient(Frame frame) {
            if (tracker != null) {
                tracker.onServerFrame(frame);
            }
            queueToClient(frame);
        }

        @Override
        public void toClient(Buffer message) {
            if (tracker != null) {
                tracker.onServerFrame(new Frame(message.getByte(0), message, 0, message.length()));
            }
            queueToClient(message);
        }

        @Override
        public void pauseClient() {
            holdClient();
        }

        @Override
        public void resumeClient() {
            releaseClient();
        }

        @Override
        public void flush() {
            flushToServer();
            flushToClient();
        }

        @Override
        public <T> Future<T> onSessionContext(Future<T> f) {
            return ClientSession.this.onSessionContext(f);
        }

        @Override
        public void transactionStatus(TransactionStatus status) {
            transactionStatus = status;
        }

        @Override
        public TransactionStatus transactionStatus() {
            return transactionStatus;
        }

        @Override
        public SessionInfo info() {
            return ClientSession.this;
        }

        @Override
        public Future<io.neurondb.proxy.vectors.VectorDatabases.DropHold> holdForDrop(String database) {
            Future<Void> pooled = services.pool() == null ? Future.succeededFuture()
                    : services.pool().closeIdleConnections(database).recover(t -> Future.succeededFuture());
            return pooled.compose(v -> services.vectors() == null ? Future.succeededFuture(null) : services.vectors().holdForDrop(database));
        }

        @Override
        public ProxyFacts facts() {
            return services.facts();
        }

        @Override
        public PluginFunctions functions() {
            return services.functions();
        }

        @Override
        public <T> Future<T> blocking(java.util.concurrent.Callable<T> work) {
            return ClientSession.this.onSessionContext(context.executeBlocking(work, false));
        }

        @Override
        public void routed(io.neurondb.plugin.api.StatementEvent.Route route, io.neurondb.plugin.api.StatementEvent.VectorSearch vector) {
            if (tracker != null) {
                tracker.routed(route, vector);
            }
        }
    }

    private void queueToServer(Frame frame) {
        toServer.add(frame);
    }

    private void flushToServer() {
        if (link != null && lease == null && link.hasDetached() && state == SessionState.READY) {
            flushDetached();
            return;
        }
        if (toServer.isEmpty() || server == null || state == SessionState.CLOSED) {
            return;
        }
        if (link != null) {
            link.usage.toServer(toServer.length());
        }
        if (mayLendBehind()) {
            // Held back from the socket until the pool has tried to lend the connection on: the
            // next client's work then goes out in the same system call, and PostgreSQL finds it
            // with this statement. Written separately, the backend often ran this statement
            // before the second write came (the proxy's thread preempted by it on two cores) and
            // went to sleep anyway.
            toServer.writeTo(server, clientRead, false);
            NetSocket written = server;
            lendBehind();
            ChannelWrites.flush(written);
        } else {
            toServer.writeTo(server, clientRead);
        }
        // The server reads slower than the client writes (COPY IN): stop reading the client.
        if (clientToServer != null) {
            clientToServer.afterWrite();
        }
    }

    /** Whether what went to the server so far leaves it idle for sure, so the pool may lend the connection on. */
    private boolean mayLendBehind() {
        return !lentBehind && lease != null && link != null && poolMode != PoolMode.SESSION && transactionStatus == TransactionStatus.IDLE
                && link.endsIdle();
    }

    /** Set once the pool lent this session's server connection behind its last statement: the lease goes at that statement's ReadyForQuery. */
    private boolean lentBehind;
    /** The lease's replies are this session's (false while its work waits behind another client's statement). */
    private boolean leaseTurn;

    /**
     * What went to the server ends, for sure, with it idle outside a transaction: the pool may
     * lend the connection to a waiting client now, whose work the server then runs without
     * going idle in between. What this client sends meanwhile waits for its next lease.
     */
    private void lendBehindIfDone() {
        if (mayLendBehind()) {
            lendBehind();
        }
    }

    /** Asks the pool to lend the connection on; the caller checked {@link #mayLendBehind()}. */
    private void lendBehind() {
        if (lease.lendBehind()) {
            lentBehind = true;
            link.holdBack();
        }
    }

    private void onClientClosed() {
        if (state == SessionState.CLOSED) {
            return;
        }
        log.debug("conn={} event=client_closed state={}", connectionId, state);
        boolean wasReady = state == SessionState.READY;
        transition(SessionState.CLOSED);
        services.cancels().unregister(cancelKey);
        if (pooled != null) {
            endPooled();
        } else if (server != null) {
            if (wasReady) {
                // Tell the server we are gone so it ends the backend at once and rolls back.
                ChannelWrites.send(server, TERMINATE);
            }
            server.end();
        }
    }

    // ---- server side ----

    private void onServerMessage(Object message) {
        serverRead.handle(message, serverBytes, toClient);
    }

    private void onServerBytes(Buffer chunk) {
        if (state == SessionState.CLOSED) {
            return;
        }
        if (link != null) {
            link.usage.fromServer(chunk.length());
        }
        try {
            serverDecoder.feed(chunk, serverFrames);
        } catch (ProtocolException e) {
            log.error("conn={} event=server_protocol_violation error=\"{}\"", connectionId, e.getMessage());
            flushToClient();
            failClient(ErrorFields.fatal(SqlState.PROTOCOL_VIOLATION, "invalid data from server: " + e.getMessage()), "server_protocol_violation");
            return;
        } catch (RuntimeException e) {
            internalError(e);
            return;
        }
        if (releaseAfterRead && lentBehind) {
            releaseAfterRead = false;
            // Whatever follows this client's ReadyForQuery in the read is the next holder's reply.
            Buffer unread = serverDecoder.takeBuffered();
            boolean clean = transactionStatus == TransactionStatus.IDLE && link.idle();
            if (!clean) {
                log.error("conn={} event=lent_connection_not_idle status={} link_idle={}", connectionId, transactionStatus, link.idle());
            }
            returnLease(clean, unread);
            flushToClient();
            flushToServer(); // what the client sent meanwhile was kept for a new lease
            return;
        }
        if (releaseAfterRead) {
            releaseAfterRead = false;
            if (lease != null && leaseClean()) {
                // The server connection goes back before the reply is written to the client: the
                // next waiter's query reaches the server one socket write sooner. With many clients
                // queueing for a few connections, the time a server connection sits between
                // transactions bounds the whole pool's throughput.
                returnLease(true);
            } else if (lease != null) {
                log.debug("conn={} event=lease_kept status={} link_idle={} pipeline_idle={}", connectionId, transactionStatus, link.idle(), pipeline == null || pipeline.idle());
            }
        }
        flushToClient();
    }

    private void onServerFrame(Frame frame) {
        if (state == SessionState.AUTHENTICATING) {
            onServerStartupFrame(frame);
        } else {
            onServerWork(frame);
        }
    }

    /** During authentication: relay, and swap the server's cancel key for the proxy's own. */
    private void onServerStartupFrame(Frame frame) {
        switch (frame.type()) {
            case PgProtocol.AUTHENTICATION -> queueAuthenticationRequest(frame);
            case PgProtocol.BACKEND_KEY_DATA -> {
                BackendKeyData serverKey = BackendKeyData.decode(frame);
                cancelKey = services.cancels().register(new CancelTarget(services.upstream().server(), serverKey));
                queueToClient(cancelKey.key().encode());
            }
            case PgProtocol.PARAMETER_STATUS -> {
                noteParameter(frame);
                queueToClient(frame);
            }
            case PgProtocol.READY_FOR_QUERY -> {
                transactionStatus = TransactionStatus.fromReadyForQuery(frame);
                transition(SessionState.READY);
                queueToClient(frame);
                log.info("conn={} event=session_ready user={} database={} client={}", connectionId, user(), database(), clientAddress());
            }
            case PgProtocol.ERROR_RESPONSE -> {
                ErrorFields error = ErrorFields.decode(frame);
                serverReportedFatal = error.isFatal();
                queueToClient(withChannelBindingHint(frame, error));
            }
            default -> queueToClient(frame);
        }
    }

    /**
     * SCRAM-SHA-256-PLUS is never passed on: the client's TLS channel ends at the proxy, so
     * binding to it cannot satisfy the server, and a client without TLS (libpq) treats the
     * offer as a protocol error. Clients then use plain SCRAM-SHA-256.
     */
    private void queueAuthenticationRequest(Frame frame) {
        AuthenticationRequest auth = AuthenticationRequest.decode(frame);
        if (auth.code() != PgProtocol.AUTH_SASL || auth.saslMechanisms().stream().noneMatch(m -> m.endsWith("-PLUS"))) {
            queueToClient(frame);
            return;
        }
        queueToClient(AuthenticationRequest.encodeSasl(
                auth.saslMechanisms().stream().filter(m -> !m.endsWith("-PLUS")).toList()));
    }

    /**
     * SCRAM channel binding ties a login to the TLS channel the client sees, which ends at the
     * proxy, so it cannot succeed when the server is on TLS too: the server either finds the
     * wrong channel (SCRAM-SHA-256-PLUS) or refuses the client's "I could have bound" flag as
     * a downgrade. Relayed unchanged, but with a hint that says what to change.
     */
    private Buffer withChannelBindingHint(Frame frame, ErrorFields error) {
        String message = error.message() == null ? "" : error.message();
        if (!message.contains("channel binding") || error.fields().containsKey(ErrorFields.HINT)) {
            return frame.bytes();
        }
        return error.withHint("NeuronDB proxy relays logins end to end, and SCRAM channel binding cannot cross a proxy "
                + "when both sides use TLS: set channel_binding=disable in the client (channelBinding=disable in pgjdbc), "
                + "or use md5/SCRAM without TLS towards the server (upstream_tls.mode).").encodeError();
    }

    private void onServerWork(Frame frame) {
        if (link != null) {
            Object shown = link.incoming(frame);
            if (log.isTraceEnabled()) {
                log.trace("conn={} event=server_frame type={} shown={}", connectionId, (char) frame.type(), shown != null);
            }
            if (shown == null) {
                return;
            }
            if (shown instanceof Buffer replaced) {
                frame = new Frame(replaced.getByte(0), replaced, 0, replaced.length());
            }
            if (frame.type() == PgProtocol.READY_FOR_QUERY) {
                onPooledReady(TransactionStatus.fromReadyForQuery(frame));
            }
        }
        switch (frame.type()) {
            case PgProtocol.READY_FOR_QUERY -> transactionStatus = TransactionStatus.fromReadyForQuery(frame);
            case PgProtocol.PARAMETER_STATUS -> noteParameter(frame);
            case PgProtocol.ERROR_RESPONSE -> {
                if (ErrorFields.decode(frame).isFatal()) {
                    serverReportedFatal = true;
                }
            }
            case PgProtocol.BACKEND_KEY_DATA -> throw ProtocolException.violation("BackendKeyData after startup");
            default -> {
            }
        }
        if (pipeline != null) {
            pipeline.onServerFrame(frame);
        } else {
            // Nothing asked yet (a notice or parameter change right after login).
            if (tracker != null) {
                tracker.onServerFrame(frame);
            }
            queueToClient(frame);
        }
    }

    /** A ReadyForQuery reached a pooled session: maybe the lease can go back, and the idle clocks start. */
    private void onPooledReady(TransactionStatus status) {
        if (lentBehind) {
            // The next holder's replies may follow in this read: stop here.
            serverDecoder.pause();
            releaseAfterRead = true;
        } else if (poolMode != PoolMode.SESSION && status == TransactionStatus.IDLE) {
            releaseAfterRead = true;
        } else if (status == TransactionStatus.IDLE && lease != null) {
            // Session mode keeps the lease: statistics are reported per transaction instead.
            lease.report(link.usage.take());
        }
        transactionStatus = status;
        armIdleTimer();
    }

    private void noteParameter(Frame frame) {
        MessageReader r = frame.reader();
        String name = r.readCString();
        String value = r.readCString();
        if ("application_name".equals(name)) {
            applicationName = value;
        } else if ("is_superuser".equals(name)) {
            superuser = "on".equals(value);
        }
    }

    private void queueToClient(Frame frame) {
        toClient.add(frame);
    }

    private void queueToClient(Buffer encoded) {
        toClient.add(encoded);
    }

    /** A message written straight to the client, outside a batch; counted like the batches. */
    private void sendToClient(Buffer message) {
        services.meters().sent(message.length());
        ChannelWrites.send(client, message);
    }

    private void flushToClient() {
        if (toClient.isEmpty()) {
            return;
        }
        services.meters().sent(toClient.length());
        toClient.writeTo(client, serverRead);
        if (serverToClient != null) {
            // A slow client: stop reading the server until the client has taken what we hold,
            // so a large result never piles up in the proxy.
            serverToClient.afterWrite();
        }
    }

    private void onServerClosed() {
        if (state == SessionState.CLOSED) {
            return;
        }
        log.info("conn={} event=server_closed state={} fatal_reported={}", connectionId, state, serverReportedFatal);
        flushToClient();
        if (!serverReportedFatal) {
            sendToClient(ErrorFields.fatal(SqlState.CONNECTION_FAILURE, "server closed the connection unexpectedly").encodeError());
        }
        transition(SessionState.CLOSED);
        services.cancels().unregister(cancelKey);
        if (pooled != null) {
            returnLease(false);
            endPooled();
        }
        client.end();
    }

    // ---- ending ----

    private void failClient(ErrorFields error, String reason) {
        log.info("conn={} event=session_failed reason={} sqlstate={} message=\"{}\"", connectionId, reason, error.sqlState(), error.message());
        if (state == SessionState.CLOSED) {
            return;
        }
        toServer.take();
        sendToClient(error.encodeError());
        closeBoth(reason);
    }

    /** A bug of ours: this session ends with XX000 and a stack trace in the log; others go on. */
    private void internalError(RuntimeException e) {
        log.error("conn={} event=internal_error state={}", connectionId, state, e);
        failClient(ErrorFields.fatal(SqlState.INTERNAL_ERROR, "internal error in NeuronDB proxy: " + e), "internal_error");
    }

    private void closeBoth(String reason) {
        if (state == SessionState.CLOSED) {
            return;
        }
        log.debug("conn={} event=closing reason={}", connectionId, reason);
        transition(SessionState.CLOSED);
        services.cancels().unregister(cancelKey);
        client.end();
        if (pooled != null) {
            endPooled();
        } else if (server != null) {
            server.end();
        }
    }

    private static final Buffer TERMINATE = Buffer.buffer(new byte[]{PgProtocol.TERMINATE, 0, 0, 0, 4});


    // ---- SessionInfo ----

    @Override
    public long connectionId() {
        return connectionId;
    }

    @Override
    public String database() {
        return startup == null ? "" : startup.database();
    }

    @Override
    public String user() {
        return startup == null ? "" : startup.user();
    }

    @Override
    public String applicationName() {
        return applicationName;
    }

    @Override
    public boolean superuser() {
        return superuser;
    }

    @Override
    public String clientAddress() {
        // Formatted once: every statement event carries it.
        String a = clientAddress;
        if (a == null) {
            a = clientAddress = client.remoteAddress() == null ? "" : client.remoteAddress().toString();
        }
        return a;
    }
}
