#!/usr/bin/env bash
# Replication sync under an insert load of 384-d rows written straight into PostgreSQL:
# rows/s the proxy's index keeps up with vs PostgreSQL alone (peer, same run), lag, and
# commit-to-searchable latency p50/p99. See ReplicationLagBenchmark for what is measured.
# Usage: tests/bench/replication-lag.sh   (WRITERS=2 DURATION=20 PACED=0.5; proxy and tests compiled:
#        ./mvnw -o -q -pl tests -am test-compile)
set -euo pipefail
WRITERS=${WRITERS:-2}
DURATION=${DURATION:-20}
PACED=${PACED:-0.5}
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
[[ -d tests/target/test-classes/io/neurondb/tests/bench ]] || { echo "not compiled; run: ./mvnw -o -q -pl tests -am test-compile" >&2; exit 2; }
./mvnw -q -o dependency:build-classpath -pl tests -am -Dmdep.includeScope=test -Dmdep.outputFile="$root/tests/target/bench.classpath" >/dev/null
cp="$root/tests/target/test-classes:$root/proxy/target/classes:$root/index-engine/target/classes:$root/gpu/target/classes:$root/plugins/api/target/classes:$(cat "$root/tests/target/bench.classpath")"
exec "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -Xmx3g \
  -Dwriters="$WRITERS" -Dduration="$DURATION" -Dpaced.fraction="$PACED" \
  -cp "$cp" io.neurondb.tests.bench.ReplicationLagBenchmark
