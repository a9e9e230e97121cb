package io.neurondb.backup.store;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;

/**
 * AES-256-GCM over a file in chunks of 1 MiB, so neither side holds a whole backup in memory
 * (the JDK's GCM decryption buffers everything until the tag is checked). Layout: the magic
 * {@code NDBGCM01}, a 12-byte random base nonce, then chunks of {@code [flag][length][ciphertext+tag]}.
 * Chunk i is sealed with nonce = base nonce XOR i and its index and last-chunk flag as associated
 * data, so reordered, dropped, truncated or altered chunks all fail the tag check.
 */
public final class FileCipher {

    private static final byte[] MAGIC = "NDBGCM01".getBytes(StandardCharsets.US_ASCII);
    private static final int CHUNK = 1 << 20;
    private static final int TAG_BITS = 128;
    private static final SecureRandom RANDOM = new SecureRandom();

    private FileCipher() {
    }

    public static void encrypt(Path plain, Path sealed, BackupKey key) throws IOException {
        byte[] base = new byte[12];
        RANDOM.nextBytes(base);
        try (InputStream in = Files.newInputStream(plain); DataOutputStream out = new DataOutputStream(
                new java.io.BufferedOutputStream(Files.newOutputStream(sealed), 1 << 16))) {
            out.write(MAGIC);
            out.write(base);
            byte[] buf = new byte[CHUNK];
            byte[] next = new byte[CHUNK];
            int n = in.readNBytes(buf, 0, CHUNK);
            long index = 0;
            while (true) {
                int m = n == CHUNK ? in.readNBytes(next, 0, CHUNK) : 0;
                boolean last = m == 0;
                byte[] ct = cipher(Cipher.ENCRYPT_MODE, key, base, index, last).doFinal(buf, 0, n);
                out.writeByte(last ? 1 : 0);
                out.writeInt(ct.length);
                out.write(ct);
                if (last) {
                    break;
                }
                byte[] t = buf;
                buf = next;
                next = t;
                n = m;
                index++;
            }
        } catch (GeneralSecurityException e) {
            throw new IOException("encryption failed: " + e.getMessage(), e);
        }
    }

    /**
     * @throws IOException saying the file is damaged or the key wrong when a tag does not verify;
     *                     nothing of a chunk that fails is written
     */
    public static void decrypt(Path sealed, Path plain, BackupKey key) throws IOException {
        try (DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(Files.newInputStream(sealed), 1 << 16));
             OutputStream out = Files.newOutputStream(plain)) {
            byte[] magic = in.readNBytes(MAGIC.length);
            if (!Arrays.equals(magic, MAGIC)) {
                throw new IOException(sealed.getFileName() + " is not a NeuronDB encrypted backup file");
            }
            byte[] base = in.readNBytes(12);
            long index = 0;
            while (true) {
                int flag;
                int len;
                try {
                    flag = in.readUnsignedByte();
                    len = in.readInt();
                } catch (EOFException e) {
                    throw new IOException(sealed.getFileName() + " is truncated (no final chunk)");
                }
                if (len < 16 || len > CHUNK + 16) {
                    throw new IOException(sealed.getFileName() + " is damaged (bad chunk length at chunk " + index + ")");
                }
                byte[] ct = in.readNBytes(len);
                if (ct.length != len) {
                    throw new IOException(sealed.getFileName() + " is truncated");
                }
                try {
                    out.write(cipher(Cipher.DECRYPT_MODE, key, base, index, flag == 1).doFinal(ct));
                } catch (AEADBadTagException e) {
                    throw new IOException(sealed.getFileName() + " failed the AES-GCM integrity check at chunk " + index
                            + ": the file was altered or the key is not the one it was encrypted with");
                }
                if (flag == 1) {
                    if (in.read() != -1) {
                        throw new IOException(sealed.getFileName() + " has data after its final chunk");
                    }
                    return;
                }
                index++;
            }
        } catch (GeneralSecurityException e) {
            throw new IOException("decryption failed: " + e.getMessage(), e);
        }
    }

    private static Cipher cipher(int mode, BackupKey key, byte[] base, long index, boolean last) throws GeneralSecurityException {
        byte[] nonce = base.clone();
        for (int i = 0; i < 8; i++) {
            nonce[11 - i] ^= (byte) (index >>> (8 * i));
        }
        Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
        c.init(mode, key.spec(), new GCMParameterSpec(TAG_BITS, nonce));
        c.updateAAD(ByteBuffer.allocate(9).putLong(index).put((byte) (last ? 1 : 0)).array());
        return c;
    }
}
