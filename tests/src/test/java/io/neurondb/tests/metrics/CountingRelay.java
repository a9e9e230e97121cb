package io.neurondb.tests.metrics;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP relay on 127.0.0.1 between one client and a target port that counts the bytes going each
 * way: what a client sent and received, counted outside the proxy, to compare with the proxy's
 * own byte counters. It serves one connection, then stops listening.
 */
final class CountingRelay implements AutoCloseable {

    private final ServerSocket listener;
    private final AtomicLong toTarget = new AtomicLong();
    private final AtomicLong fromTarget = new AtomicLong();
    /** Both directions copied to their end. */
    private final CountDownLatch done = new CountDownLatch(2);
    private volatile Socket client;
    private volatile Socket target;

    CountingRelay(int targetPort) throws IOException {
        listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().start(() -> {
            try {
                client = listener.accept();
                listener.close();
                target = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                Thread.ofVirtual().start(() -> copy(client, target, toTarget));
                Thread.ofVirtual().start(() -> copy(target, client, fromTarget));
            } catch (IOException e) {
                done.countDown();
                done.countDown();
            }
        });
    }

    int port() {
        return listener.getLocalPort();
    }

    private void copy(Socket from, Socket to, AtomicLong count) {
        byte[] buf = new byte[8192];
        try {
            // Not closed here: closing a socket's stream closes the socket, and the other direction still runs.
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            int n;
            while ((n = in.read(buf)) >= 0) {
                out.write(buf, 0, n);
                out.flush();
                count.addAndGet(n);
            }
        } catch (IOException e) {
            // the other side closed; what was copied is counted
        } finally {
            try {
                to.shutdownOutput();
            } catch (IOException | RuntimeException ignored) {
                // already closed
            }
            done.countDown();
        }
    }

    /** Waits until both directions reached their end (the client and the proxy closed). */
    void awaitClosed(long seconds) throws InterruptedException {
        if (!done.await(seconds, TimeUnit.SECONDS)) {
            throw new AssertionError("relay still open after " + seconds + " s: " + toTarget.get() + " bytes in, " + fromTarget.get() + " out");
        }
    }

    /** Bytes the client sent to the target. */
    long clientSent() {
        return toTarget.get();
    }

    /** Bytes the target sent to the client. */
    long clientReceived() {
        return fromTarget.get();
    }

    @Override
    public void close() throws IOException {
        listener.close();
        for (Socket s : new Socket[]{client, target}) {
            if (s != null) {
                s.close();
            }
        }
    }
}
