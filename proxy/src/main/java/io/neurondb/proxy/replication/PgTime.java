package io.neurondb.proxy.replication;

import java.time.Instant;

/** PostgreSQL {@code TimestampTz} on the wire: microseconds since 2000-01-01 00:00:00 UTC. */
public final class PgTime {

    /** 2000-01-01T00:00:00Z in seconds since the Unix epoch. */
    public static final long POSTGRES_EPOCH_UNIX_SECONDS = 946_684_800L;

    private PgTime() {
    }

    /** PostgreSQL microseconds to an {@link Instant}; {@code ±infinity} map to {@link Instant#MAX}/{@link Instant#MIN}. */
    public static Instant toInstant(long pgMicros) {
        if (pgMicros == Long.MAX_VALUE) {
            return Instant.MAX;
        }
        if (pgMicros == Long.MIN_VALUE) {
            return Instant.MIN;
        }
        long secs = Math.floorDiv(pgMicros, 1_000_000L);
        long micros = Math.floorMod(pgMicros, 1_000_000L);
        return Instant.ofEpochSecond(POSTGRES_EPOCH_UNIX_SECONDS + secs, micros * 1_000L);
    }

    /** An {@link Instant} to PostgreSQL microseconds (truncated to the microsecond). */
    public static long fromInstant(Instant instant) {
        long secs = instant.getEpochSecond() - POSTGRES_EPOCH_UNIX_SECONDS;
        return Math.addExact(Math.multiplyExact(secs, 1_000_000L), instant.getNano() / 1_000L);
    }

    /** The current time in PostgreSQL microseconds (for standby status updates). */
    public static long now() {
        return fromInstant(Instant.now());
    }

}
