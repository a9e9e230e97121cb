#!/usr/bin/env bash
# Slow-query capture overhead: pgbench select-only through NeuronDB proxy without plugins and
# with the slow-query plugin (every statement goes through the statement tracker, the plugin's
# queue, normalisation and the summary figures; none is slow enough to be written).
# MODE=simple (the default here) sends every statement with its literal, a new text each time,
# so normalisation cannot be served from its cache; MODE=prepared sends one text.
# The run itself is tests/bench/plugin-overhead.sh.
#
# Usage: tests/bench/slowquery-overhead.sh   (after ./mvnw -o -q -pl plugins/slow-query -am package -DskipTests)
# Knobs: as plugin-overhead.sh (DURATION, ROUNDS, CLIENTS, JOBS, SCALE, MODE, WARMUP, EVENT_LOOPS)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export PLUGIN=slow-query
export MODE=${MODE:-simple}
exec "$here/plugin-overhead.sh"
