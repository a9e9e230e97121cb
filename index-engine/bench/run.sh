#!/usr/bin/env bash
# Runs the index engine benchmark (src/test/java/io/neurondb/engine/bench/IndexBench.java).
# Usage: index-engine/bench/run.sh [synthetic|minilm|all]   (default: all)
# The MiniLM dataset is embedded on first use (a few minutes) and cached in index-engine/bench/data/.
set -euo pipefail
cd "$(dirname "$0")/../.."
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
./mvnw -q -pl index-engine -am install -DskipTests
./mvnw -q -pl index-engine test-compile dependency:build-classpath \
  -Dmdep.outputFile="$PWD/index-engine/target/bench.classpath" -Dmdep.includeScope=test
CP="index-engine/target/test-classes:index-engine/target/classes:$(cat index-engine/target/bench.classpath)"
exec "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
  -Xmx8g -cp "$CP" io.neurondb.engine.bench.IndexBench "${1:-all}" index-engine/bench/data
