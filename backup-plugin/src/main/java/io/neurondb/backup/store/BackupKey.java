package io.neurondb.backup.store;

import io.neurondb.backup.config.BackupSettings;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;

/**
 * The AES-256 key backups are encrypted with, read from a file or an environment variable as 64
 * hex digits or base64 of 32 bytes (a file may also hold the 32 raw bytes). The key never
 * appears in logs, manifests or messages: manifests carry only its {@link #id()}, a keyed hash
 * that lets a restore tell a wrong key from a damaged file before it changes anything.
 */
public final class BackupKey {

    private final byte[] key;

    private BackupKey(byte[] key) {
        this.key = key;
    }

    /** @return the configured key, or null when encryption is off */
    public static BackupKey load(BackupSettings settings, Map<String, String> env) {
        if (!settings.encrypted()) {
            return null;
        }
        String source;
        byte[] raw;
        if (settings.keyFile() != null) {
            source = "plugins.backup.encryption.key_file " + settings.keyFile();
            try {
                raw = Files.readAllBytes(settings.keyFile());
            } catch (IOException e) {
                throw new IllegalArgumentException(source + " cannot be read (" + e.getClass().getSimpleName()
                        + "); create it with 32 random bytes, e.g. openssl rand -hex 32 > FILE");
            }
        } else {
            source = "environment variable " + settings.keyEnv() + " (plugins.backup.encryption.key_env)";
            String v = env.get(settings.keyEnv());
            if (v == null || v.isBlank()) {
                throw new IllegalArgumentException(source + " is not set; set it to 64 hex digits, e.g. from openssl rand -hex 32");
            }
            raw = v.getBytes(StandardCharsets.US_ASCII);
        }
        byte[] key = decode(raw);
        if (key == null) {
            throw new IllegalArgumentException(source + " does not hold a 256-bit key; write 64 hex digits (openssl rand -hex 32) or base64 of 32 bytes");
        }
        return new BackupKey(key);
    }

    /** A key from its 32 bytes (tests). */
    public static BackupKey of(byte[] key) {
        if (key.length != 32) {
            throw new IllegalArgumentException("an AES-256 key has 32 bytes, not " + key.length);
        }
        return new BackupKey(key.clone());
    }

    private static byte[] decode(byte[] raw) {
        if (raw.length == 32) {
            return raw;
        }
        String s = new String(raw, StandardCharsets.US_ASCII).strip();
        try {
            if (s.length() == 64) {
                return HexFormat.of().parseHex(s);
            }
            byte[] b = Base64.getDecoder().decode(s);
            return b.length == 32 ? b : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    SecretKeySpec spec() {
        return new SecretKeySpec(key, "AES");
    }

    /** Identifies the key without revealing it: the first 16 hex digits of HMAC-SHA256(key, a fixed label). */
    public String id() {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return HexFormat.of().formatHex(mac.doFinal("neurondb-backup-key-id".getBytes(StandardCharsets.US_ASCII))).substring(0, 16);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String toString() {
        return "BackupKey[id=" + id() + "]";
    }
}
