package io.neurondb.proxy.session;

import io.neurondb.plugin.api.BackendConnectionProvider.BackendLease;
import io.neurondb.proxy.protocol.Frame;
import io.neurondb.proxy.protocol.MessageReader;
import io.neurondb.proxy.protocol.MessageWriter;
import io.neurondb.proxy.protocol.PgProtocol;
import io.neurondb.proxy.protocol.TransactionStatus;
import io.vertx.core.buffer.Buffer;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * What a pooled session adds between its pipeline and a borrowed server connection: statement
 * names and settings that must survive a change of server connection.
 *
 * <p><b>Prepared statements</b> (transaction mode): a client's named statement is prepared on
 * the server under a name derived from its text and parameter types ({@code ndb_<hash>}), so
 * clients share them, and each server connection keeps an LRU of the names it has
 * ({@code max_prepared_statements}). A Bind or Describe of a statement the current server
 * connection lacks is preceded by a Parse whose ParseComplete the client never sees; a Parse
 * the server already has goes out as a Close of a name that never exists, whose CloseComplete
 * is shown to the client as ParseComplete; that keeps every reply in its place without the
 * session having to count replies. Errors void what was owed up to the next Sync, as on the
 * server.
 *
 * <p><b>Settings</b>: on every new lease the session's {@link SessionVariables} are compared with
 * what that server connection has, and the difference is sent first as one simple query whose
 * replies are dropped.
 */
final class PooledServerLink {

    /** Lease attachment read by the pooling plugin's SHOW SERVERS: names prepared on that server connection. */
    static final String PREPARED = "prepared-statements";
    private static final String NEVER_EXISTS = "ndb_noop";

    private enum Owed { PARSE_SHOWN, PARSE_HIDDEN, PARSE_AS_CLOSE, CLOSE_SHOWN, CLOSE_HIDDEN, SYNC_SHOWN, SYNC_HIDDEN }

    /** One reply-producing message sent to the server; {@code name} is a statement this link added to the LRU. */
    private record Entry(Owed owed, String name) {
    }

    /** The entries without a statement name, made once: one is owed for nearly every message. */
    private static final Map<Owed, Entry> UNNAMED = new java.util.EnumMap<>(Owed.class);

    static {
        for (Owed o : Owed.values()) {
            UNNAMED.put(o, new Entry(o, null));
        }
    }

    private static Entry unnamed(Owed owed) {
        return UNNAMED.get(owed);
    }

    /** A client statement: its server name, the Parse that creates it there, and whether it may be lent behind ({@link #endsIdle}). */
    private record ClientStatement(String serverName, Buffer serverParse, boolean autocommit) {
    }

    private final boolean renameStatements;
    private final int maxPrepared;
    private final SessionVariables variables;
    private final Map<String, ClientStatement> statements = new HashMap<>();
    private final ArrayDeque<Entry> owed = new ArrayDeque<>();
    private boolean sentSinceSync;
    private boolean errorInTransaction;
    private boolean rolledBack;
    private LinkedHashMap<String, Boolean> prepared;
    private AppliedSettings applied;
    /**
     * What was sent since the server was last known idle (the lease attached, or a
     * ReadyForQuery 'I' with nothing more owed): whether all of it is one autocommit statement
     * and how many Syncs or Queries it has. See {@link #endsIdle}.
     */
    private boolean autocommitSinceIdle;
    private int syncsSinceIdle;
    /** The unnamed statement parsed since the server was idle is one autocommit statement. */
    private boolean unnamedAutocommit;
    /** The server connection was lent behind what was sent: what the client sends next waits for a new lease. */
    private boolean heldBack;
    /** What the client does on its server connections, for the provider's SHOW STATS. */
    final LeaseUsageCounter usage = new LeaseUsageCounter();
    /** Messages the client sent while the session holds no server connection, in order: copies, kept as frames so nothing is decoded twice. */
    private final java.util.List<Frame> detached = new java.util.ArrayList<>();

    PooledServerLink(boolean renameStatements, int maxPrepared, SessionVariables variables) {
        this.renameStatements = renameStatements && maxPrepared > 0;
        this.maxPrepared = maxPrepared;
        this.variables = variables;
    }

    /** What the link keeps on a server connection: the lease's {@link BackendLease#hostState()}. */
    private static final class ServerState {
        /** Names prepared on the connection, least recently used first. */
        final LinkedHashMap<String, Boolean> prepared = new LinkedHashMap<>(16, 0.75f, true);
        /** The session settings the connection has (see {@link SessionVariables#replayFor}). */
        final AppliedSettings applied = new AppliedSettings();
    }

    /** A new lease: returns the replay query to send first (replies dropped), or null. */
    Buffer attach(BackendLease lease) {
        ServerState state = (ServerState) lease.hostState();
        if (state == null) {
            state = new ServerState();
            lease.hostState(state);
            lease.attachments().put(PREPARED, state.prepared); // what SHOW SERVERS counts
        }
        prepared = state.prepared;
        applied = state.applied;
        owed.clear();
        sentSinceSync = false;
        serverIdle();
        heldBack = false;
        String replay = variables.replayFor(applied);
        if (replay == null) {
            return null;
        }
        owed.add(unnamed(Owed.SYNC_HIDDEN));
        return MessageWriter.typed(PgProtocol.QUERY, replay.length() + 8).cstring(replay).finish();
    }

    void detach() {
        usage.detached();
        prepared = null;
        applied = null;
        owed.clear();
        heldBack = false;
    }

    private void serverIdle() {
        autocommitSinceIdle = true;
        syncsSinceIdle = 0;
        unnamedAutocommit = false;
    }

    /**
     * Whether what was sent since the server was last idle is one autocommit statement and its
     * Sync (or one simple Query), and nothing after: the server will certainly be idle outside
     * a transaction once it has answered, whatever the answer. The session may then let the
     * pool lend the connection behind it ({@link io.neurondb.plugin.api.BackendConnectionProvider.BackendLease#lendBehind}).
     */
    boolean endsIdle() {
        return prepared != null && !heldBack && autocommitSinceIdle && syncsSinceIdle == 1 && !sentSinceSync;
    }

    /** ReadyForQuery messages the server still owes (shown or not). */
    int readyForQueriesOwed() {
        int n = 0;
        for (Entry e : owed) {
            if (e.owed() == Owed.SYNC_SHOWN || e.owed() == Owed.SYNC_HIDDEN) {
                n++;
            }
        }
        return n;
    }

    /** The connection was lent behind the last batch: whatever the client sends now is kept for its next lease. */
    void holdBack() {
        heldBack = true;
    }

    /** Tracks {@link #endsIdle} for a message going to the server. */
    private void noteForLending(Frame f, byte type) {
        if (!autocommitSinceIdle) {
            return;
        }
        switch (type) {
            case PgProtocol.QUERY -> {
                syncsSinceIdle++;
                autocommitSinceIdle = AutocommitStatements.isOne(f.source(), f.start() + PgProtocol.TYPED_HEADER_LENGTH, f.end() - 1);
            }
            case PgProtocol.SYNC -> syncsSinceIdle++;
            case PgProtocol.PARSE -> {
                // A named Parse changes what the connection has prepared, which whoever is lent
                // behind would count on before the server has said whether it worked.
                boolean unnamed = f.bodyByte(0) == 0;
                unnamedAutocommit = unnamed && AutocommitStatements.isOne(f.source(), f.start() + PgProtocol.TYPED_HEADER_LENGTH + 1, f.end());
                autocommitSinceIdle = unnamedAutocommit;
            }
            case PgProtocol.DESCRIBE, PgProtocol.EXECUTE, PgProtocol.FLUSH -> {
            }
            default -> autocommitSinceIdle = false; // Bind is judged in bind(); Close, FunctionCall, COPY data: no
        }
    }

    /** Nothing is owed by the server and nothing was sent since the last Sync: the lease may go back. */
    boolean idle() {
        return owed.isEmpty() && !sentSinceSync;
    }

    // ---- client to server ----

    boolean attached() {
        return prepared != null;
    }

    boolean hasDetached() {
        return !detached.isEmpty();
    }

    /**
     * Whether what the client sent without a server connection can be answered by the proxy
     * alone: named Parses (prepared on a server connection when first bound) and Syncs. That is
     * libpq's PQprepare, which a client outside a transaction must not wait in the pool for.
     */
    boolean detachedAnswerable() {
        if (!renameStatements) {
            return false;
        }
        for (Frame f : detached) {
            byte type = f.type();
            if (type == PgProtocol.SYNC) {
                continue;
            }
            if (type != PgProtocol.PARSE || f.bodyByte(0) == 0) {
                return false;
            }
        }
        return true;
    }

    /** Answers the detached batch alone: records the statements and returns the replies, in order. */
    java.util.List<Buffer> answerDetached() {
        java.util.List<Buffer> replies = new java.util.ArrayList<>();
        for (Frame f : detached) {
            if (f.type() == PgProtocol.PARSE) {
                MessageReader r = f.reader();
                String name = r.readCString();
                String sql = r.readCString();
                variables.sawSql(sql);
                Buffer rest = rest(f, r);
                String serverName = serverName(sql, rest);
                statements.put(name, new ClientStatement(serverName, MessageWriter.typed(PgProtocol.PARSE, sql.length() + rest.length() + 48)
                        .cstring(serverName).cstring(sql).bytes(rest).finish(), AutocommitStatements.isOne(sql)));
                replies.add(PARSE_COMPLETE.copy());
            } else {
                replies.add(TransactionStatus.IDLE.encodeReadyForQuery());
            }
        }
        detached.clear();
        return replies;
    }

    /** After attaching: the detached batch goes to the server, through the usual renaming. */
    void sendDetached(Consumer<Frame> frames, Consumer<Buffer> bytes) {
        if (detached.isEmpty()) {
            return; // the usual case: the lease was attached before the first frame
        }
        // Attached now, so outgoing() sends and never adds to the list while it is walked.
        for (int i = 0, n = detached.size(); i < n; i++) {
            outgoing(detached.get(i), frames, bytes);
        }
        detached.clear();
    }

    /** Sends {@code f} (or what replaces it) through {@code frames}/{@code bytes}; kept aside while no server connection is held. */
    void outgoing(Frame f, Consumer<Frame> frames, Consumer<Buffer> bytes) {
        if (prepared == null || heldBack) {
            detached.add(f.copy());
            return;
        }
        byte type = f.type();
        if (type != PgProtocol.BIND) {
            noteForLending(f, type);
        }
        switch (type) {
            case PgProtocol.SYNC, PgProtocol.FUNCTION_CALL -> {
                owed.add(unnamed(Owed.SYNC_SHOWN));
                sentSinceSync = false;
                frames.accept(f);
            }
            case PgProtocol.QUERY -> {
                usage.querySent();
                owed.add(unnamed(Owed.SYNC_SHOWN));
                sentSinceSync = false;
                if (mayBeSetOrListen(f)) {
                    String sql = f.reader().readCString();
                    variables.sawSql(sql);
                    if (renameStatements && isListen(sql)) {
                        bytes.accept(MessageWriter.typed(PgProtocol.QUERY, LISTEN_REFUSAL.length() + 1).cstring(LISTEN_REFUSAL).finish());
                        return;
                    }
                }
                frames.accept(f);
            }
            case PgProtocol.PARSE -> {
                sentSinceSync = true;
                parse(f, bytes, frames);
            }
            case PgProtocol.BIND -> {
                sentSinceSync = true;
                bind(f, frames, bytes);
            }
            case PgProtocol.DESCRIBE, PgProtocol.CLOSE -> {
                sentSinceSync = true;
                target(f, frames, bytes);
            }
            case PgProtocol.EXECUTE -> {
                sentSinceSync = true;
                usage.querySent();
                frames.accept(f);
            }
            default -> frames.accept(f);
        }
    }

    private void parse(Frame f, Consumer<Buffer> bytes, Consumer<Frame> frames) {
        MessageReader r = f.reader();
        String name = r.readCString();
        String sql = r.readCString();
        variables.sawSql(sql);
        if (renameStatements && isListen(sql)) {
            owed.add(unnamed(Owed.PARSE_SHOWN));
            Buffer rest = rest(f, r);
            bytes.accept(MessageWriter.typed(PgProtocol.PARSE, LISTEN_REFUSAL.length() + rest.length() + name.length() + 2)
                    .cstring(name).cstring(LISTEN_REFUSAL).bytes(rest).finish());
            return;
        }
        if (!renameStatements || name.isEmpty()) {
            owed.add(unnamed(Owed.PARSE_SHOWN));
            frames.accept(f);
            return;
        }
        Buffer rest = rest(f, r);
        String serverName = serverName(sql, rest);
        Buffer serverParse = MessageWriter.typed(PgProtocol.PARSE, sql.length() + rest.length() + 48)
                .cstring(serverName).cstring(sql).bytes(rest).finish();
        statements.put(name, new ClientStatement(serverName, serverParse, AutocommitStatements.isOne(sql)));
        if (prepared.containsKey(serverName)) {
            prepared.get(serverName); // touch: most recently used
            owed.add(unnamed(Owed.PARSE_AS_CLOSE));
            bytes.accept(close((byte) 'S', NEVER_EXISTS));
            return;
        }
        prepareOnServer(serverName, serverParse, Owed.PARSE_SHOWN, bytes);
    }

    /** Sends the Parse of {@code serverName}, closing the least recently used statement first if the LRU is full. */
    private void prepareOnServer(String serverName, Buffer serverParse, Owed kind, Consumer<Buffer> bytes) {
        autocommitSinceIdle = false; // the connection's statements change before the server confirms
        if (prepared.size() >= maxPrepared) {
            String evicted = prepared.keySet().iterator().next();
            prepared.remove(evicted);
            owed.add(unnamed(Owed.CLOSE_HIDDEN));
            bytes.accept(close((byte) 'S', evicted));
        }
        prepared.put(serverName, Boolean.TRUE);
        owed.add(new Entry(kind, serverName));
        bytes.accept(serverParse.copy());
    }

    private void bind(Frame f, Consumer<Frame> frames, Consumer<Buffer> bytes) {
        MessageReader r = f.reader();
        String portal = r.readCString();
        String name = r.readCString();
        ClientStatement s = renameStatements && !name.isEmpty() ? statements.get(name) : null;
        if (s == null) {
            autocommitSinceIdle &= name.isEmpty() && unnamedAutocommit;
            frames.accept(f);
            return;
        }
        autocommitSinceIdle &= s.autocommit() && prepared.containsKey(s.serverName());
        ensurePrepared(s, bytes);
        Buffer rest = rest(f, r);
        bytes.accept(MessageWriter.typed(PgProtocol.BIND, rest.length() + portal.length() + s.serverName().length() + 2)
                .cstring(portal).cstring(s.serverName()).bytes(rest).finish());
    }

    private void target(Frame f, Consumer<Frame> frames, Consumer<Buffer> bytes) {
        MessageReader r = f.reader();
        byte kind = r.readByte();
        String name = r.readCString();
        boolean close = f.type() == PgProtocol.CLOSE;
        ClientStatement s = renameStatements && kind == 'S' && !name.isEmpty() ? statements.get(name) : null;
        if (s == null) {
            if (close) {
                owed.add(unnamed(Owed.CLOSE_SHOWN));
            }
            frames.accept(f);
            return;
        }
        if (close) {
            // The server's copy stays for other clients; this client just forgets the name.
            statements.remove(name);
            owed.add(unnamed(Owed.CLOSE_SHOWN));
            bytes.accept(close((byte) 'S', NEVER_EXISTS));
            return;
        }
        ensurePrepared(s, bytes);
        bytes.accept(MessageWriter.typed(PgProtocol.DESCRIBE, s.serverName().length() + 2).int8('S').cstring(s.serverName()).finish());
    }

    private void ensurePrepared(ClientStatement s, Consumer<Buffer> bytes) {
        if (prepared.get(s.serverName()) == null) {
            prepareOnServer(s.serverName(), s.serverParse(), Owed.PARSE_HIDDEN, bytes);
        }
    }

    // ---- server to client ----

    /** What to do with a server frame: null to drop it, else the frame or a replacement to show. */
    Object incoming(Frame f) {
        Object shown = route(f);
        if (shown != null) {
            byte type = shown instanceof Buffer b ? b.getByte(0) : f.type();
            usage.shown(type, type == PgProtocol.READY_FOR_QUERY ? f.bodyByte(0) : 0);
        }
        return shown;
    }

    private Object route(Frame f) {
        Entry head = owed.peek();
        switch (f.type()) {
            case PgProtocol.PARSE_COMPLETE -> {
                Entry e = pollUntilSync();
                return e != null && e.owed() == Owed.PARSE_HIDDEN ? null : f;
            }
            case PgProtocol.CLOSE_COMPLETE -> {
                Entry e = pollUntilSync();
                if (e != null && e.owed() == Owed.PARSE_AS_CLOSE) {
                    return PARSE_COMPLETE.copy();
                }
                return e != null && e.owed() == Owed.CLOSE_HIDDEN ? null : f;
            }
            case PgProtocol.ERROR_RESPONSE -> {
                if (head != null && head.owed() == Owed.SYNC_HIDDEN) {
                    return null;
                }
                errorInTransaction = true;
                // The server skips everything up to the next Sync: so is what it owed.
                while (!owed.isEmpty() && owed.peek().owed() != Owed.SYNC_SHOWN && owed.peek().owed() != Owed.SYNC_HIDDEN) {
                    Entry e = owed.poll();
                    if (e.name() != null && prepared != null) {
                        prepared.remove(e.name());
                    }
                }
                return f;
            }
            case PgProtocol.READY_FOR_QUERY -> {
                Entry e = owed.poll();
                while (e != null && e.owed() != Owed.SYNC_SHOWN && e.owed() != Owed.SYNC_HIDDEN) {
                    e = owed.poll();
                }
                if (e != null && e.owed() == Owed.SYNC_HIDDEN) {
                    return null;
                }
                TransactionStatus status = TransactionStatus.fromReadyForQuery(f);
                if (status == TransactionStatus.IDLE && owed.isEmpty() && !sentSinceSync) {
                    serverIdle();
                }
                if (status == TransactionStatus.IDLE) {
                    variables.transactionEnded(!errorInTransaction && !rolledBack, applied == null ? new AppliedSettings() : applied);
                    errorInTransaction = false;
                    rolledBack = false;
                }
                return f;
            }
            case PgProtocol.COMMAND_COMPLETE -> {
                if (head != null && head.owed() == Owed.SYNC_HIDDEN) {
                    return null;
                }
                noteCommand(f);
                return f;
            }
            case PgProtocol.PARAMETER_STATUS, PgProtocol.NOTICE_RESPONSE -> {
                return f;
            }
            default -> {
                return head != null && head.owed() == Owed.SYNC_HIDDEN ? null : f;
            }
        }
    }

    private Entry pollUntilSync() {
        Entry e = owed.peek();
        if (e == null || e.owed() == Owed.SYNC_SHOWN || e.owed() == Owed.SYNC_HIDDEN) {
            return null;
        }
        return owed.poll();
    }

    private void noteCommand(Frame f) {
        byte first = f.bodyByte(0);
        if (first != 'R' && first != 'D') {
            return; // not ROLLBACK, DISCARD or DEALLOCATE: most tags need not be decoded
        }
        String tag = f.reader().readCString();
        if (tag.equals("ROLLBACK")) {
            rolledBack = true;
        } else if (tag.equals("DISCARD ALL") || tag.equals("DEALLOCATE ALL")) {
            if (prepared != null) {
                prepared.clear();
            }
            if (tag.equals("DISCARD ALL") && applied != null) {
                applied.values.clear();
                applied.changed();
            }
        }
    }

    /**
     * LISTEN cannot work when the next transaction may run on another server connection: the
     * notifications would go to whoever holds this one. The statement is replaced by one that
     * fails on the server with a clear error, so the error lands in its place in the replies.
     */
    private static final String LISTEN_REFUSAL = "DO $ndb$BEGIN RAISE EXCEPTION USING ERRCODE = '0A000', "
            + "MESSAGE = 'LISTEN is not supported in transaction pooling mode', "
            + "HINT = 'Use a session-mode pool (pool_mode: session) for clients that LISTEN.'; END$ndb$";

    /**
     * Whether a Query's text is worth decoding for {@link SessionVariables#sawSql} and
     * {@link #isListen}: it starts with SET, RESET or LISTEN (case ignored; after ASCII blanks,
     * or with anything non-ASCII first), or text follows a {@code ;}. Most queries are neither,
     * and decoding every text again (the pipeline already did) showed in the pooled profile.
     * Read as bytes: a {@code ;} byte is never part of a multi-byte UTF-8 character.
     */
    static boolean mayBeSetOrListen(Frame query) {
        Buffer b = query.source();
        int body = query.start() + PgProtocol.TYPED_HEADER_LENGTH;
        int end = query.end() - 1; // the text's terminating zero
        int i = body;
        while (i < end && isAsciiBlank(b.getByte(i))) {
            i++;
        }
        if (i < end && (b.getByte(i) < 0 || startsWithIgnoreCase(b, i, end, "set") || startsWithIgnoreCase(b, i, end, "reset")
                || startsWithIgnoreCase(b, i, end, "listen"))) {
            return true;
        }
        int semicolon = query.bodyIndexOf(i - body, (byte) ';');
        if (semicolon < 0) {
            return false;
        }
        for (int j = body + semicolon + 1; j < end; j++) {
            if (!isAsciiBlank(b.getByte(j))) {
                return true;
            }
        }
        return false;
    }

    private static boolean isAsciiBlank(byte c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0x0B;
    }

    private static boolean startsWithIgnoreCase(Buffer b, int at, int end, String word) {
        if (end - at < word.length()) {
            return false;
        }
        for (int k = 0; k < word.length(); k++) {
            if (Character.toLowerCase((char) b.getByte(at + k)) != word.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    private static boolean isListen(String sql) {
        String s = sql.stripLeading();
        return s.regionMatches(true, 0, "listen", 0, 6) && (s.length() == 6 || !Character.isLetterOrDigit(s.charAt(6)));
    }

    /** What is left of a message after what {@code r} has read. */
    private static Buffer rest(Frame f, MessageReader r) {
        Buffer payload = f.payload();
        return payload.getBuffer(payload.length() - r.remaining(), payload.length());
    }

    private static final Buffer PARSE_COMPLETE = Buffer.buffer(new byte[]{PgProtocol.PARSE_COMPLETE, 0, 0, 0, 4});

    private static Buffer close(byte kind, String name) {
        return MessageWriter.typed(PgProtocol.CLOSE, name.length() + 2).int8(kind).cstring(name).finish();
    }

    /** {@code ndb_} and a hash of the text and parameter types: equal statements share one server name. */
    private static String serverName(String sql, Buffer types) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            d.update(sql.getBytes(StandardCharsets.UTF_8));
            d.update(types.getBytes());
            return "ndb_" + HexFormat.of().formatHex(d.digest(), 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
