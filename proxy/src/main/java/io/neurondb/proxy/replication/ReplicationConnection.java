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
        return open(upstream, tls, database, connectTimeout, "neurondb-replication");
    }

    /**
     * @param applicationName what {@code pg_stat_activity} shows for this walsender; the sync uses
     *                        {@link ReplicationOwner#applicationName()} so a slot's holder can be told apart
     */
    public static ReplicationConnection open(UpstreamUrl upstream, TlsSettings tls, String database, Duration connectTimeout,
                                             String applicationName) throws SQLException {
        Properties p = new Properties();
        PGProperty.USER.set(p, upstream.user());
        if (upstream.password() != null) {
            PGProperty.PASSWORD.set(p, upstream.password());
        }
        PGProperty.REPLICATION.set(p, "database");
        PGProperty.ASSUME_MIN_SERVER_VERSION.set(p, "10");
        PGProperty.PREFER_QUERY_MODE.set(p, "simple");
        PGProperty.APPLICATION_NAME.set(p, applicationName);
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

    /** Whether the server can stream large in-progress transactions (pgoutput protocol 2, PostgreSQL 14 and later). */
    public boolean supportsStreaming() throws SQLException {
        return connection.getMetaData().getDatabaseMajorVersion() >= 14;
    }

    /** Starts pgoutput protocol v1 on {@code slot} for {@code publication}, from {@code startLsn}. */
    public PGReplicationStream startStream(String slot, String publication, long startLsn, Duration statusInterval)
            throws SQLException {
        return startStream(slot, publication, startLsn, statusInterval, false);
    }

    /**
     * Starts pgoutput on {@code slot} for {@code publication}, from {@code startLsn}: protocol 2
     * with {@code streaming 'on'} when {@code streaming} (a transaction larger than the server's
     * {@code logical_decoding_work_mem} then arrives in blocks before it commits), else protocol 1
     * (the server keeps such a transaction, spilling it to its own disk, until it commits).
     */
    public PGReplicationStream startStream(String slot, String publication, long startLsn, Duration statusInterval,
                                           boolean streaming) throws SQLException {
        var builder = connection.unwrap(PGConnection.class).getReplicationAPI().replicationStream().logical()
                .withSlotName(slot)
                .withStartPosition(LogSequenceNumber.valueOf(startLsn))
                .withSlotOption("proto_version", streaming ? "2" : "1")
                .withSlotOption("publication_names", quoteLiteralContent(publication))
                .withStatusInterval((int) Math.max(1, statusInterval.toMillis()), TimeUnit.MILLISECONDS);
        if (streaming) {
            builder = builder.withSlotOption("streaming", "on");
        }
        return builder.start();
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
