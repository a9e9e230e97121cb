package io.neurondb.proxy.session;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class SessionVariablesTest {

    private static SessionVariables session(String applicationName) {
        SessionVariables v = new SessionVariables();
        v.startupParameters(Map.of("application_name", applicationName, "user", "app"));
        return v;
    }

    private static void set(SessionVariables v, String sql, AppliedSettings on) {
        v.sawSql(sql);
        v.transactionEnded(true, on);
    }

    @Test
    void aConnectionWithTheSameSettingsNeedsNoReplay() {
        AppliedSettings connection = new AppliedSettings();
        assertThat(session("pgbench").replayFor(connection)).isEqualTo("SET \"application_name\" TO 'pgbench'");
        assertThat(connection.fingerprint()).isNotNull();
        // Another session with equal settings: its fingerprint matches, no replay.
        assertThat(session("pgbench").replayFor(connection)).isNull();
        assertThat(session("other").replayFor(connection)).isEqualTo("SET \"application_name\" TO 'other'");
        assertThat(connection.values).containsExactly(Map.entry("application_name", "'other'"));
    }

    @Test
    void aSetRunOnTheConnectionIsUndoneForTheNextSession() {
        AppliedSettings connection = new AppliedSettings();
        SessionVariables a = session("pgbench");
        SessionVariables b = session("pgbench");
        assertThat(a.replayFor(connection)).isNotNull();
        set(a, "SET search_path = app", connection);
        assertThat(connection.fingerprint()).as("the SET ran behind the fingerprint").isNull();
        assertThat(connection.values).containsEntry("search_path", "app");
        // b never set search_path: the connection's must go.
        assertThat(b.replayFor(connection)).isEqualTo("RESET \"search_path\"");
        assertThat(b.replayFor(connection)).isNull();
        // a gets it back on its next lease.
        assertThat(a.replayFor(connection)).isEqualTo("SET \"search_path\" TO app");
    }

    @Test
    void aFailedTransactionChangesNothing() {
        AppliedSettings connection = new AppliedSettings();
        SessionVariables a = session("pgbench");
        a.replayFor(connection);
        var before = connection.fingerprint();
        a.sawSql("SET search_path = app");
        a.transactionEnded(false, connection);
        assertThat(connection.fingerprint()).isSameAs(before);
        assertThat(a.replayFor(connection)).isNull();
    }

    @Test
    void fingerprintsDependOnContentNotOrder() {
        var one = new java.util.LinkedHashMap<String, String>();
        one.put("a", "1");
        one.put("b", "2");
        var other = new java.util.LinkedHashMap<String, String>();
        other.put("b", "2");
        other.put("a", "1");
        assertThat(SessionVariables.Fingerprint.of(one)).isEqualTo(SessionVariables.Fingerprint.of(other));
        assertThat(SessionVariables.Fingerprint.of(one)).isNotEqualTo(SessionVariables.Fingerprint.of(Map.of("a", "12")));
        // The separator keeps name and value apart: ("ab", "") and ("a", "b") differ.
        assertThat(SessionVariables.Fingerprint.of(Map.of("ab", ""))).isNotEqualTo(SessionVariables.Fingerprint.of(Map.of("a", "b")));
    }
}
