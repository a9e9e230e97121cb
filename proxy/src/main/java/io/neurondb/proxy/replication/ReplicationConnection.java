package io.neurondb.proxy.replication;

import io.neurondb.proxy.config.TlsSettings;
import io.neurondb.proxy.config.UpstreamUrl;
import org.postgresql.PGConnection;
import org.postgresql.PGProperty;
import org.postgresql.replication.LogSequenceNumber;
import org.postgresql.replication.PGReplicationStream;
import org.postgresql.replication.ReplicationSlotInfo;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * One walsender connection ({@code replication=database}) through pgjdbc's replication API:
 * IDENTIFY_SYSTEM, slot creation with an exported snapshot, and the pgoutput stream. Not
 * thread-safe; one owner thread. The proxy's ordinary queries use the Vert.x pg-client instead.
 */
public final class ReplicationConnection implements AutoCloseable {

    /** What IDENTIFY_SYSTEM says: the cluster's identity and its current timeline. */
    public record SystemIdentity(String systemId, int timeline, long walPosition) {
    }

    private final Connection connection;

    private ReplicationConnection(Connection connection) {
        this.connection = connection;
    }

    public static ReplicationConnection open(UpstreamUrl upstream, TlsSettings tls, String database, Duration connectTimeout)
            throws SQLException {
        Properties p = new Properties();
        PGProperty.USER.set(p, upstream.user());
        if (upstream.password() != null) {
            PGProperty.PASSWORD.set(p, upstream.password());
        }
        PGProperty.REPLICATION.set(p, "database");
        PGProperty.ASSUME_MIN_SERVER_VERSION.set(p, "10");
        PGProperty.PREFER_QUERY_MODE.set(p, "simple");
        PGProperty.APPLICATION_NAME.set(p, "neurondb-replication");
        PGProperty.CONNECT_TIMEOUT.set(p, String.valueOf(Math.max(1, TimeUnit.MILLISECONDS.toSeconds(connectTimeout.toMillis()))));
        // A read timeout during the login, lifted once connected: a server shutting down can leave a
        // login unanswered, and its shutdown then waits for that connection until it is closed.
        // (loginTimeout would not do: pgjdbc gives up waiting but leaves the socket open.)
        PGProperty.SOCKET_TIMEOUT.set(p, String.valueOf(Math.max(1, TimeUnit.MILLISECONDS.toSeconds(connectTimeout.toMillis()))));
        PGProperty.TCP_KEEP_ALIVE.set(p, "true");
        PGProperty.SSL_MODE.set(p, sslMode(tls));
        if (tls != null && tls.upstreamCaFile() != null) {
            PGProperty.SSL_ROOT_CERT.set(p, tls.upstreamCaFile().toString());
        }
        String url = "jdbc:postgresql://" + hostForUrl(upstream.host()) + ":" + upstream.port() + "/";
        Properties withDb = new Properties();
        withDb.putAll(p);
        PGProperty.PG_DBNAME.set(withDb, database);
        Connection c = DriverManager.getConnection(url, withDb);
        try {
            c.setNetworkTimeout(Runnable::run, 0); // slot creation may wait long for running transactions
        } catch (SQLException e) {
            c.close();
            throw e;
        }
        return new ReplicationConnection(c);
    }

    private static String hostForUrl(String host) {
        return host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
    }

    private static String sslMode(TlsSettings tls) {
        if (tls == null) {
            return "disable";
        }
        return switch (tls.upstreamMode()) {
            case DISABLE -> "disable";
            case PREFER -> "prefer";
            case REQUIRE -> "require";
            case VERIFY_FULL -> "verify-full";
        };
    }

    public SystemIdentity identifySystem() throws SQLException {
        try (Statement s = connection.createStatement(); ResultSet rs = s.executeQuery("IDENTIFY_SYSTEM")) {
            if (!rs.next()) {
                throw new SQLException("IDENTIFY_SYSTEM returned no row");
            }
            return new SystemIdentity(rs.getString("systemid"), rs.getInt("timeline"), Lsn.parse(rs.getString("xlogpos")));
        }
    }

    /**
     * Creates a logical slot with pgoutput and an exported snapshot. The snapshot stays usable
     * (SET TRANSACTION SNAPSHOT) only until this connection runs its next command.
     */
    public ReplicationSlotInfo createSlot(String name, boolean temporary) throws SQLException {
        var builder = connection.unwrap(PGConnection.class).getReplicationAPI().createReplicationSlot().logical()
                .withSlotName(name).withOutputPlugin("pgoutput");
        if (temporary) {
            builder = builder.withTemporaryOption();
        }
        return builder.make();
    }

    /** Starts pgoutput protocol v1 on {@code slot} for {@code publication}, from {@code startLsn}. */
    public PGReplicationStream startStream(String slot, String publication, long startLsn, Duration statusInterval)
            throws SQLException {
        return connection.unwrap(PGConnection.class).getReplicationAPI().replicationStream().logical()
                .withSlotName(slot)
                .withStartPosition(LogSequenceNumber.valueOf(startLsn))
                .withSlotOption("proto_version", "1")
                .withSlotOption("publication_names", quoteLiteralContent(publication))
                .withStatusInterval((int) Math.max(1, statusInterval.toMillis()), TimeUnit.MILLISECONDS)
                .start();
    }

    /** Publication names are plain identifiers of ours; quoted so the server reads them verbatim. */
    private static String quoteLiteralContent(String name) {
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }

    @Override
    public void close() {
        try {
            connection.close();
        } catch (SQLException ignored) {
            // closing a broken connection: nothing to do
        }
    }
}
