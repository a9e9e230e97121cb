package io.neurondb.metrics;

/**
 * Which text format a scrape gets. Prometheus asks for OpenMetrics first in its Accept header
 * and accepts the classic text format; anything else (curl, a browser) gets the classic one.
 */
public enum ScrapeFormat {
    PROMETHEUS_TEXT("text/plain; version=0.0.4; charset=utf-8"),
    OPEN_METRICS("application/openmetrics-text; version=1.0.0; charset=utf-8");

    private final String contentType;

    ScrapeFormat(String contentType) {
        this.contentType = contentType;
    }

    public String contentType() {
        return contentType;
    }

    public static ScrapeFormat forAccept(String acceptHeader) {
        return acceptHeader != null && acceptHeader.contains("application/openmetrics-text") ? OPEN_METRICS : PROMETHEUS_TEXT;
    }
}
