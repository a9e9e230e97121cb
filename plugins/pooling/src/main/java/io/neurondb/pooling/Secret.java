package io.neurondb.pooling;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;

/**
 * A user's password as the auth file or {@code auth_query} holds it: plain text, PostgreSQL's
 * md5 hash ({@code md5} + md5(password + user)), or a SCRAM-SHA-256 verifier
 * ({@code SCRAM-SHA-256$iterations:salt$StoredKey:ServerKey}). {@link #toString()} never shows it.
 */
public sealed interface Secret {

    record Plain(String password) implements Secret {
        @Override
        public String toString() {
            return "Plain[***]";
        }
    }

    /** {@code hash} is the 32 hex digits after "md5". */
    record Md5(String hash) implements Secret {
        @Override
        public String toString() {
            return "Md5[***]";
        }
    }

    record Scram(int iterations, byte[] salt, byte[] storedKey, byte[] serverKey) implements Secret {
        @Override
        public String toString() {
            return "Scram[***]";
        }
    }

    static Secret parse(String text) {
        if (text.startsWith("md5") && text.length() == 35 && text.substring(3).chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
            return new Md5(text.substring(3).toLowerCase(java.util.Locale.ROOT));
        }
        if (text.startsWith("SCRAM-SHA-256$")) {
            try {
                String[] parts = text.substring("SCRAM-SHA-256$".length()).split("\\$");
                String[] iterSalt = parts[0].split(":");
                String[] keys = parts[1].split(":");
                Base64.Decoder b64 = Base64.getDecoder();
                return new Scram(Integer.parseInt(iterSalt[0]), b64.decode(iterSalt[1]), b64.decode(keys[0]), b64.decode(keys[1]));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("malformed SCRAM-SHA-256 secret");
            }
        }
        return new Plain(text);
    }

    /** md5(password + user) in hex: the value after "md5" in pg_authid. */
    static String md5Of(String password, String user) {
        return md5Hex(concat(password.getBytes(StandardCharsets.UTF_8), user.getBytes(StandardCharsets.UTF_8)));
    }

    /** What an md5 login sends for a salt: "md5" + md5(hash + salt), {@code hash} being md5(password + user) in hex. */
    static String md5Response(String hash, byte[] salt) {
        return "md5" + md5Hex(concat(hash.getBytes(StandardCharsets.US_ASCII), salt));
    }

    static String md5Hex(byte[] in) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(in));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
