package io.neurondb.tests.backup;

import io.neurondb.backup.config.BackupSettings;
import io.neurondb.backup.config.CronExpression;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CronExpressionTest {

    private static final ZonedDateTime T = ZonedDateTime.of(2026, 11, 24, 8, 15, 30, 0, ZoneOffset.UTC); // a Tuesday

    private static ZonedDateTime next(String cron) {
        return CronExpression.parse(cron).next(T);
    }

    @Test
    void playbookDefaults() {
        assertThat(next("0 * * * *")).isEqualTo(T.withHour(9).withMinute(0).withSecond(0));
        assertThat(next("0 2 * * *")).isEqualTo(ZonedDateTime.of(2026, 11, 25, 2, 0, 0, 0, ZoneOffset.UTC));
    }

    @Test
    void fieldsListsRangesStepsAndNames() {
        assertThat(next("*/20 * * * *")).isEqualTo(T.withMinute(20).withSecond(0));
        assertThat(next("5,50 8 * * *")).isEqualTo(T.withMinute(50).withSecond(0));
        assertThat(next("0 9-17/4 * * *")).isEqualTo(T.withHour(9).withMinute(0).withSecond(0));
        assertThat(next("0 0 * * sun")).isEqualTo(ZonedDateTime.of(2026, 11, 29, 0, 0, 0, 0, ZoneOffset.UTC));
        assertThat(next("0 0 * * 7")).isEqualTo(ZonedDateTime.of(2026, 11, 29, 0, 0, 0, 0, ZoneOffset.UTC));
        assertThat(next("0 0 1 jan *")).isEqualTo(ZonedDateTime.of(2027, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC));
        assertThat(next("0 0 29 2 *")).isEqualTo(ZonedDateTime.of(2028, 2, 29, 0, 0, 0, 0, ZoneOffset.UTC));
        // both day fields restricted: either matches (cron's rule); the 1st comes before Monday the 30th? no: Mon 30 Nov first
        assertThat(next("0 0 1 * mon")).isEqualTo(ZonedDateTime.of(2026, 11, 30, 0, 0, 0, 0, ZoneOffset.UTC));
    }

    @Test
    void badExpressionsSayWhatToFix() {
        assertThatThrownBy(() -> CronExpression.parse("0 2 * *")).hasMessageContaining("has 4 fields").hasMessageContaining("five");
        assertThatThrownBy(() -> CronExpression.parse("61 * * * *")).hasMessageContaining("minute").hasMessageContaining("out of range");
        assertThatThrownBy(() -> CronExpression.parse("0 x * * *")).hasMessageContaining("hour").hasMessageContaining("not a number");
        assertThatThrownBy(() -> CronExpression.parse("0 5-2 * * *")).hasMessageContaining("backwards range");
    }

    @Test
    void theDocumentedConfigurationIsValid() throws Exception {
        Path root = Path.of("").toAbsolutePath();
        while (!java.nio.file.Files.exists(root.resolve("conf/neurondb.yaml"))) {
            root = root.getParent();
        }
        var config = new io.neurondb.proxy.config.ConfigLoader(Map.of(), root).load(root.resolve("conf/neurondb.yaml"));
        BackupSettings s = BackupSettings.parse(config.pluginSettings("backup"), Path.of("/srv/data"), "app", Map.of());
        assertThat(s.repository()).isEqualTo(Path.of("/srv/data/backup/repository"));
        assertThat(s.offsite()).isNull();
        assertThat(s.database()).isEqualTo("app");
        assertThat(s.schedules()).containsOnlyKeys("logical", "physical", "wal", "verify");
        assertThat(s.encrypted()).isFalse();
        assertThat(s.keepCount()).isEqualTo(7);
        assertThat(s.proxyPort()).isEqualTo(6432);
    }

    @Test
    void settingsRefuseBadCronAndUnknownKeysNamingThem() {
        assertThatThrownBy(() -> BackupSettings.parse(Map.of("schedule", Map.of("logical", "every day")), Path.of("/tmp"), "db", Map.of()))
                .hasMessageContaining("plugins.backup.schedule.logical").hasMessageContaining("five");
        assertThatThrownBy(() -> BackupSettings.parse(Map.of("schedul", Map.of()), Path.of("/tmp"), "db", Map.of()))
                .hasMessageContaining("unknown setting plugins.backup.schedul");
        assertThatThrownBy(() -> BackupSettings.parse(Map.of("retention", Map.of("keep_days", 3)), Path.of("/tmp"), "db", Map.of()))
                .hasMessageContaining("plugins.backup.retention.keep_days");
        BackupSettings s = BackupSettings.parse(Map.of("schedule", Map.of("verify", "off")), Path.of("/tmp"), "db", Map.of());
        assertThat(s.schedules()).containsOnlyKeys("logical", "physical", "wal");
        assertThat(s.schedules().get("wal").toString()).isEqualTo("0 * * * *");
        assertThat(s.maxAge().toDays()).isEqualTo(30);
    }
}
