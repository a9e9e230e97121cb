package io.neurondb.metrics;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ScrapeFormatTest {

    @Test
    void prometheusAcceptHeaderGetsOpenMetrics() {
        assertThat(ScrapeFormat.forAccept("application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"))
                .isEqualTo(ScrapeFormat.OPEN_METRICS);
    }

    @Test
    void anythingElseGetsTheClassicText() {
        assertThat(ScrapeFormat.forAccept(null)).isEqualTo(ScrapeFormat.PROMETHEUS_TEXT);
        assertThat(ScrapeFormat.forAccept("*/*")).isEqualTo(ScrapeFormat.PROMETHEUS_TEXT);
        assertThat(ScrapeFormat.PROMETHEUS_TEXT.contentType()).startsWith("text/plain; version=0.0.4");
    }
}
