package io.neurondb.proxy.config;

/** A listen or connect address, {@code host:port}; IPv6 hosts in brackets. */
public record HostAndPort(String host, int port) {

    public HostAndPort {
        if (port < 0 || port > 65535) {
            throw new ConfigException("port " + port + " is out of range 0..65535");
        }
    }

    /** Parses {@code host:port}, {@code [v6]:port} or a bare {@code port} (host defaults). */
    public static HostAndPort parse(String text, String defaultHost, String settingName) {
        String s = text.trim();
        String host = defaultHost;
        String port = s;
        int colon = s.lastIndexOf(':');
        if (colon >= 0) {
            host = s.substring(0, colon);
            port = s.substring(colon + 1);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            if (host.isEmpty()) {
                host = defaultHost;
            }
        }
        try {
            return new HostAndPort(host, Integer.parseInt(port));
        } catch (NumberFormatException e) {
            throw new ConfigException(settingName + ": '" + text + "' is not host:port (example: 127.0.0.1:6432)");
        }
    }

    @Override
    public String toString() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
