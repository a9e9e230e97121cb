package io.neurondb.gpu;

import java.util.ArrayList;
import java.util.List;

/** Turning native-loading and driver failures into the one-line reasons that get logged. */
final class Failures {

    private static final String LINK_ERROR_PREFIX = UnsatisfiedLinkError.class.getName() + ": ";

    private Failures() {
    }

    /**
     * Out-of-memory and stack overflow say nothing about CUDA and must not be mistaken for
     * "no GPU": let them through.
     */
    static void rethrowIfFatal(Throwable t) {
        if (t instanceof VirtualMachineError fatal) {
            throw fatal;
        }
    }

    /**
     * One line saying what failed. JCuda's loader packs its attempts into one multi-line
     * message ("Error while loading native library ..." followed by nested stack traces);
     * the part an operator needs is the dynamic linker's complaint buried in it, e.g.
     * {@code libcuda.so.1: cannot open shared object file}, so that is pulled out and
     * appended to the first line of the outermost message.
     */
    static String describe(Throwable failure) {
        String head = firstLine(message(failure));
        String linkerComplaint = null;
        for (Throwable t : chain(failure)) {
            for (String line : message(t).split("\n")) {
                String complaint = linkerComplaint(line.strip());
                if (complaint != null) {
                    linkerComplaint = complaint;
                }
            }
        }
        if (linkerComplaint == null || head.contains(linkerComplaint)) {
            return head;
        }
        return head + " (" + linkerComplaint + ")";
    }

    static String firstLine(String text) {
        int newline = text.indexOf('\n');
        return (newline < 0 ? text : text.substring(0, newline)).strip();
    }

    /**
     * {@code "java.lang.UnsatisfiedLinkError: /tmp/libX.so: libcuda.so.1: cannot open ..."}
     * becomes {@code "libX.so: libcuda.so.1: cannot open ..."}; "not on java.library.path"
     * lines are JCuda's first, expected miss and are skipped.
     */
    private static String linkerComplaint(String line) {
        if (!line.startsWith(LINK_ERROR_PREFIX) || line.contains("java.library.path")) {
            return null;
        }
        String complaint = line.substring(LINK_ERROR_PREFIX.length());
        int colon = complaint.indexOf(": ");
        if (colon > 0 && complaint.startsWith("/")) {
            String path = complaint.substring(0, colon);
            complaint = path.substring(path.lastIndexOf('/') + 1) + complaint.substring(colon);
        }
        return complaint;
    }

    private static List<Throwable> chain(Throwable failure) {
        List<Throwable> chain = new ArrayList<>();
        for (Throwable t = failure; t != null && !chain.contains(t); t = t.getCause()) {
            chain.add(t);
        }
        return chain;
    }

    private static String message(Throwable t) {
        String message = t.getMessage();
        return message == null || message.isBlank() ? t.getClass().getName() : message.strip();
    }
}
