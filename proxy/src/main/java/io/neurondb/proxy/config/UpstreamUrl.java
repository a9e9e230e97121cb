package io.neurondb.proxy.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/**
 * The upstream server, from a {@code postgresql://user:pass@host:port/db} URL. The user and
 * password are the proxy's own login for its catalog and replication work; clients in 1:1
 * mode authenticate with their own credentials, relayed to the server.
 */
public record UpstreamUrl(String host, int port, String database, String user, String password) {

    /** Never prints the password. */
    @Override
    public String toString() {
        return "postgresql://" + (user == null ? "" : user + (password == null ? "" : ":***") + "@")
                + new HostAndPort(host, port) + "/" + (database == null ? "" : database);
    }

    public HostAndPort address() {
        return new HostAndPort(host, port);
    }

    public static UpstreamUrl parse(String text, String settingName) {
        URI uri;
        try {
            uri = new URI(text.trim());
        } catch (URISyntaxException e) {
            throw new ConfigException(settingName + ": not a valid URL (expected postgresql://user:password@host:5432/database): " + e.getReason());
        }
        if (!"postgresql".equals(uri.getScheme()) && !"postgres".equals(uri.getScheme())) {
            throw new ConfigException(settingName + ": URL must start with postgresql:// (got '" + uri.getScheme() + "')");
        }
        if (uri.getHost() == null) {
            throw new ConfigException(settingName + ": URL has no host (expected postgresql://user:password@host:5432/database)");
        }
        String user = null;
        String password = null;
        String userInfo = uri.getRawUserInfo();
        if (userInfo != null) {
            int colon = userInfo.indexOf(':');
            user = decode(colon < 0 ? userInfo : userInfo.substring(0, colon));
            password = colon < 0 ? null : decode(userInfo.substring(colon + 1));
        }
        String path = uri.getPath();
        String database = path == null || path.length() <= 1 ? null : decode(path.substring(1));
        return new UpstreamUrl(uri.getHost(), uri.getPort() < 0 ? 5432 : uri.getPort(), database, user, password);
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }
}
