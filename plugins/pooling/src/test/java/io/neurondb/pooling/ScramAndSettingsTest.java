package io.neurondb.pooling;

import io.neurondb.plugin.api.BackendConnectionProvider.PoolMode;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The plugin's own arithmetic and parsing; logins against real servers and clients are in the tests module. */
class ScramAndSettingsTest {

    @Test
    void scramServerAcceptsTheRightPasswordOnly() {
        Secret.Scram verifier = Scram.verifierFor("pencil");
        for (String typed : List.of("pencil", "pencil2")) {
            Scram.ServerExchange server = new Scram.ServerExchange(verifier);
            Scram.ClientExchange client = new Scram.ClientExchange(typed, null, null);
            String serverFirst = server.clientFirst(client.clientFirst());
            String serverFinal = server.clientFinal(client.clientFinal(serverFirst));
            if (typed.equals("pencil")) {
                assertThat(serverFinal).startsWith("v=");
                assertThat(client.serverFinalValid(serverFinal)).isTrue();
                // The proven client key logs in again without the password (server login after a SCRAM client login).
                Scram.ClientExchange again = new Scram.ClientExchange(null, server.clientKey(), verifier.serverKey());
                Scram.ServerExchange server2 = new Scram.ServerExchange(verifier);
                assertThat(server2.clientFinal(again.clientFinal(server2.clientFirst(again.clientFirst())))).startsWith("v=");
            } else {
                assertThat(serverFinal).isNull();
            }
        }
    }

    @Test
    void scramRefusesChannelBinding() {
        Scram.ServerExchange server = new Scram.ServerExchange(Scram.verifierFor("x"));
        assertThatThrownBy(() -> server.clientFirst("p=tls-server-end-point,,n=,r=abc")).hasMessageContaining("channel binding");
    }

    @Test
    void md5MatchesPostgres() {
        // md5 + md5("md5pass" + "md5_user"), as pg_authid stores it for the test role.
        assertThat(Secret.md5Of("pencil", "user")).hasSize(32);
        assertThat(Secret.md5Response(Secret.md5Of("pencil", "user"), new byte[]{1, 2, 3, 4})).startsWith("md5").hasSize(35);
    }

    @Test
    void authFileReadsPgBouncerFormat() {
        AuthFile f = AuthFile.parse(List.of(
                "; comment",
                "\"alice\" \"plain\"\"quote\"",
                "\"bob\" \"md5" + "0123456789abcdef0123456789abcdef\"",
                "\"carol\" \"SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy\"",
                ""), "test");
        assertThat(f.secret("alice")).contains(new Secret.Plain("plain\"quote"));
        assertThat(f.secret("bob").orElseThrow()).isInstanceOf(Secret.Md5.class);
        Secret.Scram carol = (Secret.Scram) f.secret("carol").orElseThrow();
        assertThat(carol.iterations()).isEqualTo(4096);
        assertThat(f.secret("dave")).isEmpty();
        assertThat(f.secret("alice").orElseThrow().toString()).doesNotContain("plain");
        assertThatThrownBy(() -> AuthFile.parse(List.of("\"only-user\""), "bad")).hasMessageContaining("line 1");
    }

    @Test
    void settingsHavePgBouncerDefaultsAndEnvironmentOverrides() {
        PoolingSettings d = PoolingSettings.from(Map.of(), Map.of());
        assertThat(d.enabled()).isFalse();
        assertThat(d.poolMode()).isEqualTo(PoolMode.SESSION);
        assertThat(d.defaultPoolSize()).isEqualTo(20);
        assertThat(d.maxClientConn()).isEqualTo(100);
        assertThat(d.queryWaitTimeout()).isEqualTo(Duration.ofSeconds(120));
        assertThat(d.serverResetQuery()).isEqualTo("DISCARD ALL");
        assertThat(d.serverPipelining()).as("not PgBouncer's behaviour: asked for").isFalse();
        assertThat(d.serverPipelineDepth()).isEqualTo(3);
        PoolingSettings pipelined = PoolingSettings.from(Map.of("server_pipelining", "on", "server_pipeline_depth", 2), Map.of());
        assertThat(pipelined.serverPipelining()).isTrue();
        assertThat(pipelined.serverPipelineDepth()).isEqualTo(2);
        assertThat(pipelined.asConfigRows()).containsEntry("server_pipelining", "1").containsEntry("server_pipeline_depth", "2");
        PoolingSettings env = PoolingSettings.from(Map.of("auth_type", "trust"),
                Map.of("NEURONDB_POOL_MODE", "transaction", "NEURONDB_DEFAULT_POOL_SIZE", "7"));
        assertThat(env.enabled()).isTrue();
        assertThat(env.poolMode()).isEqualTo(PoolMode.TRANSACTION);
        assertThat(env.defaultPoolSize()).isEqualTo(7);
        PoolingSettings perUser = PoolingSettings.from(Map.of("users", Map.of("batch", Map.of("pool_mode", "session")),
                "databases", Map.of("app", Map.of("pool_mode", "transaction", "pool_size", 3))), Map.of());
        assertThat(perUser.modeFor("app", "batch")).isEqualTo(PoolMode.SESSION);
        assertThat(perUser.modeFor("app", "web")).isEqualTo(PoolMode.TRANSACTION);
        assertThat(perUser.poolSizeFor("app")).isEqualTo(3);
    }

    @Test
    void badSettingsNameTheKey() {
        assertThatThrownBy(() -> PoolingSettings.from(Map.of("pool_size", 3), Map.of())).hasMessageContaining("'pool_size'");
        assertThatThrownBy(() -> PoolingSettings.from(Map.of("pool_mode", "sometimes"), Map.of())).hasMessageContaining("pool_mode");
        assertThatThrownBy(() -> PoolingSettings.from(Map.of("enabled", true), Map.of())).hasMessageContaining("auth_file");
        assertThatThrownBy(() -> PoolingSettings.from(Map.of(), Map.of("NEURONDB_DEFAULT_POOL_SIZE", "0")))
                .hasMessageContaining("NEURONDB_DEFAULT_POOL_SIZE");
        assertThatThrownBy(() -> PoolingSettings.from(Map.of("server_pipeline_depth", 0), Map.of())).hasMessageContaining("server_pipeline_depth");
        assertThatThrownBy(() -> PoolingSettings.from(Map.of("server_pipeline_depth", 17), Map.of())).hasMessageContaining("at most 16");
        assertThatThrownBy(() -> PoolingSettings.from(Map.of("server_pipelining", "sometimes"), Map.of())).hasMessageContaining("server_pipelining");
    }

    /** Statement mode is refused wherever it can be set, rather than run as transaction mode. */
    @Test
    void statementPoolModeIsRefusedWithAMessage() {
        assertThatThrownBy(() -> PoolingSettings.from(Map.of("pool_mode", "statement"), Map.of()))
                .hasMessageContaining("plugins.pooling.pool_mode").hasMessageContaining("'statement' is not supported");
        assertThatThrownBy(() -> PoolingSettings.from(Map.of(), Map.of("NEURONDB_POOL_MODE", "statement")))
                .hasMessageContaining("NEURONDB_POOL_MODE").hasMessageContaining("not supported");
        assertThatThrownBy(() -> PoolingSettings.from(Map.of("databases", Map.of("app", Map.of("pool_mode", "statement"))), Map.of()))
                .hasMessageContaining("plugins.pooling.databases.app.pool_mode");
        assertThatThrownBy(() -> PoolingSettings.from(Map.of("users", Map.of("batch", Map.of("pool_mode", "Statement"))), Map.of()))
                .hasMessageContaining("plugins.pooling.users.batch.pool_mode");
    }
}
