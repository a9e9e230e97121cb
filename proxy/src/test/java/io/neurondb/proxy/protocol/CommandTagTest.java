package io.neurondb.proxy.protocol;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class CommandTagTest {

    /** A CommandComplete in the middle of a larger buffer, as frames usually are. */
    private static Frame commandComplete(String tag) {
        byte[] text = tag.getBytes(StandardCharsets.UTF_8);
        Buffer b = Buffer.buffer().appendString("junk")
                .appendByte(PgProtocol.COMMAND_COMPLETE).appendInt(4 + text.length + 1).appendBytes(text).appendByte((byte) 0)
                .appendString("Z");
        return new Frame(PgProtocol.COMMAND_COMPLETE, b, 4, 4 + 1 + 4 + text.length + 1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"SELECT 1", "SELECT 0", "INSERT 0 5", "UPDATE 1234567", "DELETE 9223372036854775807",
            "SELECT 99999999999999999999", "BEGIN", "CREATE TABLE", "SELECT ", "123", "", "COPY 42", "FETCH 3x", "MOVE  7"})
    void rowsReadInPlaceAgreeWithTheDecodedTag(String tag) {
        Frame f = commandComplete(tag);
        assertThat(CommandTag.rowsOf(f)).as(tag).isEqualTo(CommandTag.decode(f).rows());
    }

    @ParameterizedTest
    @ValueSource(strings = {"SELECT 1", "INSERT 0 5"})
    void rowsOfCountingTags(String tag) {
        assertThat(CommandTag.rowsOf(commandComplete(tag))).isEqualTo(Long.parseLong(tag.substring(tag.lastIndexOf(' ') + 1)));
    }
}
