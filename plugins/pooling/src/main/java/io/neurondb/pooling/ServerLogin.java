package io.neurondb.pooling;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.ClientSSLOptions;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Opens and logs in one server connection: TCP, TLS as the foundation's {@code upstream_tls}
 * says, StartupMessage, then cleartext, md5 or SCRAM-SHA-256 with the configured credentials,
 * up to the first ReadyForQuery.
 */
final class ServerLogin {

    /** Who the server connection logs in as: a password, an md5 hash, or SCRAM keys proven by the client. */
    record Credentials(String user, String password, String md5Hash, byte[] clientKey, byte[] serverKey) {
        @Override
        public String toString() {
            return "Credentials[user=" + user + "]";
        }
    }

    /** What a finished login yields. */
    record LoggedIn(NetSocket socket, Context context, Map<String, String> parameters, int processId, int secretKey) {
    }

    private final NetClient client;
    private final String host;
    private final int port;
    private final String tlsMode;
    private final ClientSSLOptions ssl;
    private final long timeoutMillis;

    ServerLogin(NetClient client, String host, int port, String tlsMode, ClientSSLOptions ssl, long timeoutMillis) {
        this.client = client;
        this.host = host;
        this.port = port;
        this.tlsMode = tlsMode == null ? "disable" : tlsMode;
        this.ssl = ssl;
        this.timeoutMillis = timeoutMillis;
    }

    Future<LoggedIn> login(Vertx vertx, String database, Credentials credentials) {
        Promise<LoggedIn> result = Promise.promise();
        Context context = vertx.getOrCreateContext();
        long timer = timeoutMillis > 0 ? vertx.setTimer(timeoutMillis, id -> result.tryFail(
                "server_connect_timeout (" + timeoutMillis / 1000.0 + " s) expired logging in to " + host + ":" + port)) : -1;
        client.connect(port, host).compose(this::maybeTls).onComplete(ar -> {
            if (ar.failed()) {
                result.tryFail(ar.cause());
                return;
            }
            NetSocket socket = ar.result();
            new Exchange(socket, context, credentials, result).start(database);
        });
        return result.future().andThen(ar -> {
            if (timer >= 0) {
                vertx.cancelTimer(timer);
            }
        }).recover(e -> Future.failedFuture(e instanceof IllegalStateException ? e : new IllegalStateException(e.getMessage(), e)));
    }

    private Future<NetSocket> maybeTls(NetSocket socket) {
        if (tlsMode.equals("disable")) {
            return Future.succeededFuture(socket);
        }
        Promise<NetSocket> p = Promise.promise();
        socket.handler(reply -> {
            socket.handler(null);
            byte answer = reply.getByte(0);
            if (answer == 'S' && reply.length() == 1) {
                socket.upgradeToSsl(ssl, host).onComplete(ar -> {
                    if (ar.succeeded()) {
                        p.complete(socket);
                    } else {
                        socket.close();
                        p.fail("TLS handshake with server failed: " + ar.cause().getMessage());
                    }
                });
            } else if (answer == 'N' && tlsMode.equals("prefer")) {
                p.complete(socket);
            } else {
                socket.close();
                p.fail("server refused TLS, but upstream_tls.mode is " + tlsMode);
            }
        });
        socket.write(Buffer.buffer().appendInt(8).appendInt(80877103));
        return p.future();
    }

    /** The login conversation on one socket. */
    private final class Exchange {
        private final NetSocket socket;
        private final Context context;
        private final Credentials credentials;
        private final Promise<LoggedIn> result;
        private final PgWire.Splitter splitter = new PgWire.Splitter();
        private final Map<String, String> parameters = new LinkedHashMap<>();
        private Scram.ClientExchange scram;
        private int processId;
        private int secretKey;

        Exchange(NetSocket socket, Context context, Credentials credentials, Promise<LoggedIn> result) {
            this.socket = socket;
            this.context = context;
            this.credentials = credentials;
            this.result = result;
        }

        void start(String database) {
            socket.handler(chunk -> {
                try {
                    splitter.feed(chunk, this::onMessage);
                } catch (RuntimeException e) {
                    fail(e.getMessage());
                }
            });
            socket.closeHandler(v -> result.tryFail("server closed the connection during login"));
            socket.exceptionHandler(e -> fail(e.getMessage()));
            Map<String, String> startup = new LinkedHashMap<>();
            startup.put("user", credentials.user());
            startup.put("database", database);
            startup.put("application_name", "neurondb-pool");
            socket.write(PgWire.startup(startup));
        }

        private void onMessage(PgWire.Message m) {
            if (result.future().isComplete()) {
                return;
            }
            switch (m.type()) {
                case PgWire.AUTHENTICATION -> onAuthentication(m);
                case PgWire.PARAMETER_STATUS -> {
                    int[] next = new int[1];
                    String name = PgWire.cstringAt(m.body(), 0, next);
                    String value = PgWire.cstringAt(m.body(), next[0], next);
                    parameters.put(name, value);
                }
                case PgWire.BACKEND_KEY_DATA -> {
                    processId = m.int32(0);
                    secretKey = m.int32(4);
                }
                case PgWire.ERROR_RESPONSE -> {
                    String[] e = PgWire.errorFields(m.body());
                    fail("server refused the login of " + credentials.user() + ": " + e[1] + " (SQLSTATE " + e[0] + ")");
                }
                case PgWire.READY_FOR_QUERY -> {
                    socket.handler(null);
                    socket.closeHandler(null);
                    result.tryComplete(new LoggedIn(socket, context, Map.copyOf(parameters), processId, secretKey));
                }
                default -> {
                }
            }
        }

        private void onAuthentication(PgWire.Message m) {
            int code = m.int32(0);
            switch (code) {
                case PgWire.AUTH_OK -> {
                }
                case PgWire.AUTH_CLEARTEXT -> {
                    if (credentials.password() == null) {
                        fail("server asks for a cleartext password for " + credentials.user() + " and none is configured");
                    } else {
                        socket.write(PgWire.passwordMessage(credentials.password()));
                    }
                }
                case PgWire.AUTH_MD5 -> {
                    byte[] salt = m.body().getBytes(4, 8);
                    String hash = credentials.md5Hash() != null ? credentials.md5Hash()
                            : credentials.password() != null ? Secret.md5Of(credentials.password(), credentials.user()) : null;
                    if (hash == null) {
                        fail("server asks for md5 for " + credentials.user() + " and no password or md5 secret is configured");
                    } else {
                        socket.write(PgWire.passwordMessage(Secret.md5Response(hash, salt)));
                    }
                }
                case PgWire.AUTH_SASL -> {
                    if (credentials.password() == null && credentials.clientKey() == null) {
                        fail("server asks for SCRAM for " + credentials.user() + " and no password is configured"
                                + " (an md5 secret cannot answer SCRAM; a SCRAM secret only after the client logged in with SCRAM)");
                        return;
                    }
                    scram = new Scram.ClientExchange(credentials.password(), credentials.clientKey(), credentials.serverKey());
                    socket.write(PgWire.saslInitialResponse(Scram.MECHANISM, scram.clientFirst()));
                }
                case PgWire.AUTH_SASL_CONTINUE -> socket.write(PgWire.saslResponse(scram.clientFinal(
                        m.body().getString(4, m.body().length(), StandardCharsets.UTF_8.name()))));
                case PgWire.AUTH_SASL_FINAL -> {
                    if (!scram.serverFinalValid(m.body().getString(4, m.body().length(), StandardCharsets.UTF_8.name()))) {
                        fail("server's SCRAM signature is wrong: not the server we expected");
                    }
                }
                default -> fail("server asks for an authentication method the pooler does not support (code " + code + ")");
            }
        }

        private void fail(String why) {
            if (result.tryFail(new IllegalStateException(why))) {
                socket.close();
            }
        }
    }
}
