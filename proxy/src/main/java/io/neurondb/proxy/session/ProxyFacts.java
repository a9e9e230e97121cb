package io.neurondb.proxy.session;

/** What the proxy reports about itself through its SQL functions. */
public record ProxyFacts(boolean gpuEnabled, int gpuDeviceCount) {
}
