package io.neurondb.tests.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** A throw-away PEM certificate and key for CN=localhost, made with the openssl tool. */
public record SelfSignedCertificate(Path certFile, Path keyFile) {

    public static SelfSignedCertificate create(Path dir) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        Path cert = dir.resolve("cert.pem");
        Path key = dir.resolve("key.pem");
        Process p = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                "-keyout", key.toString(), "-out", cert.toString(), "-days", "2", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("openssl failed: " + out);
        }
        return new SelfSignedCertificate(cert, key);
    }

    /** PostgreSQL refuses a key readable by others, and as root it runs as user postgres. */
    public SelfSignedCertificate ownedByPostgres() throws IOException, InterruptedException {
        if ("root".equals(System.getProperty("user.name"))) {
            for (Path f : new Path[]{certFile, keyFile}) {
                new ProcessBuilder("chown", "postgres:postgres", f.toString()).start().waitFor();
            }
            certFile.getParent().toFile().setExecutable(true, false);
        }
        new ProcessBuilder("chmod", "600", keyFile.toString()).start().waitFor();
        return this;
    }
}
