package io.neurondb.proxy.session;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The consistency settings: accepted values, units, errors, and the transaction rules they share with the others. */
class SessionSettingsTest {

    @Test
    void consistencyDefaultsToEventualAndAcceptsReadYourWrites() {
        SessionSettings s = new SessionSettings();
        assertThat(s.value("neurondb.consistency")).isEqualTo("eventual");
        assertThat(s.readYourWrites()).isFalse();
        assertThat(SessionSettings.check("neurondb.consistency", "Read_Your_Writes")).isNull();
        s.applied("neurondb.consistency", "Read_Your_Writes", false);
        s.transactionEnded();
        assertThat(s.value("neurondb.consistency")).isEqualTo("read_your_writes");
        assertThat(s.readYourWrites()).isTrue();
        s.applied("neurondb.consistency", null, false); // RESET
        s.transactionEnded();
        assertThat(s.readYourWrites()).isFalse();
    }

    @Test
    void anExplicitValueIsToldApartFromTheDefault() {
        SessionSettings s = new SessionSettings();
        assertThat(s.explicitValue("neurondb.log_level")).isNull();
        assertThat(s.value("neurondb.log_level")).isEqualTo("info");
        s.applied("neurondb.log_level", "INFO", false); // the default's value, but set by the session
        s.transactionEnded();
        assertThat(s.explicitValue("neurondb.log_level")).isEqualTo("info");
        s.applied("neurondb.log_level", null, false); // RESET
        assertThat(s.explicitValue("neurondb.log_level")).isNull();
        assertThat(s.value("neurondb.log_level")).isEqualTo("info");
        s.transactionEnded();
        assertThat(s.explicitValue("neurondb.log_level")).isNull();
        s.applied("neurondb.log_level", "warning", true); // SET LOCAL over the default
        assertThat(s.explicitValue("neurondb.log_level")).isEqualTo("warning");
        s.transactionEnded();
        assertThat(s.explicitValue("neurondb.log_level")).isNull();
    }

    @Test
    void badConsistencyValueIsRefusedWithTheChoices() {
        SessionSettings.Refusal r = SessionSettings.check("neurondb.consistency", "strong");
        assertThat(r).isNotNull();
        assertThat(r.sqlState()).isEqualTo("22023");
        assertThat(r.message()).contains("neurondb.consistency").contains("strong");
        assertThat(r.hint()).contains("eventual").contains("read_your_writes");
    }

    @Test
    void timeoutTakesMillisecondsOrPostgresTimeUnits() {
        SessionSettings s = new SessionSettings();
        assertThat(s.consistencyTimeoutMillis()).isEqualTo(5000);
        for (String ok : new String[]{"250", "250ms", "2s", " 2 s", "1min", "1h", "0"}) {
            assertThat(SessionSettings.check("neurondb.consistency_timeout", ok)).as(ok).isNull();
        }
        assertThat(SessionSettings.millis("2s")).isEqualTo(2000);
        assertThat(SessionSettings.millis("250ms")).isEqualTo(250);
        assertThat(SessionSettings.millis("1 min")).isEqualTo(60_000);
        s.applied("neurondb.consistency_timeout", "2s", true); // SET LOCAL
        assertThat(s.consistencyTimeoutMillis()).isEqualTo(2000);
        assertThat(s.value("neurondb.consistency_timeout")).isEqualTo("2000");
        s.transactionEnded();
        assertThat(s.consistencyTimeoutMillis()).isEqualTo(5000);
    }

    @Test
    void badTimeoutsAreRefused() {
        for (String bad : new String[]{"soon", "2 weeks", "-1", "1.5s", "", "99999999999999999999d"}) {
            SessionSettings.Refusal r = SessionSettings.check("neurondb.consistency_timeout", bad);
            assertThat(r).as(bad).isNotNull();
            assertThat(r.sqlState()).isEqualTo("22023");
            assertThat(r.message()).contains("neurondb.consistency_timeout");
        }
    }

    @Test
    void rolledBackSetLeavesTheSessionValue() {
        SessionSettings s = new SessionSettings();
        s.applied("neurondb.consistency", "read_your_writes", false);
        s.rolledBack();
        s.transactionEnded();
        assertThat(s.readYourWrites()).isFalse();
    }
}
