package io.neurondb.tests.backup;

import io.neurondb.backup.config.CronExpression;
import io.neurondb.backup.run.BackupScheduler;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.ZonedDateTime;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** The plugin's own scheduler fires a job at its cron time and keeps going after a job fails. */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class BackupSchedulerTest {

    @Test
    void firesAtTheNextMinuteAndAgainAfterAFailure() throws Exception {
        CountDownLatch fired = new CountDownLatch(2);
        AtomicInteger runs = new AtomicInteger();
        ZonedDateTime expected = CronExpression.parse("* * * * *").next(ZonedDateTime.now());
        try (BackupScheduler scheduler = new BackupScheduler()) {
            scheduler.schedule("test", CronExpression.parse("* * * * *"), () -> {
                runs.incrementAndGet();
                fired.countDown();
                throw new IllegalStateException("a failing job is logged; the schedule goes on");
            });
            assertThat(fired.await(130, TimeUnit.SECONDS)).as("two runs within two minutes").isTrue();
        }
        assertThat(ZonedDateTime.now()).isAfterOrEqualTo(expected.plusMinutes(1));
        assertThat(runs.get()).isEqualTo(2);
    }
}
