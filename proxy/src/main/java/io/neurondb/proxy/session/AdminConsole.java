package io.neurondb.proxy.session;

import io.neurondb.plugin.api.AdminCommand;
import io.neurondb.plugin.api.SqlFunctionException;
import io.neurondb.plugin.api.TextResult;
import io.neurondb.proxy.protocol.BackendMessages;
import io.neurondb.proxy.protocol.ErrorFields;
import io.neurondb.proxy.protocol.Frame;
import io.neurondb.proxy.protocol.FrontendMessages;
import io.neurondb.proxy.protocol.PgProtocol;
import io.neurondb.proxy.protocol.TransactionStatus;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The admin console (database {@code neurondb} or {@code pgbouncer} with a pooling provider):
 * each simple query is one command, answered by the {@link AdminCommand} whose prefix its
 * leading words match, on a worker thread, with text columns. As in PgBouncer, only the
 * simple query protocol is spoken.
 */
final class AdminConsole {

    /** What the console needs of its session. */
    interface Host {
        void toClient(Buffer message);

        /** Holds reading the client while a command runs. */
        void hold();

        /** Lets the client be read again and flushes what was queued. */
        void release();

        Vertx vertx();

        void close();
    }

    private final Host host;
    private final List<AdminCommand> commands;
    private final String user;

    AdminConsole(Host host, List<AdminCommand> commands, String user) {
        this.host = host;
        this.commands = commands;
        this.user = user;
    }

    void onFrame(Frame f) {
        switch (f.type()) {
            case PgProtocol.TERMINATE -> host.close();
            case PgProtocol.QUERY -> run(FrontendMessages.query(f).sql());
            case PgProtocol.SYNC -> host.toClient(TransactionStatus.IDLE.encodeReadyForQuery());
            case PgProtocol.FLUSH -> {
            }
            default -> host.toClient(ErrorFields.error("08P01", "the admin console speaks only the simple query protocol").encodeError());
        }
    }

    private void run(String sql) {
        String text = normalize(sql);
        if (text.isEmpty()) {
            host.toClient(BackendMessages.emptyQuery());
            host.toClient(TransactionStatus.IDLE.encodeReadyForQuery());
            return;
        }
        AdminCommand command = match(text);
        if (command == null) {
            host.toClient(ErrorFields.error("42601", "unknown admin console command: " + text).encodeError());
            host.toClient(TransactionStatus.IDLE.encodeReadyForQuery());
            return;
        }
        host.hold();
        host.vertx().<TextResult>executeBlocking(() -> command.execute(text, user), false).onComplete(ar -> {
            if (ar.succeeded()) {
                write(ar.result());
            } else {
                Throwable e = ar.cause();
                String state = e instanceof SqlFunctionException s ? s.sqlState() : "XX000";
                host.toClient(ErrorFields.error(state, e.getMessage() == null ? e.toString() : e.getMessage()).encodeError());
            }
            host.toClient(TransactionStatus.IDLE.encodeReadyForQuery());
            host.release();
        });
    }

    private void write(TextResult result) {
        if (!result.columns().isEmpty()) {
            List<BackendMessages.Field> fields = new ArrayList<>();
            for (String c : result.columns()) {
                fields.add(BackendMessages.Field.computed(c, BackendMessages.TEXT_OID, (short) -1));
            }
            host.toClient(BackendMessages.rowDescription(fields));
            for (List<String> row : result.rows()) {
                Buffer[] values = new Buffer[row.size()];
                for (int i = 0; i < values.length; i++) {
                    values[i] = row.get(i) == null ? null : Buffer.buffer(row.get(i));
                }
                host.toClient(BackendMessages.dataRow(values));
            }
        }
        host.toClient(BackendMessages.commandComplete(result.commandTag()));
    }

    /** The longest prefix wins ("SHOW POOLS" over "SHOW"). */
    private AdminCommand match(String text) {
        String upper = text.toUpperCase(Locale.ROOT);
        AdminCommand best = null;
        for (AdminCommand c : commands) {
            String prefix = normalize(c.prefix()).toUpperCase(Locale.ROOT);
            boolean matches = upper.equals(prefix) || upper.startsWith(prefix + " ");
            if (matches && (best == null || prefix.length() > best.prefix().length())) {
                best = c;
            }
        }
        return best;
    }

    /** Whitespace collapsed, trailing semicolons dropped. */
    static String normalize(String sql) {
        String s = sql.strip();
        while (s.endsWith(";")) {
            s = s.substring(0, s.length() - 1).strip();
        }
        return s.replaceAll("\\s+", " ");
    }
}
