#!/usr/bin/env bash
# Overhead of the metrics plugin: pgbench -S through the proxy without plugins and with the
# metrics plugin serving /metrics (every statement goes through the statement tracker and the
# plugin's timers; the proxy's own connection and byte counters run in both targets), with a
# scrape of /metrics every second during the plugin's rounds, as a busy Prometheus would.
# The run itself is tests/bench/plugin-overhead.sh; the target is under 3% TPS.
#
# Usage: tests/bench/metrics-overhead.sh   (after ./mvnw -o -q -pl metrics-plugin -am package -DskipTests)
# Knobs: as plugin-overhead.sh (DURATION, ROUNDS, CLIENTS, JOBS, SCALE, MODE, WARMUP, EVENT_LOOPS)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export PLUGIN=metrics
# The plugin target's proxy gets a metrics port (plugin-overhead.sh picks it as $PLUGIN_PORT).
export PLUGIN_ENV='NEURONDB_METRICS_PORT=$PLUGIN_PORT'
export DURING_ROUND='while :; do curl -sf "http://127.0.0.1:$PLUGIN_PORT/metrics" -o /dev/null || echo "scrape failed" >&2; sleep 1; done'
exec "$here/plugin-overhead.sh"
