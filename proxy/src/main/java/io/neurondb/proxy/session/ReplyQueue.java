package io.neurondb.proxy.session;

import io.neurondb.proxy.protocol.BackendMessages;
import io.neurondb.proxy.protocol.CommandTag;
import io.neurondb.proxy.protocol.ErrorFields;
import io.neurondb.proxy.protocol.Frame;
import io.neurondb.proxy.protocol.PgProtocol;
import io.neurondb.proxy.protocol.ProtocolException;
import io.neurondb.proxy.protocol.TransactionStatus;
import io.neurondb.proxy.route.VectorCatalog;
import io.vertx.core.buffer.Buffer;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.function.Supplier;

/**
 * Matches the server's replies to what the client is owed, in order, and interleaves the
 * proxy's own answers at their place. The protocol answers requests in the order they were
 * sent, so a FIFO is enough. After an error in the extended protocol the server skips
 * everything up to the next Sync; the queue drops what is owed up to that point too,
 * including answers of the proxy's own that a correct server would never have given.
 */
final class ReplyQueue {

    /** Where the client-bound messages go, and what the session learns from the replies. */
    interface Output {
        void toClient(Frame frame);

        void toClient(Buffer message);

        /**
         * A ReadyForQuery arrived: the transaction status and whether an error happened since
         * the last one. A non-null future holds the ReadyForQuery back from the client until
         * it completes (the catalog is being re-read after DDL), then {@link #readyReleased()}.
         */
        io.vertx.core.Future<Void> onReady(TransactionStatus status, boolean errorSeen);

        /** A held-back ReadyForQuery was given to the client. */
        void readyReleased();

        /** The error to show instead of the server's, or null to show the server's. */
        Buffer replaceError(ErrorFields serverError, PendingReply head);

        /** A CommandComplete passed, with the server's own tag (only tags starting with R are reported). */
        void onCommandComplete(String tag);
    }

    private final ArrayDeque<PendingReply> queue = new ArrayDeque<>();
    private final Output out;
    private final Supplier<VectorCatalog> catalog;
    /** An error ended the current batch and its Sync has not been sent yet. */
    private boolean failedAwaitingSync;
    private boolean errorSinceReady;
    /** Shape of the simple query result being relayed. */
    private ResultColumns simpleResult;

    ReplyQueue(Output out, Supplier<VectorCatalog> catalog) {
        this.out = out;
        this.catalog = catalog;
    }

    boolean isEmpty() {
        return queue.isEmpty();
    }

    /** Whether an error already ended the batch the client is still sending (answers up to its Sync are void). */
    boolean batchFailed() {
        return failedAwaitingSync;
    }

    void add(PendingReply reply) {
        if (reply.syncPoint && reply.kind != PendingReply.Kind.QUERY && reply.kind != PendingReply.Kind.FUNCTION_CALL) {
            failedAwaitingSync = false;
        } else if (failedAwaitingSync && !reply.syncPoint) {
            // The server skips this; so must we (and a local answer is never given).
            if (reply.onFailure != null) {
                reply.onFailure.run();
            }
            return;
        }
        queue.add(reply);
        drainLocal();
    }

    // ---- server replies ----

    void onServerFrame(Frame f) {
        switch (f.type()) {
            case PgProtocol.NOTICE_RESPONSE, PgProtocol.NOTIFICATION_RESPONSE, PgProtocol.PARAMETER_STATUS -> out.toClient(f);
            case PgProtocol.PARSE_COMPLETE -> complete(f, PendingReply.Kind.PARSE);
            case PgProtocol.BIND_COMPLETE -> complete(f, PendingReply.Kind.BIND);
            case PgProtocol.CLOSE_COMPLETE -> complete(f, PendingReply.Kind.CLOSE);
            case PgProtocol.NO_DATA -> {
                PendingReply head = expect(f, PendingReply.Kind.DESCRIBE);
                queue.poll();
                if (head.visibility == PendingReply.Visibility.SHOWN) {
                    out.toClient(f);
                }
                drainLocal();
            }
            case PgProtocol.PARAMETER_DESCRIPTION -> onParameterDescription(f);
            case PgProtocol.ROW_DESCRIPTION -> onRowDescription(f);
            case PgProtocol.DATA_ROW -> onDataRow(f);
            case PgProtocol.COMMAND_COMPLETE -> onCommandComplete(f);
            case PgProtocol.EMPTY_QUERY_RESPONSE, PgProtocol.PORTAL_SUSPENDED -> onResultEnd(f);
            case PgProtocol.ERROR_RESPONSE -> onError(f);
            case PgProtocol.READY_FOR_QUERY -> onReadyForQuery(f);
            default -> {
                // COPY traffic and FunctionCallResponse belong to the request at the head.
                PendingReply head = queue.peek();
                if (head == null || head.rowsShown()) {
                    out.toClient(f);
                }
            }
        }
    }

    private PendingReply expect(Frame f, PendingReply.Kind kind) {
        PendingReply head = queue.peek();
        if (head == null || head.kind != kind) {
            throw new IllegalStateException("server sent " + PgProtocol.describeType(f.type()) + " while the session expected "
                    + (head == null ? "nothing" : head) + " (queue " + Arrays.toString(queue.toArray()) + ")");
        }
        return head;
    }

    private void complete(Frame f, PendingReply.Kind kind) {
        PendingReply head = expect(f, kind);
        queue.poll();
        if (!head.hidden()) {
            out.toClient(f);
        }
        succeed(head);
        drainLocal();
    }

    private void onParameterDescription(Frame f) {
        PendingReply head = expect(f, PendingReply.Kind.DESCRIBE);
        if (head.visibility != PendingReply.Visibility.SHOWN) {
            return;
        }
        if (head.visibleParams >= 0) {
            int[] types = BackendMessages.decodeParameterDescription(f);
            int[] shown = Arrays.copyOf(types, Math.min(types.length, head.visibleParams));
            if (head.vectorParams != null) {
                for (int n = head.vectorParams.nextSetBit(1); n >= 1 && n <= shown.length; n = head.vectorParams.nextSetBit(n + 1)) {
                    shown[n - 1] = BackendMessages.TEXT_OID;
                }
            }
            out.toClient(BackendMessages.parameterDescription(shown));
            return;
        }
        out.toClient(f);
    }

    private void onRowDescription(Frame f) {
        PendingReply head = queue.peek();
        if (head == null) {
            throw new IllegalStateException("server sent RowDescription while the session expected nothing");
        }
        ResultColumns target;
        if (head.kind == PendingReply.Kind.DESCRIBE) {
            target = head.results;
        } else if (head.kind == PendingReply.Kind.QUERY) {
            target = simpleResult = new ResultColumns(false);
        } else {
            throw new IllegalStateException("server sent RowDescription while the session expected " + head);
        }
        Buffer shown = target == null ? null : target.onRowDescription(f, catalog.get());
        if (head.kind == PendingReply.Kind.DESCRIBE) {
            queue.poll();
        }
        if (!head.hidden()) {
            if (shown != null) {
                out.toClient(shown);
            } else {
                out.toClient(f);
            }
        }
        if (head.kind == PendingReply.Kind.DESCRIBE) {
            drainLocal();
        }
    }

    private void onDataRow(Frame f) {
        PendingReply head = queue.peek();
        if (head == null) {
            throw ProtocolException.violation("DataRow outside a query");
        }
        if (head.rowSink != null) {
            head.rowSink.accept(BackendMessages.decodeDataRow(f));
            return;
        }
        if (!head.rowsShown()) {
            return;
        }
        ResultColumns shape = head.kind == PendingReply.Kind.QUERY ? simpleResult : head.results;
        Buffer converted = shape == null ? null : shape.onDataRow(f);
        if (converted != null) {
            out.toClient(converted);
        } else {
            out.toClient(f);
        }
    }

    private void onCommandComplete(Frame f) {
        PendingReply head = queue.peek();
        if (head == null) {
            throw new IllegalStateException("server sent CommandComplete while the session expected nothing");
        }
        if (f.bodyByte(0) == 'R') {
            // Only ROLLBACK matters to the session; no tag string is made for every other command.
            out.onCommandComplete(CommandTag.decode(f).text());
        }
        if (head.kind == PendingReply.Kind.QUERY) {
            simpleResult = null;
            out.toClient(f);
            return;
        }
        expect(f, PendingReply.Kind.EXECUTE);
        queue.poll();
        if (!head.hidden()) {
            if (head.tag != null) {
                out.toClient(BackendMessages.commandComplete(head.tag));
            } else {
                out.toClient(f); // as a frame: adjacent frames still leave as one slice of the read
            }
        }
        succeed(head);
        drainLocal();
    }

    private void onResultEnd(Frame f) {
        PendingReply head = queue.peek();
        if (head != null && head.kind == PendingReply.Kind.QUERY) {
            out.toClient(f);
            return;
        }
        head = expect(f, PendingReply.Kind.EXECUTE);
        queue.poll();
        if (!head.hidden()) {
            out.toClient(f);
        }
        succeed(head);
        drainLocal();
    }

    private void onError(Frame f) {
        errorSinceReady = true;
        PendingReply head = queue.peek();
        Buffer replacement = out.replaceError(ErrorFields.decode(f), head);
        if (replacement != null) {
            out.toClient(replacement);
        } else {
            out.toClient(f);
        }
        if (head == null) {
            return; // a FATAL error outside any request (the server is going away)
        }
        if (head.kind == PendingReply.Kind.QUERY || head.kind == PendingReply.Kind.FUNCTION_CALL) {
            simpleResult = null;
            return; // ReadyForQuery still ends it
        }
        skipToSync();
    }

    /** Drops what is owed up to the next sync point: neither the server nor the proxy answers it now. */
    private void skipToSync() {
        while (!queue.isEmpty() && !queue.peek().syncPoint) {
            PendingReply skipped = queue.poll();
            if (skipped.onFailure != null) {
                skipped.onFailure.run();
            }
        }
        if (queue.isEmpty()) {
            failedAwaitingSync = true;
        }
        drainLocal();
    }

    private void onReadyForQuery(Frame f) {
        PendingReply head = queue.peek();
        if (head == null || !head.syncPoint || head.kind == PendingReply.Kind.LOCAL) {
            throw new IllegalStateException("server sent ReadyForQuery while the session expected " + (head == null ? "nothing" : head));
        }
        queue.poll();
        TransactionStatus status = TransactionStatus.fromReadyForQuery(f);
        boolean error = errorSinceReady;
        errorSinceReady = false;
        simpleResult = null;
        if (head.kind == PendingReply.Kind.QUERY) {
            // A simple query is one implicit transaction: its effects hold only if nothing failed.
            if (error) {
                if (head.onFailure != null) {
                    head.onFailure.run();
                }
            } else {
                succeed(head);
            }
        }
        io.vertx.core.Future<Void> hold = out.onReady(status, error);
        if (hold == null) {
            if (!head.hidden()) {
                out.toClient(f);
            }
        } else {
            // A heap copy: the read it lies in is recycled when this returns (and a copy of that
            // pooled memory would itself be pooled, owed a release nobody would make).
            Buffer held = Buffer.buffer(f.length()).appendBuffer(f.source(), f.start(), f.length());
            hold.onComplete(ar -> {
                out.toClient(held);
                out.readyReleased();
            });
        }
        drainLocal();
    }

    private static void succeed(PendingReply p) {
        if (p.onSuccess != null) {
            p.onSuccess.run();
        }
    }

    /** Gives the proxy's own answers that are now at the head, in order. */
    private void drainLocal() {
        while (!queue.isEmpty() && queue.peek().kind == PendingReply.Kind.LOCAL) {
            PendingReply p = queue.poll();
            for (Buffer message : p.local.get()) {
                out.toClient(message);
            }
            if (p.syncPoint) {
                errorSinceReady = false;
            }
            succeed(p);
        }
    }
}
