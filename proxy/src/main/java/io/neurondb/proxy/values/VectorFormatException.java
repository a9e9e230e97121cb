package io.neurondb.proxy.values;

/**
 * A vector value the proxy refused, worded and coded as pgvector (or PostgreSQL) would refuse it,
 * so a client sees the same error whether the check ran in the proxy or in the server.
 *
 * <p>{@link #primaryMessage()} is what goes into an ErrorResponse's message field and
 * {@link #context()} (null when there is none) into its context field. {@link #getMessage()}
 * joins the two for logs and for callers that have only one line to show.
 */
public final class VectorFormatException extends RuntimeException {

    /** pgvector's limit, {@code VECTOR_MAX_DIM}. */
    public static final int MAX_DIMENSIONS = 16000;

    static final String INVALID_TEXT_REPRESENTATION = "22P02";
    static final String DATA_EXCEPTION = "22000";
    static final String NUMERIC_VALUE_OUT_OF_RANGE = "22003";
    static final String NULL_VALUE_NOT_ALLOWED = "22004";
    static final String INVALID_BINARY_REPRESENTATION = "22P03";
    static final String DATATYPE_MISMATCH = "42804";
    static final String PROGRAM_LIMIT_EXCEEDED = "54000";

    /** Longer inputs are cut in messages: a 16000-dimension literal is ~200 KB of error text. */
    static final int MAX_QUOTED_INPUT = 100;

    private final String sqlState;
    private final String primaryMessage;
    private final String context;

    VectorFormatException(String sqlState, String primaryMessage) {
        this(sqlState, primaryMessage, null);
    }

    private VectorFormatException(String sqlState, String primaryMessage, String context) {
        // No stack trace: this reports bad client data, not a fault in the proxy, and a client
        // sending many bad rows should not cost a stack walk each.
        super(context == null ? primaryMessage : context + ": " + primaryMessage, null, false, false);
        this.sqlState = sqlState;
        this.primaryMessage = primaryMessage;
        this.context = context;
    }

    /** The PostgreSQL SQLSTATE for the ErrorResponse. */
    public String sqlState() {
        return sqlState;
    }

    /** The message without context, as pgvector words it. */
    public String primaryMessage() {
        return primaryMessage;
    }

    /** Where the value came from, e.g. {@code COPY items, line 3, column embedding: "[1,x]"}; or null. */
    public String context() {
        return context;
    }

    /** The same error with a context line added (replacing any earlier one). */
    public VectorFormatException withContext(String context) {
        return new VectorFormatException(sqlState, primaryMessage, context);
    }

    // ---- the errors, one factory each so the wording lives in one place ----

    public static VectorFormatException invalidSyntax(CharSequence input) {
        return new VectorFormatException(INVALID_TEXT_REPRESENTATION,
                "invalid input syntax for type vector: \"" + quotable(input) + "\"");
    }

    public static VectorFormatException noDimensions() {
        return new VectorFormatException(DATA_EXCEPTION, "vector must have at least 1 dimension");
    }

    public static VectorFormatException tooManyDimensions() {
        return new VectorFormatException(PROGRAM_LIMIT_EXCEEDED,
                "vector cannot have more than " + MAX_DIMENSIONS + " dimensions");
    }

    public static VectorFormatException nanNotAllowed() {
        return new VectorFormatException(DATA_EXCEPTION, "NaN not allowed in vector");
    }

    public static VectorFormatException infiniteNotAllowed() {
        return new VectorFormatException(DATA_EXCEPTION, "infinite value not allowed in vector");
    }

    /** An element that strtof would overflow to infinity; {@code token} is the number as written. */
    public static VectorFormatException outOfRange(CharSequence token) {
        return new VectorFormatException(NUMERIC_VALUE_OUT_OF_RANGE,
                "\"" + quotable(token) + "\" is out of range for type vector");
    }

    /** pgvector's typmod check: a {@code vector(expected)} column given {@code actual} dimensions. */
    public static VectorFormatException dimensionMismatch(int expected, int actual) {
        return new VectorFormatException(DATA_EXCEPTION,
                "expected " + expected + " dimensions, not " + actual);
    }

    /** pgvector's array_to_vector wording. */
    public static VectorFormatException arrayNotOneDimensional() {
        return new VectorFormatException(DATA_EXCEPTION, "array must be 1-D");
    }

    /** pgvector's array_to_vector wording. */
    public static VectorFormatException arrayContainsNulls() {
        return new VectorFormatException(NULL_VALUE_NOT_ALLOWED, "array must not contain nulls");
    }

    static VectorFormatException malformedRealArray(CharSequence input, String detail) {
        return new VectorFormatException(INVALID_TEXT_REPRESENTATION,
                "malformed array literal: \"" + quotable(input) + "\" (" + detail + ")");
    }

    static VectorFormatException badBinary(String what) {
        return new VectorFormatException(INVALID_BINARY_REPRESENTATION, what);
    }

    static VectorFormatException dataException(String message) {
        return new VectorFormatException(DATA_EXCEPTION, message);
    }

    static VectorFormatException datatypeMismatch(String message) {
        return new VectorFormatException(DATATYPE_MISMATCH, message);
    }

    /** The input as it may appear in a message: cut to a readable length, marked with "...". */
    static String quotable(CharSequence input) {
        if (input.length() <= MAX_QUOTED_INPUT) {
            return input.toString();
        }
        int cut = MAX_QUOTED_INPUT;
        // Do not split a surrogate pair: half a character would print as garbage.
        if (Character.isHighSurrogate(input.charAt(cut - 1))) {
            cut--;
        }
        return input.subSequence(0, cut) + "...";
    }
}
