package io.neurondb.pooling;

import io.neurondb.plugin.api.BackendConnectionProvider.AuthStep;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Optional;

/**
 * One client's login against its secret, as {@code auth_type} says: trust, plain (cleartext
 * password), md5, or scram-sha-256. Like PgBouncer, md5 falls back to SCRAM when only a SCRAM
 * secret is known. On success it knows the credentials the server connections use.
 */
final class ClientAuthentication {

    private static final SecureRandom RANDOM = new SecureRandom();

    private enum Step { START, MD5, PLAIN, SCRAM_FIRST, SCRAM_FINAL, DONE }

    private final String user;
    private final String authType;
    private final SecretSource secrets;
    private final PoolingSettings.DatabaseSettings database;
    private Step step = Step.START;
    private Secret secret;
    private byte[] salt;
    private Scram.ServerExchange scram;
    private ServerLogin.Credentials credentials;

    /** Where secrets come from: the auth file, or auth_query through auth_user. */
    interface SecretSource {
        Future<Optional<Secret>> secret(String user);
    }

    ClientAuthentication(String user, String authType, SecretSource secrets, PoolingSettings.DatabaseSettings database) {
        this.user = user;
        this.authType = authType;
        this.secrets = secrets;
        this.database = database;
    }

    /** How server connections of this client's pool log in; known once the login succeeded. */
    ServerLogin.Credentials credentials() {
        return credentials;
    }

    Future<AuthStep> next(Buffer response) {
        try {
            return switch (step) {
                case START -> start();
                case MD5 -> Future.succeededFuture(md5(response));
                case PLAIN -> Future.succeededFuture(plain(response));
                case SCRAM_FIRST -> Future.succeededFuture(scramFirst(response));
                case SCRAM_FINAL -> Future.succeededFuture(scramFinal(response));
                case DONE -> Future.succeededFuture(new AuthStep.Rejected("08P01", "unexpected authentication message"));
            };
        } catch (RuntimeException e) {
            step = Step.DONE;
            return Future.succeededFuture(new AuthStep.Rejected("08P01", "invalid authentication message: " + e.getMessage()));
        }
    }

    private Future<AuthStep> start() {
        return secrets.secret(user).map(found -> {
            secret = found.orElse(null);
            if (authType.equals("trust")) {
                step = Step.DONE;
                return accept(null);
            }
            if (secret == null) {
                step = Step.DONE;
                return failed();
            }
            if (authType.equals("plain")) {
                step = Step.PLAIN;
                return new AuthStep.Challenge(PgWire.authentication(PgWire.AUTH_CLEARTEXT, null));
            }
            if (authType.equals("md5") && !(secret instanceof Secret.Scram)) {
                step = Step.MD5;
                salt = new byte[4];
                RANDOM.nextBytes(salt);
                return new AuthStep.Challenge(PgWire.authentication(PgWire.AUTH_MD5, Buffer.buffer(salt)));
            }
            Secret.Scram verifier = switch (secret) {
                case Secret.Scram s -> s;
                case Secret.Plain p -> Scram.verifierFor(p.password());
                case Secret.Md5 m -> null;
            };
            if (verifier == null) {
                // An md5 hash cannot check a SCRAM proof.
                step = Step.DONE;
                return new AuthStep.Rejected("28000", "password authentication for user \"" + user
                        + "\" needs scram-sha-256, and only an md5 secret is known");
            }
            scram = new Scram.ServerExchange(verifier);
            step = Step.SCRAM_FIRST;
            Buffer mechs = PgWire.cstring(Buffer.buffer(), Scram.MECHANISM).appendByte((byte) 0);
            return new AuthStep.Challenge(PgWire.authentication(PgWire.AUTH_SASL, mechs));
        });
    }

    private AuthStep md5(Buffer response) {
        step = Step.DONE;
        String sent = cstring(response);
        String hash = secret instanceof Secret.Md5 m ? m.hash() : Secret.md5Of(((Secret.Plain) secret).password(), user);
        String expected = Secret.md5Response(hash, salt);
        return equal(sent, expected) ? accept(null) : failed();
    }

    private AuthStep plain(Buffer response) {
        step = Step.DONE;
        String sent = cstring(response);
        boolean ok = switch (secret) {
            case Secret.Plain p -> equal(sent, p.password());
            case Secret.Md5 m -> equal(Secret.md5Of(sent, user), m.hash());
            case Secret.Scram s -> MessageDigest.isEqual(Scram.sha256(Scram.keys(sent, s.salt(), s.iterations()).clientKey()), s.storedKey());
        };
        return ok ? accept(sent) : failed();
    }

    private AuthStep scramFirst(Buffer response) {
        int[] next = new int[1];
        String mechanism = PgWire.cstringAt(response, 0, next);
        if (!Scram.MECHANISM.equals(mechanism)) {
            step = Step.DONE;
            return new AuthStep.Rejected("28000", "SASL mechanism " + mechanism + " is not supported (use SCRAM-SHA-256)");
        }
        int len = response.getInt(next[0]);
        String data = response.getString(next[0] + 4, next[0] + 4 + len, StandardCharsets.UTF_8.name());
        String serverFirst = scram.clientFirst(data);
        step = Step.SCRAM_FINAL;
        return new AuthStep.Challenge(PgWire.authentication(PgWire.AUTH_SASL_CONTINUE, Buffer.buffer(serverFirst)));
    }

    private AuthStep scramFinal(Buffer response) {
        step = Step.DONE;
        String serverFinal = scram.clientFinal(response.toString(StandardCharsets.UTF_8));
        if (serverFinal == null) {
            return failed();
        }
        return accept(null, PgWire.authentication(PgWire.AUTH_SASL_FINAL, Buffer.buffer(serverFinal)));
    }

    private AuthStep accept(String typedPassword) {
        return accept(typedPassword, null);
    }

    private AuthStep accept(String typedPassword, Buffer finalMessage) {
        credentials = serverCredentials(typedPassword);
        return new AuthStep.Accepted(finalMessage);
    }

    /** The configured database login wins; else the client's own secret (or what it proved). */
    private ServerLogin.Credentials serverCredentials(String typedPassword) {
        if (database != null && database.user() != null) {
            return new ServerLogin.Credentials(database.user(), database.password(), null, null, null);
        }
        if (database != null && database.password() != null) {
            return new ServerLogin.Credentials(user, database.password(), null, null, null);
        }
        if (typedPassword != null) {
            return new ServerLogin.Credentials(user, typedPassword, null, null, null);
        }
        return switch (secret) {
            case Secret.Plain p -> new ServerLogin.Credentials(user, p.password(), null, null, null);
            case Secret.Md5 m -> new ServerLogin.Credentials(user, null, m.hash(), null, null);
            case Secret.Scram s -> scram != null && scram.clientKey() != null
                    ? new ServerLogin.Credentials(user, null, null, scram.clientKey(), s.serverKey())
                    : new ServerLogin.Credentials(user, null, null, null, null);
            case null -> new ServerLogin.Credentials(user, null, null, null, null);
        };
    }

    private AuthStep failed() {
        return new AuthStep.Rejected("28P01", "password authentication failed for user \"" + user + "\"");
    }

    private static String cstring(Buffer b) {
        int end = 0;
        while (end < b.length() && b.getByte(end) != 0) {
            end++;
        }
        return b.getString(0, end, StandardCharsets.UTF_8.name());
    }

    private static boolean equal(String a, String b) {
        return MessageDigest.isEqual(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }
}
