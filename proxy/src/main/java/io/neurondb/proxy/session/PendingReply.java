package io.neurondb.proxy.session;

import io.vertx.core.buffer.Buffer;

import java.util.List;
import java.util.function.Supplier;

/**
 * One thing the client is owed, in the order it asked: the server's reply to a message the
 * proxy forwarded (or injected), or an answer the proxy gives itself.
 */
final class PendingReply {

    enum Kind {
        PARSE, BIND, DESCRIBE, EXECUTE, CLOSE, SYNC, QUERY, FUNCTION_CALL,
        /** The proxy's own answer: {@link #local} produces it when its turn comes. */
        LOCAL
    }

    /** Which of the server's replies the client sees. Errors and notices are always shown. */
    enum Visibility {
        SHOWN,
        /** Injected by the proxy: the client never asked. */
        HIDDEN,
        /** A Describe standing in for a simple Query's: RowDescription shown, NoData hidden. */
        ROWS_ONLY,
        /** A statement of the proxy's own standing in for the client's: only its completion (with {@link #tag}) is shown. */
        TAG_ONLY
    }

    final Kind kind;
    final Visibility visibility;
    /** A ReadyForQuery ends it: where skipping after an error stops. */
    final boolean syncPoint;

    /** Describe of a rewritten statement: report only the client's own parameters. */
    int visibleParams = -1;
    /** Describe of a statement with vector parameters (1-based bits): shown to the client as text, as pgvector's type is to drivers that do not know it. */
    java.util.BitSet vectorParams;
    /** Where a Describe's row shape is kept, and how an Execute's rows are converted. */
    ResultColumns results;
    /** CommandComplete tag shown instead of the server's. */
    String tag;
    /** The error the client sees if this (injected, failing on purpose) statement fails. */
    Buffer replaceError;
    /** Receives the rows of a hidden query of the proxy's own. */
    java.util.function.Consumer<Buffer[]> rowSink;
    /** Applied when the reply completes without error. */
    Runnable onSuccess;
    /** Applied when an error ends the reply, or skips it. */
    Runnable onFailure;
    /** LOCAL: the messages of the answer, made when its turn comes (later settings apply). */
    Supplier<List<Buffer>> local;

    private PendingReply(Kind kind, Visibility visibility, boolean syncPoint) {
        this.kind = kind;
        this.visibility = visibility;
        this.syncPoint = syncPoint;
    }

    static PendingReply of(Kind kind) {
        return new PendingReply(kind, Visibility.SHOWN, kind == Kind.SYNC || kind == Kind.QUERY || kind == Kind.FUNCTION_CALL);
    }

    static PendingReply hidden(Kind kind) {
        return new PendingReply(kind, Visibility.HIDDEN, kind == Kind.SYNC);
    }

    static PendingReply tagOnly(String tag) {
        PendingReply p = new PendingReply(Kind.EXECUTE, Visibility.TAG_ONLY, false);
        p.tag = tag;
        return p;
    }

    static PendingReply rowsOnly() {
        return new PendingReply(Kind.DESCRIBE, Visibility.ROWS_ONLY, false);
    }

    static PendingReply local(Supplier<List<Buffer>> answer) {
        PendingReply p = new PendingReply(Kind.LOCAL, Visibility.SHOWN, false);
        p.local = answer;
        return p;
    }

    /** A ReadyForQuery the proxy gives for a batch it answered entirely itself. */
    static PendingReply localSync(Supplier<List<Buffer>> readyForQuery) {
        PendingReply p = new PendingReply(Kind.LOCAL, Visibility.SHOWN, true);
        p.local = readyForQuery;
        return p;
    }

    boolean hidden() {
        return visibility == Visibility.HIDDEN;
    }

    /** Whether rows (and COPY data) of this reply reach the client. */
    boolean rowsShown() {
        return visibility == Visibility.SHOWN || visibility == Visibility.ROWS_ONLY;
    }

    @Override
    public String toString() {
        return kind + (visibility == Visibility.SHOWN ? "" : "/" + visibility);
    }
}
