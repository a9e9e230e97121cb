package io.neurondb.metrics;

import io.neurondb.plugin.api.ProxyStatus.IndexInfo;

import java.util.List;

/**
 * Whether the proxy is ready for traffic: the upstream answered, and no engine index is
 * building (a load balancer should not send kNN queries to a proxy that would answer them
 * from PostgreSQL's exact scan for minutes while its indexes load). A stale index (rows
 * written since its build; it catches up in the background) and a failed build do not make
 * the proxy unready: their queries still run, exactly, in PostgreSQL, and taking every proxy
 * out of a load balancer over one bad index would turn slow queries into an outage. Failed
 * indexes are named in the ready answer and show as {@code neurondb_index_ready 0}.
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
        List<IndexInfo> building = indexes.stream().filter(i -> "building".equals(i.state())).toList();
        if (!building.isEmpty()) {
            return new Verdict(false, name("indexes building: ", building));
        }
        List<IndexInfo> failed = indexes.stream().filter(i -> "failed".equals(i.state())).toList();
        return new Verdict(true, failed.isEmpty() ? "ready" : name("ready; failed index builds: ", failed));
    }

    private static String name(String prefix, List<IndexInfo> list) {
        StringBuilder b = new StringBuilder(prefix);
        for (int i = 0; i < Math.min(NAMED, list.size()); i++) {
            IndexInfo x = list.get(i);
            if (i > 0) {
                b.append(", ");
            }
            b.append(x.database()).append('/').append(x.name());
        }
        if (list.size() > NAMED) {
            b.append(" and ").append(list.size() - NAMED).append(" more");
        }
        return b.toString();
    }

    private static String oneLine(String s) {
        String t = s.replace('\n', ' ').replace('\r', ' ');
        return t.length() > 200 ? t.substring(0, 200) + "..." : t;
    }
}
