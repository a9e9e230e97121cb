package io.neurondb.metrics;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.neurondb.plugin.api.ProxyStatus;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The HTTP endpoint: {@code /metrics} (Prometheus text), {@code /health} (liveness: the process
 * answers) and {@code /ready} (readiness, see {@link Readiness}). A scrape renders every meter,
 * which takes a millisecond or more, so it runs on a worker thread, never on the event loop
 * that carries client sessions.
 */
final class MetricsHttpServer {

    private static final Logger log = LoggerFactory.getLogger(MetricsHttpServer.class);
    private static final String TEXT = "text/plain; charset=utf-8";

    private final Vertx vertx;
    private final PrometheusMeterRegistry registry;
    private final ProxyStatus status;
    private final MetricsSettings settings;
    private HttpServer server;

    MetricsHttpServer(Vertx vertx, PrometheusMeterRegistry registry, ProxyStatus status, MetricsSettings settings) {
        this.vertx = vertx;
        this.registry = registry;
        this.status = status;
        this.settings = settings;
    }

    /** Binds the port; returns the port bound (the configured one, or the one picked for 0 in tests). */
    Future<Integer> listen(int port) {
        return vertx.createHttpServer(new HttpServerOptions().setHost(settings.bindAddress()).setPort(port))
                .requestHandler(this::handle)
                .listen()
                .map(s -> {
                    server = s;
                    return s.actualPort();
                });
    }

    Future<Void> close() {
        return server == null ? Future.succeededFuture() : server.close();
    }

    private void handle(HttpServerRequest req) {
        if (req.method() != HttpMethod.GET && req.method() != HttpMethod.HEAD) {
            req.response().setStatusCode(405).putHeader(HttpHeaders.ALLOW, "GET, HEAD")
                    .putHeader(HttpHeaders.CONTENT_TYPE, TEXT).end("method not allowed\n");
            return;
        }
        switch (req.path()) {
            case "/metrics" -> metrics(req);
            case "/health" -> text(req, 200, "ok");
            case "/ready" -> ready(req);
            default -> text(req, 404, "not found: try /metrics, /health or /ready");
        }
    }

    private void metrics(HttpServerRequest req) {
        ScrapeFormat format = ScrapeFormat.forAccept(req.getHeader(HttpHeaders.ACCEPT));
        vertx.executeBlocking(() -> registry.scrape(format.contentType()), false).onComplete(ar -> {
            if (ar.succeeded()) {
                req.response().putHeader(HttpHeaders.CONTENT_TYPE, format.contentType()).end(ar.result());
            } else {
                log.warn("event=scrape_failed error=\"{}\"", ar.cause().toString());
                text(req, 500, "scrape failed: " + ar.cause().getMessage());
            }
        });
    }

    private void ready(HttpServerRequest req) {
        Future<Void> ping;
        try {
            ping = status.pingUpstream().timeout(settings.readyTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (RuntimeException e) {
            ping = Future.failedFuture(e);
        }
        ping.onComplete(ar -> {
            Readiness.Verdict verdict;
            try {
                List<ProxyStatus.IndexInfo> indexes = ar.succeeded() ? status.indexes() : List.of();
                verdict = ar.succeeded() && !status.indexesKnown()
                        ? new Readiness.Verdict(false, "finding the databases that have vector indexes")
                        : Readiness.judge(ar.cause(), indexes);
            } catch (RuntimeException e) {
                verdict = new Readiness.Verdict(false, "cannot read the proxy's state: " + e.getMessage());
            }
            text(req, verdict.ready() ? 200 : 503, verdict.reason());
        });
    }

    private static void text(HttpServerRequest req, int code, String body) {
        req.response().setStatusCode(code).putHeader(HttpHeaders.CONTENT_TYPE, TEXT).end(body + "\n");
    }
}
