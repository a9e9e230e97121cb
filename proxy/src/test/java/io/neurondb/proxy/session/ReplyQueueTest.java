package io.neurondb.proxy.session;

import io.neurondb.proxy.protocol.BackendMessages;
import io.neurondb.proxy.protocol.ErrorFields;
import io.neurondb.proxy.protocol.Frame;
import io.neurondb.proxy.protocol.TransactionStatus;
import io.neurondb.proxy.route.VectorCatalog;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The reply order the client sees: server replies, hidden ones dropped, the proxy's answers in their place. */
class ReplyQueueTest {

    /** Records what reaches the client as a string of type bytes. */
    private static class Client implements ReplyQueue.Output {
        final StringBuilder seen = new StringBuilder();
        final List<TransactionStatus> ready = new ArrayList<>();
        Promise<Void> hold;
        int released;

        @Override
        public void toClient(Frame frame) {
            seen.append((char) frame.type());
        }

        @Override
        public void toClient(Buffer message) {
            seen.append((char) message.getByte(0));
        }

        @Override
        public Future<Void> onReady(TransactionStatus status, boolean errorSeen) {
            ready.add(status);
            return hold == null ? null : hold.future();
        }

        @Override
        public void readyReleased() {
            released++;
        }

        @Override
        public Buffer replaceError(ErrorFields serverError, PendingReply head) {
            return head != null && head.replaceError != null ? head.replaceError : null;
        }

        @Override
        public void onCommandComplete(String tag) {
        }
    }

    private final Client client = new Client();
    private final ReplyQueue queue = new ReplyQueue(client, () -> VectorCatalog.EMPTY);

    private static Frame frame(Buffer message) {
        return new Frame(message.getByte(0), message, 0, message.length());
    }

    private void server(Buffer... messages) {
        for (Buffer m : messages) {
            queue.onServerFrame(frame(m));
        }
    }

    private static Buffer dataRow() {
        return BackendMessages.dataRow(new Buffer[]{Buffer.buffer("1")});
    }

    private static Buffer ready() {
        return TransactionStatus.IDLE.encodeReadyForQuery();
    }

    private static Buffer error() {
        return ErrorFields.error("22012", "division by zero").encodeError();
    }

    @Test
    void localAnswersComeInTheirPlaceBetweenServerReplies() {
        queue.add(PendingReply.of(PendingReply.Kind.PARSE));
        queue.add(PendingReply.local(() -> List.of(BackendMessages.bindComplete())));
        queue.add(PendingReply.of(PendingReply.Kind.EXECUTE));
        queue.add(PendingReply.of(PendingReply.Kind.SYNC));
        assertThat(client.seen).isEmpty(); // the local BindComplete waits for the ParseComplete
        server(BackendMessages.parseComplete());
        assertThat(client.seen.toString()).isEqualTo("12");
        server(dataRow(), BackendMessages.commandComplete("SELECT 1"), ready());
        assertThat(client.seen.toString()).isEqualTo("12DCZ");
        assertThat(client.ready).containsExactly(TransactionStatus.IDLE);
    }

    @Test
    void hiddenRepliesOfInjectedStatementsNeverReachTheClientButErrorsDo() {
        queue.add(PendingReply.hidden(PendingReply.Kind.PARSE));
        queue.add(PendingReply.hidden(PendingReply.Kind.BIND));
        queue.add(PendingReply.hidden(PendingReply.Kind.EXECUTE));
        queue.add(PendingReply.tagOnly("CREATE INDEX"));
        queue.add(PendingReply.of(PendingReply.Kind.SYNC));
        server(BackendMessages.parseComplete(), BackendMessages.bindComplete(), dataRow(), BackendMessages.commandComplete("SELECT 1"));
        assertThat(client.seen).isEmpty();
        server(dataRow(), BackendMessages.commandComplete("SELECT 1"), ready());
        assertThat(client.seen.toString()).isEqualTo("CZ"); // only the tag, replaced
    }

    @Test
    void anErrorSkipsToSyncAndTheProxysOwnAnswersInBetweenAreNeverGiven() {
        queue.add(PendingReply.of(PendingReply.Kind.PARSE));
        queue.add(PendingReply.of(PendingReply.Kind.BIND));
        queue.add(PendingReply.of(PendingReply.Kind.EXECUTE));
        queue.add(PendingReply.local(() -> List.of(BackendMessages.parseComplete())));
        queue.add(PendingReply.of(PendingReply.Kind.EXECUTE));
        queue.add(PendingReply.of(PendingReply.Kind.SYNC));
        server(BackendMessages.parseComplete(), error(), ready());
        assertThat(client.seen.toString()).isEqualTo("1EZ");
    }

    @Test
    void whatTheClientSendsAfterAnErrorBeforeItsSyncIsDropped() {
        queue.add(PendingReply.of(PendingReply.Kind.EXECUTE));
        server(error());
        assertThat(queue.batchFailed()).isTrue();
        queue.add(PendingReply.local(() -> List.of(BackendMessages.bindComplete())));
        queue.add(PendingReply.of(PendingReply.Kind.SYNC));
        server(ready());
        assertThat(client.seen.toString()).isEqualTo("EZ");
        assertThat(queue.batchFailed()).isFalse();
    }

    @Test
    void anErrorRaisedOnPurposeIsShownAsTheProxysOwn() {
        PendingReply fail = PendingReply.hidden(PendingReply.Kind.EXECUTE);
        Buffer ours = ErrorFields.error("22000", "expected 3 dimensions, not 2").encodeError();
        fail.replaceError = ours;
        List<Buffer> shown = new ArrayList<>();
        ReplyQueue capturing = new ReplyQueue(new Client() {
            @Override
            public void toClient(Buffer message) {
                shown.add(message);
            }
        }, () -> VectorCatalog.EMPTY);
        capturing.add(fail);
        capturing.add(PendingReply.of(PendingReply.Kind.SYNC));
        capturing.onServerFrame(frame(ErrorFields.error("P0001", "statement refused by the NeuronDB proxy").encodeError()));
        assertThat(shown).containsExactly(ours);
    }

    @Test
    void aReadyForQueryCanBeHeldUntilTheCatalogIsReRead() {
        client.hold = Promise.promise();
        queue.add(PendingReply.of(PendingReply.Kind.EXECUTE));
        queue.add(PendingReply.of(PendingReply.Kind.SYNC));
        server(BackendMessages.commandComplete("CREATE TABLE"), ready());
        assertThat(client.seen.toString()).isEqualTo("C");
        client.hold.complete();
        assertThat(client.seen.toString()).isEqualTo("CZ");
        assertThat(client.released).isEqualTo(1);
    }

    @Test
    void aSimpleQueryKeepsItsEffectsOnlyWhenNothingFailed() {
        List<String> applied = new ArrayList<>();
        PendingReply q = PendingReply.of(PendingReply.Kind.QUERY);
        q.onSuccess = () -> applied.add("ok");
        q.onFailure = () -> applied.add("failed");
        queue.add(q);
        server(BackendMessages.commandComplete("INSERT 0 1"), error(), ready());
        PendingReply again = PendingReply.of(PendingReply.Kind.QUERY);
        again.onSuccess = () -> applied.add("ok");
        queue.add(again);
        server(BackendMessages.commandComplete("INSERT 0 1"), ready());
        assertThat(applied).containsExactly("failed", "ok");
    }

    @Test
    void aReplyNobodyAskedForIsAnErrorNotASilentMismatch() {
        queue.add(PendingReply.of(PendingReply.Kind.BIND));
        assertThatThrownBy(() -> server(BackendMessages.parseComplete()))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("expected");
    }
}
