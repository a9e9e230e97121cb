package io.neurondb.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.neurondb.plugin.api.PluginContext;
import io.neurondb.plugin.api.PluginService;
import io.neurondb.plugin.api.StatementEvent;
import io.neurondb.plugin.api.StatementObserver;
import org.pf4j.Extension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * The metrics plugin: a Prometheus registry joined to the host's composite registry (so it
 * exports the proxy's own meters, every plugin's, and the ones registered here), the HTTP
 * endpoint on {@code metrics_port}, JVM meters, and statement meters fed as a
 * {@link StatementObserver}. With {@code metrics_port: 0} it does nothing at all.
 */
@Extension
public final class MetricsService implements PluginService, StatementObserver {

    private static final Logger log = LoggerFactory.getLogger(MetricsService.class);

    private volatile StatementMeters statements;
    private CompositeMeterRegistry host;
    private PrometheusMeterRegistry prometheus;
    private JvmMeters jvm;
    private MetricsHttpServer http;

    @Override
    public void start(PluginContext context) throws Exception {
        MetricsSettings settings = MetricsSettings.parse(context.settings(), context.environment());
        int port = context.metricsPort();
        if (port == 0) {
            log.info("event=metrics_endpoint_off reason=\"metrics_port is 0\"");
            return;
        }
        MeterRegistry registry = context.meterRegistry();
        if (!(registry instanceof CompositeMeterRegistry composite)) {
            throw new IllegalStateException("the host's meter registry is a " + registry.getClass().getName()
                    + ", not a CompositeMeterRegistry the Prometheus registry can join");
        }
        PrometheusMeterRegistry prom = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        MetricsHttpServer server = new MetricsHttpServer(context.vertx(), prom, context.status(), settings);
        int bound;
        try {
            bound = server.listen(port).await(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            prom.close();
            throw new IllegalStateException("cannot serve metrics on " + settings.bindAddress() + ":" + port + ": " + e.getMessage(), e);
        }
        composite.add(prom);
        host = composite;
        prometheus = prom;
        http = server;
        if (settings.jvmMetrics()) {
            jvm = new JvmMeters().bindTo(composite);
        }
        // Straight on the Prometheus registry: these meters are the plugin's own, and a record
        // through the host's composite registry costs a second timer dispatch per statement.
        statements = new StatementMeters(prom);
        log.info("event=metrics_endpoint_listening address={}:{} paths=/metrics,/health,/ready jvm_metrics={}",
                settings.bindAddress(), bound, settings.jvmMetrics());
    }

    @Override
    public void onStatement(StatementEvent event) {
        StatementMeters s = statements;
        if (s != null) {
            s.record(event);
        }
    }

    @Override
    public void stop() {
        statements = null;
        if (http != null) {
            try {
                http.close().await(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                log.warn("event=metrics_endpoint_close_failed error=\"{}\"", e.toString());
            }
        }
        if (jvm != null) {
            jvm.close();
        }
        if (host != null && prometheus != null) {
            host.remove(prometheus);
            prometheus.close();
        }
    }
}
