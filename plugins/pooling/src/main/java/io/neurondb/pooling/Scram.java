package io.neurondb.pooling;

import javax.crypto.Mac;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;

/**
 * SCRAM-SHA-256 (RFC 5802, RFC 7677) arithmetic for both sides of a login: the proxy checks
 * clients against stored keys, and logs in to the server with a password or a client key.
 * Channel binding is not offered (the client's TLS ends at the proxy).
 */
final class Scram {

    static final String MECHANISM = "SCRAM-SHA-256";
    static final int DEFAULT_ITERATIONS = 4096;
    private static final SecureRandom RANDOM = new SecureRandom();

    private Scram() {
    }

    /** The keys a password gives with this salt and iteration count. */
    record Keys(byte[] clientKey, byte[] storedKey, byte[] serverKey) {
    }

    /**
     * Derived keys by password, salt and iterations: PBKDF2 costs milliseconds of CPU on the
     * event loop, and the same few passwords and salts come back for every login.
     */
    private static final java.util.concurrent.ConcurrentHashMap<String, Keys> KEYS = new java.util.concurrent.ConcurrentHashMap<>();
    /** One verifier per plain-text password, so a client's login costs no PBKDF2 after the first. */
    private static final java.util.concurrent.ConcurrentHashMap<String, Secret.Scram> VERIFIERS = new java.util.concurrent.ConcurrentHashMap<>();

    static Keys keys(String password, byte[] salt, int iterations) {
        String key = Base64.getEncoder().encodeToString(sha256((password + "\u0000" + iterations + "\u0000"
                + Base64.getEncoder().encodeToString(salt)).getBytes(StandardCharsets.UTF_8)));
        if (KEYS.size() > 10_000) {
            KEYS.clear();
        }
        return KEYS.computeIfAbsent(key, k -> derive(password, salt, iterations));
    }

    private static Keys derive(String password, byte[] salt, int iterations) {
        byte[] salted = hi(password, salt, iterations);
        byte[] clientKey = hmac(salted, "Client Key");
        return new Keys(clientKey, sha256(clientKey), hmac(salted, "Server Key"));
    }

    /** A verifier for a plain-text password, as PostgreSQL would store it. */
    static Secret.Scram verifierFor(String password) {
        String key = Base64.getEncoder().encodeToString(sha256(password.getBytes(StandardCharsets.UTF_8)));
        if (VERIFIERS.size() > 10_000) {
            VERIFIERS.clear();
        }
        return VERIFIERS.computeIfAbsent(key, k -> newVerifier(password));
    }

    private static Secret.Scram newVerifier(String password) {
        byte[] salt = new byte[16];
        RANDOM.nextBytes(salt);
        Keys k = keys(password, salt, DEFAULT_ITERATIONS);
        return new Secret.Scram(DEFAULT_ITERATIONS, salt, k.storedKey(), k.serverKey());
    }

    static String nonce() {
        byte[] b = new byte[18];
        RANDOM.nextBytes(b);
        return Base64.getEncoder().encodeToString(b);
    }

    static byte[] hi(String password, byte[] salt, int iterations) {
        try {
            PBEKeySpec spec = new PBEKeySpec(password.toCharArray(), salt, iterations, 256);
            return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] hmac(byte[] key, String message) {
        return hmac(key, message.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] hmac(byte[] key, byte[] message) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(message);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] sha256(byte[] in) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(in);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] xor(byte[] a, byte[] b) {
        byte[] out = new byte[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = (byte) (a[i] ^ b[i]);
        }
        return out;
    }

    /** {@code k=v} attributes of a SCRAM message; values may contain '=' (base64). */
    static Map<Character, String> attributes(String message) {
        Map<Character, String> out = new HashMap<>();
        for (String part : message.split(",")) {
            if (part.length() >= 2 && part.charAt(1) == '=') {
                out.putIfAbsent(part.charAt(0), part.substring(2));
            }
        }
        return out;
    }

    /**
     * The server side of one SCRAM login against a stored verifier. {@link #clientFirst} then
     * {@link #clientFinal}; after success {@link #clientKey()} is the key the client proved it
     * has, which also logs in to a server holding the same verifier.
     */
    static final class ServerExchange {
        private final Secret.Scram secret;
        private String clientFirstBare;
        private String serverFirst;
        private String nonce;
        private byte[] clientKey;

        ServerExchange(Secret.Scram secret) {
            this.secret = secret;
        }

        /** Returns server-first-message, or throws IllegalArgumentException for a malformed or unsupported request. */
        String clientFirst(String message) {
            if (message.startsWith("p=")) {
                throw new IllegalArgumentException("SCRAM channel binding is not supported by the proxy");
            }
            if (!message.startsWith("n,") && !message.startsWith("y,")) {
                throw new IllegalArgumentException("malformed SCRAM message (unexpected GS2 header)");
            }
            int second = message.indexOf(',', 2);
            if (second < 0) {
                throw new IllegalArgumentException("malformed SCRAM message");
            }
            clientFirstBare = message.substring(second + 1);
            String clientNonce = attributes(clientFirstBare).get('r');
            if (clientNonce == null || clientNonce.isEmpty()) {
                throw new IllegalArgumentException("malformed SCRAM message (no nonce)");
            }
            nonce = clientNonce + nonce();
            serverFirst = "r=" + nonce + ",s=" + Base64.getEncoder().encodeToString(secret.salt()) + ",i=" + secret.iterations();
            return serverFirst;
        }

        /** Returns server-final-message when the proof is right, else null. */
        String clientFinal(String message) {
            int proofAt = message.lastIndexOf(",p=");
            if (proofAt < 0) {
                throw new IllegalArgumentException("malformed SCRAM message (no proof)");
            }
            String withoutProof = message.substring(0, proofAt);
            Map<Character, String> attrs = attributes(message);
            if (!nonce.equals(attrs.get('r'))) {
                throw new IllegalArgumentException("malformed SCRAM message (nonce mismatch)");
            }
            byte[] proof = Base64.getDecoder().decode(message.substring(proofAt + 3));
            String authMessage = clientFirstBare + "," + serverFirst + "," + withoutProof;
            byte[] signature = hmac(secret.storedKey(), authMessage);
            if (proof.length != signature.length) {
                return null;
            }
            byte[] key = xor(proof, signature);
            if (!MessageDigest.isEqual(sha256(key), secret.storedKey())) {
                return null;
            }
            clientKey = key;
            return "v=" + Base64.getEncoder().encodeToString(hmac(secret.serverKey(), authMessage));
        }

        byte[] clientKey() {
            return clientKey;
        }
    }

    /** The client side of a SCRAM login to the server, with a password or with known keys. */
    static final class ClientExchange {
        private final String password;
        private final byte[] knownClientKey;
        private final byte[] knownServerKey;
        private final String clientNonce = nonce();
        private byte[] serverSignature;

        ClientExchange(String password, byte[] clientKey, byte[] serverKey) {
            this.password = password;
            this.knownClientKey = clientKey;
            this.knownServerKey = serverKey;
        }

        String clientFirst() {
            return "n,,n=,r=" + clientNonce;
        }

        String clientFinal(String serverFirst) {
            Map<Character, String> a = attributes(serverFirst);
            String nonce = a.get('r');
            if (nonce == null || !nonce.startsWith(clientNonce)) {
                throw new IllegalArgumentException("server sent a SCRAM nonce that does not extend ours");
            }
            byte[] salt = Base64.getDecoder().decode(a.get('s'));
            int iterations = Integer.parseInt(a.get('i'));
            byte[] clientKey;
            byte[] serverKey;
            if (password != null) {
                Keys k = keys(password, salt, iterations);
                clientKey = k.clientKey();
                serverKey = k.serverKey();
            } else {
                clientKey = knownClientKey;
                serverKey = knownServerKey;
            }
            String withoutProof = "c=biws,r=" + nonce;
            String authMessage = "n=,r=" + clientNonce + "," + serverFirst + "," + withoutProof;
            byte[] proof = xor(clientKey, hmac(sha256(clientKey), authMessage));
            serverSignature = hmac(serverKey, authMessage);
            return withoutProof + ",p=" + Base64.getEncoder().encodeToString(proof);
        }

        boolean serverFinalValid(String serverFinal) {
            String v = attributes(serverFinal).get('v');
            return v != null && MessageDigest.isEqual(Base64.getDecoder().decode(v), serverSignature);
        }
    }
}
