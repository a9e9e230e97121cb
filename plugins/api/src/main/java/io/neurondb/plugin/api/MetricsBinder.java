package io.neurondb.plugin.api;

import io.micrometer.core.instrument.MeterRegistry;
import org.pf4j.ExtensionPoint;

/**
 * Registers a plugin's meters. The host calls {@link #bindTo} once per registry: the metrics
 * plugin's Prometheus registry, or a composite of several.
 */
public interface MetricsBinder extends ExtensionPoint {

    void bindTo(MeterRegistry registry);
}
