package io.neurondb.tests.metrics;

import io.neurondb.plugin.api.StatementEvent;
import io.neurondb.proxy.embedded.LocalPostgres;
import io.neurondb.tests.support.PluginJars;
import io.neurondb.tests.support.ProxyUnderTest;
import io.neurondb.tests.support.TestPostgres;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.function.Consumer;

/** A proxy with the metrics plugin on a free port, in front of a freshly created database. */
record MetricsProxy(ProxyUnderTest proxy, MetricsHttp http) {

    /** Recreates {@code database} on {@code pg} and starts the proxy; {@code observer} sees every statement event. */
    static MetricsProxy start(LocalPostgres pg, String database, Consumer<StatementEvent> observer) throws SQLException {
        try (Connection c = TestPostgres.superuser(pg); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
            s.execute("CREATE DATABASE " + database);
        }
        int metricsPort = LocalPostgres.freePort();
        ProxyUnderTest proxy = ProxyUnderTest.start(pg.port(), "metrics_port: " + metricsPort + "\n", List.of(observer::accept),
                PluginJars.directoryWith("metrics"));
        return new MetricsProxy(proxy, new MetricsHttp(metricsPort));
    }
}
