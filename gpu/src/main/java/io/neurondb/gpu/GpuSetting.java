package io.neurondb.gpu;

import java.util.Locale;

/**
 * What the operator asked for with {@code neurondb.gpu}. {@code auto} (the default) uses a
 * GPU when one works; {@code on} does the same but a fallback is logged as a warning, since
 * someone expected a GPU; {@code off} never loads CUDA's native libraries at all, which is
 * the escape hatch for a driver that misbehaves.
 */
public enum GpuSetting {
    AUTO,
    ON,
    OFF;

    /** System property and config key. */
    public static final String PROPERTY = "neurondb.gpu";

    /**
     * Parses a setting; {@code null} or blank means {@link #AUTO}. An unknown value is a
     * configuration error and fails loudly rather than silently picking a mode.
     */
    public static GpuSetting parse(String value) {
        if (value == null || value.isBlank()) {
            return AUTO;
        }
        return switch (value.strip().toLowerCase(Locale.ROOT)) {
            case "auto" -> AUTO;
            case "on", "true", "cuda" -> ON;
            case "off", "false", "cpu" -> OFF;
            default -> throw new IllegalArgumentException(
                    PROPERTY + "=" + value + " is not one of auto, on, off");
        };
    }

    /** The setting of the {@value #PROPERTY} system property. */
    public static GpuSetting fromSystemProperty() {
        return parse(System.getProperty(PROPERTY));
    }
}
