package io.neurondb.proxy.session;

import java.util.HashMap;
import java.util.Map;

/**
 * The tracked session settings one server connection has (name to SQL value text), kept across
 * the sessions that borrow it, and a fingerprint of them when known: a session whose settings
 * have the same fingerprint needs no replay, and comparing two numbers spares reading a map
 * that no session has touched lately (that lookup was a twentieth of the pooled transaction's
 * user time). Touched only by the connection's current holder.
 */
final class AppliedSettings {

    final Map<String, String> values = new HashMap<>();
    private SessionVariables.Fingerprint fingerprint;

    /** The fingerprint of {@link #values}, or null when they changed since it was taken. */
    SessionVariables.Fingerprint fingerprint() {
        return fingerprint;
    }

    /** {@link #values} now equal the settings {@code f} was taken of. */
    void matched(SessionVariables.Fingerprint f) {
        fingerprint = f;
    }

    /** {@link #values} changed behind the fingerprint (a SET ran on the connection, or DISCARD ALL). */
    void changed() {
        fingerprint = null;
    }
}
