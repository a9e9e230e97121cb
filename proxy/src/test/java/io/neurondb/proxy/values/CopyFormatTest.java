package io.neurondb.proxy.values;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CopyFormatTest {

    @Test
    void postgresDefaults() {
        assertThat(CopyFormat.text()).isEqualTo(new CopyFormat(CopyFormat.Kind.TEXT, '\t', "\\N", '"', '"', false));
        assertThat(CopyFormat.csv()).isEqualTo(new CopyFormat(CopyFormat.Kind.CSV, ',', "", '"', '"', false));
        assertThat(CopyFormat.csv().isCsv()).isTrue();
        assertThat(CopyFormat.text().isCsv()).isFalse();
    }

    @Test
    void escapeFollowsQuoteUnlessSetSeparately() {
        assertThat(CopyFormat.csv().withQuote('\'').escape()).isEqualTo('\'');
        assertThat(CopyFormat.csv().withEscape('\\').withQuote('\'').escape()).isEqualTo('\\');
    }

    @Test
    void refusesWhatPostgresRefuses() {
        assertThatThrownBy(() -> CopyFormat.csv().withDelimiter('"')).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> CopyFormat.text().withDelimiter('\n')).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> CopyFormat.text().withDelimiter('\u00e9')).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new VectorColumn(-1, "v")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new CopyInTranslator(CopyFormat.text(), "t",
                java.util.List.of(new VectorColumn(1, "a"), new VectorColumn(1, "b"))))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
