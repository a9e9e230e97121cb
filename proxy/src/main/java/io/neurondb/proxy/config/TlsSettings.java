package io.neurondb.proxy.config;

import java.nio.file.Path;

/**
 * TLS towards clients and towards the server.
 *
 * @param certFile    PEM certificate the proxy presents to clients; null disables client TLS
 * @param keyFile     PEM private key for {@code certFile}
 * @param upstreamMode how to talk to the server: disable, prefer, require or verify-full
 * @param upstreamCaFile PEM CA bundle used by verify-full
 */
public record TlsSettings(Path certFile, Path keyFile, UpstreamTlsMode upstreamMode, Path upstreamCaFile) {

    public enum UpstreamTlsMode {
        DISABLE, PREFER, REQUIRE, VERIFY_FULL;

        static UpstreamTlsMode parse(String s) {
            try {
                return valueOf(s.trim().toUpperCase(java.util.Locale.ROOT).replace('-', '_'));
            } catch (IllegalArgumentException e) {
                throw new ConfigException("upstream_tls.mode: '" + s + "' is not one of disable, prefer, require, verify-full");
            }
        }
    }

    public boolean clientTlsEnabled() {
        return certFile != null;
    }
}
