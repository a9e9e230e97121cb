package io.neurondb.metrics;

import io.neurondb.plugin.api.ProxyStatus.IndexInfo;

import java.util.List;

/**
 * Whether the proxy is ready for traffic: the upstream answered, and every engine index has
 * finished building (a load balancer should not send kNN queries to a proxy that would answer
 * them from PostgreSQL's exact scan for minutes). A failed build counts as not ready too: its
 * queries run exactly but slowly, which an operator must see.
 */
public final class Readiness {

    /** The answer: ready, or not with a one-line reason for the response body. */
    public record Verdict(boolean ready, String reason) {
    }

    /** How many not-ready indexes the reason names before "and n more". */
    static final int NAMED = 3;

    private Readiness() {
    }

    /**
     * @param upstreamError why the upstream could not be reached, or null when it answered
     * @param indexes       every index the proxy serves or builds
     */
    public static Verdict judge(Throwable upstreamError, List<IndexInfo> indexes) {
        if (upstreamError != null) {
            String why = upstreamError.getMessage() == null ? upstreamError.getClass().getSimpleName() : upstreamError.getMessage();
            return new Verdict(false, "upstream unreachable: " + oneLine(why));
        }
        List<IndexInfo> notReady = indexes.stream().filter(i -> !i.ready()).toList();
        if (notReady.isEmpty()) {
            return new Verdict(true, "ready");
        }
        StringBuilder b = new StringBuilder("indexes not ready: ");
        for (int i = 0; i < Math.min(NAMED, notReady.size()); i++) {
            IndexInfo x = notReady.get(i);
            if (i > 0) {
                b.append(", ");
            }
            b.append(x.database()).append('/').append(x.name()).append(" (").append(x.state()).append(')');
        }
        if (notReady.size() > NAMED) {
            b.append(" and ").append(notReady.size() - NAMED).append(" more");
        }
        return new Verdict(false, b.toString());
    }

    private static String oneLine(String s) {
        String t = s.replace('\n', ' ').replace('\r', ' ');
        return t.length() > 200 ? t.substring(0, 200) + "..." : t;
    }
}
