package io.neurondb.tests.support;

import io.neurondb.proxy.embedded.LocalPostgres;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

/**
 * The PostgreSQL server the end-to-end tests share: one real cluster per test JVM, started
 * from the system binaries in a temporary directory with {@code wal_level=logical}, on a free
 * port, offering TLS with a throw-away certificate, and removed when the JVM exits. Tests that stop or break their server start their
 * own with {@link #startPrivate}.
 *
 * <p>Login roles for the authentication tests: {@code trust_user} (trust),
 * {@code md5_user} (md5, password {@code md5pass}), {@code scram_user} (SCRAM-SHA-256,
 * password {@code scrampass}); the superuser is {@code postgres}/{@code postgres}.
 */
public final class TestPostgres {

    public static final String SUPERUSER = "postgres";
    public static final String SUPERUSER_PASSWORD = "postgres";

    private static LocalPostgres shared;
    private static Path serverCertDir;

    private TestPostgres() {
    }

    public static synchronized LocalPostgres shared() {
        if (shared == null) {
            shared = startPrivate("shared", serverTlsSettings());
            createRoles(shared);
            LocalPostgres started = shared;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                started.destroy();
                LocalPostgres.deleteTree(started.dataDir().getParent());
                LocalPostgres.deleteTree(serverCertDir);
            }, "test-postgres-cleanup"));
        }
        return shared;
    }

    /** The PEM certificate the shared server presents (self-signed: it is also its own CA). */
    public static synchronized Path sharedServerCertificate() {
        shared();
        return serverCertDir.resolve("cert.pem");
    }

    /** A cluster of the caller's own; the caller must {@link LocalPostgres#destroy()} it. */
    public static LocalPostgres startPrivate(String name, String... settings) {
        try {
            Path dir = Files.createTempDirectory("neurondb-test-pg-" + name + "-");
            LocalPostgres.Builder b = LocalPostgres.builder(dir.resolve("data"))
                    .superuserPassword(SUPERUSER_PASSWORD)
                    .hba("host all trust_user 127.0.0.1/32 trust")
                    .hba("host all md5_user 127.0.0.1/32 md5")
                    .setting("max_connections=200");
            for (String s : settings) {
                b.setting(s);
            }
            // The temp dir itself must be traversable by the postgres OS user.
            dir.toFile().setExecutable(true, false);
            return b.build().start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The shared server offers TLS, so the proxy's upstream TLS path is exercised. */
    private static String[] serverTlsSettings() {
        try {
            serverCertDir = Files.createTempDirectory("neurondb-test-server-tls-");
            SelfSignedCertificate cert = SelfSignedCertificate.create(serverCertDir).ownedByPostgres();
            return new String[]{"ssl=on", "ssl_cert_file=" + cert.certFile(), "ssl_key_file=" + cert.keyFile()};
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static void createRoles(LocalPostgres pg) {
        try (Connection c = superuser(pg); Statement s = c.createStatement()) {
            s.execute("CREATE ROLE trust_user LOGIN");
            s.execute("SET password_encryption = 'md5'");
            s.execute("CREATE ROLE md5_user LOGIN PASSWORD 'md5pass'");
            s.execute("SET password_encryption = 'scram-sha-256'");
            s.execute("CREATE ROLE scram_user LOGIN PASSWORD 'scrampass'");
            s.execute("GRANT ALL ON SCHEMA public TO trust_user, md5_user, scram_user");
        } catch (SQLException e) {
            throw new IllegalStateException("could not create test roles", e);
        }
    }

    /** A direct (not proxied) superuser connection. */
    public static Connection superuser(LocalPostgres pg) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", SUPERUSER);
        p.setProperty("password", SUPERUSER_PASSWORD);
        return DriverManager.getConnection(pg.jdbcUrl("postgres"), p);
    }
}
