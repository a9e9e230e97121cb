#!/usr/bin/env bash
# Overhead of the metrics plugin: pgbench -S through the proxy without plugins and with the
# metrics plugin serving /metrics (every statement goes through the statement tracker and the
# plugin's timers; the proxy's own connection and byte counters run in both targets), with
# /metrics scraped at the start of each of the plugin's rounds and then every SCRAPE_INTERVAL
# seconds (Prometheus' usual 15 s by default; a scrape costs the proxy a few ms of CPU, which
# the per-transaction CPU figure includes). A failed scrape is reported on stderr.
# The run itself is tests/bench/plugin-overhead.sh; the target is under 3% TPS.
#
# Usage: tests/bench/metrics-overhead.sh   (after ./mvnw -o -q -pl metrics-plugin -am package -DskipTests)
# Knobs: as plugin-overhead.sh (DURATION, ROUNDS, CLIENTS, JOBS, SCALE, MODE, WARMUP, EVENT_LOOPS),
#        SCRAPE_INTERVAL=15
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export PLUGIN=metrics
# The plugin target's proxy gets a metrics port (plugin-overhead.sh picks it as $PLUGIN_PORT).
export PLUGIN_ENV='NEURONDB_METRICS_PORT=$PLUGIN_PORT'
export SCRAPE_INTERVAL=${SCRAPE_INTERVAL:-15}
export DURING_ROUND='while :; do curl -sf "http://127.0.0.1:$PLUGIN_PORT/metrics" -o /dev/null || echo "scrape failed" >&2; sleep "$SCRAPE_INTERVAL"; done'
exec "$here/plugin-overhead.sh"
