package io.neurondb.tests.pooling;

import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.tests.support.PluginJars;
import io.neurondb.tests.support.ProxyUnderTest;
import io.neurondb.tests.support.TestPostgres;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Properties;

/** A proxy with the pooling plugin in front of a test PostgreSQL, and an auth file for the test roles. */
final class PooledProxy {

    static final String AUTH_FILE_TEXT = """
            ; PgBouncer-format auth file for the test roles
            "postgres" "postgres"
            "scram_user" "scrampass"
            "md5_user" "md5pass"
            "trust_user" ""
            """;

    private PooledProxy() {
    }

    static Path authFile() {
        try {
            Path f = Files.createTempFile("neurondb-pool-auth-", ".txt");
            Files.writeString(f, AUTH_FILE_TEXT);
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code settings}: extra lines under {@code plugins: pooling:} (indented by 4). */
    static ProxyUnderTest start(LocalPostgres pg, String settings) {
        String yaml = "plugins:\n  pooling:\n    enabled: true\n    auth_file: " + authFile() + "\n    admin_users: [postgres]\n" + settings;
        return ProxyUnderTest.start(pg.port(), yaml, List.of(), PluginJars.directoryWith("pooling"));
    }

    static Connection connect(ProxyUnderTest proxy, String database, String user, String password, Properties extra) throws SQLException {
        Properties p = new Properties();
        p.putAll(extra);
        p.setProperty("user", user);
        p.setProperty("password", password);
        return DriverManager.getConnection(proxy.jdbcUrl(database), p);
    }

    /** Server connections the given role has open, seen directly on the server. */
    static int serverConnections(LocalPostgres pg, String user) throws SQLException {
        try (Connection c = TestPostgres.superuser(pg); Statement s = c.createStatement();
             ResultSet r = s.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE usename = '" + user + "' AND backend_type = 'client backend'")) {
            r.next();
            return r.getInt(1);
        }
    }
}
