package io.neurondb.tests.metrics;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.function.Predicate;

/** Plain HTTP against the metrics plugin's endpoint, with waits that poll to a deadline. */
final class MetricsHttp {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private final int port;

    MetricsHttp(int port) {
        this.port = port;
    }

    int port() {
        return port;
    }

    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).GET());
    }

    HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
        return HTTP.send(request.timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
    }

    PromText scrape() throws IOException, InterruptedException {
        HttpResponse<String> r = get("/metrics");
        if (r.statusCode() != 200) {
            throw new AssertionError("/metrics answered " + r.statusCode() + ": " + r.body());
        }
        return PromText.parse(r.body());
    }

    /** Scrapes until {@code condition} holds, or fails at the deadline showing the last scrape. */
    PromText awaitScrape(Duration deadline, String what, Predicate<PromText> condition) throws Exception {
        long end = System.nanoTime() + deadline.toNanos();
        PromText last;
        do {
            last = scrape();
            if (condition.test(last)) {
                return last;
            }
            Thread.sleep(25);
        } while (System.nanoTime() < end);
        throw new AssertionError("timed out waiting for " + what + "; last scrape had " + last.names());
    }

    /** GETs {@code path} until the response matches, or fails at the deadline with the last response. */
    HttpResponse<String> await(String path, Duration deadline, String what, Predicate<HttpResponse<String>> condition) throws Exception {
        long end = System.nanoTime() + deadline.toNanos();
        HttpResponse<String> last;
        do {
            last = get(path);
            if (condition.test(last)) {
                return last;
            }
            Thread.sleep(10);
        } while (System.nanoTime() < end);
        throw new AssertionError("timed out waiting for " + what + " on " + path + "; last: " + last.statusCode() + " " + last.body());
    }
}
