#!/usr/bin/env bash
# Overhead of one plugin on the hot path: pgbench select-only through NeuronDB proxy without
# plugins and with the plugin PLUGIN, in one run on one PostgreSQL, targets interleaved round
# by round, in alternating order (the structure of pgbench-compare.sh). Prints TPS (median of
# ROUNDS), the ratio of the plugin target to the no-plugin one, the median of the per-round
# ratios (each pairs two runs a few seconds apart, so slow drifts of the machine's load cancel),
# and each proxy's CPU time per transaction from /proc (which outside load disturbs far less
# than TPS).
#
# Usage: PLUGIN=<id> tests/bench/plugin-overhead.sh   (after the plugin module's package)
# Knobs: DURATION=15 ROUNDS=3 CLIENTS=8 JOBS=2 SCALE=10 MODE=prepared WARMUP=20 EVENT_LOOPS=1
#        PLUGIN_ENV="NAME=value ..."   extra environment of the plugin target's proxy; the text
#                                      $PLUGIN_PORT in it becomes a free port picked for it
#        DURING_ROUND=<command>        run in the background during each plugin round with
#                                      $PLUGIN_PORT... set (e.g. a scraper); killed at round end
set -euo pipefail

PLUGIN=${PLUGIN:?set PLUGIN to a plugin id, e.g. metrics}
DURATION=${DURATION:-15}
ROUNDS=${ROUNDS:-3}
CLIENTS=${CLIENTS:-8}
JOBS=${JOBS:-2}
SCALE=${SCALE:-10}
MODE=${MODE:-prepared}
WARMUP=${WARMUP:-20}
EVENT_LOOPS=${EVENT_LOOPS:-1}
PLUGIN_ENV=${PLUGIN_ENV:-}
DURING_ROUND=${DURING_ROUND:-}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$root/tests/bench/lib/postgres.sh"
source "$root/tests/bench/lib/middles.sh"
jar="$(ls "$root"/plugins.d/neurondb-plugin-"$PLUGIN"-*.jar 2>/dev/null | head -1)"
[[ -n "$jar" ]] || { echo "plugin $PLUGIN not built into plugins.d: package its module first (./mvnw -o -q -pl <module> -am package -DskipTests)" >&2; exit 2; }

work="$(mktemp -d /tmp/neurondb-plugin-bench-XXXXXX)"
chmod 755 "$work"

pg_port=$(free_port)
proxy_pids=()
during_pid=
cleanup() {
  [[ -n "$during_pid" ]] && kill "$during_pid" 2>/dev/null || true
  for p in "${proxy_pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
  stop_cluster "$work/pg"
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/plugins-none" "$work/plugins-$PLUGIN"
cp "$jar" "$work/plugins-$PLUGIN/"
start_cluster "$work/pg" "$pg_port" max_connections=200 wal_level=logical

declare -A ports pids
targets=(no-plugins "$PLUGIN")
export PLUGIN_PORT=0
for t in "${targets[@]}"; do
  port=$(free_port)
  printf 'event_loops: %s\n' "$EVENT_LOOPS" >"$work/$t.yaml"
  plugins="$work/plugins-none"; extra=()
  if [[ $t == "$PLUGIN" ]]; then
    plugins="$work/plugins-$PLUGIN"
    PLUGIN_PORT=$(free_port)
    read -r -a extra <<<"${PLUGIN_ENV//\$PLUGIN_PORT/$PLUGIN_PORT}"
  fi
  start_neurondb "$root" "$work/$t.yaml" "$port" "$pg_port" "$work/data-$t" "$plugins" "$work/$t.log" "${extra[@]}"
  proxy_pids+=("$started_pid")
  pids[$t]=$started_pid
  ports[$t]=$port
done

for t in "${targets[@]}"; do
  await_server "${ports[$t]}" || true # a target that never answers shows as 0 tps
done
grep -q "plugin_start_failed" "$work/$PLUGIN.log" && { echo "plugin $PLUGIN failed to start:" >&2; cat "$work/$PLUGIN.log" >&2; exit 1; }

"$bindir/pgbench" -h 127.0.0.1 -p "$pg_port" -U postgres -i -q -s "$SCALE" postgres >/dev/null 2>&1

run() { # port seconds -> "tps transactions"
  "$bindir/pgbench" -h 127.0.0.1 -p "$1" -U postgres -n -S -M "$MODE" -c "$CLIENTS" -j "$JOBS" -T "$2" postgres 2>&1 \
    | awk '/^number of transactions actually processed/ {n=$NF} /^tps = / {t=$3} END {print t, n}'
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

declare -A results cpu
paired=""   # per-round TPS ratios (plugin / no-plugins): the two runs of a round share the machine's state
for t in "${targets[@]}"; do run "${ports[$t]}" "$WARMUP" >/dev/null; done   # warm-up: JIT, caches
declare -A round_tps
for r in $(seq 1 "$ROUNDS"); do
  # The order alternates (ABBA...): the target measured second in a round does not always meet
  # the same drift of the machine's load.
  order=("${targets[@]}")
  (( r % 2 == 0 )) && order=("${targets[1]}" "${targets[0]}")
  for t in "${order[@]}"; do
    if [[ $t == "$PLUGIN" && -n "$DURING_ROUND" ]]; then
      bash -c "$DURING_ROUND" & during_pid=$!
    fi
    backends=$(cluster_backends "$work/pg")
    c0=$(cpu_ticks "${pids[$t]}")
    read -r tps txs < <(run "${ports[$t]}" "$DURATION")
    await_backends "$work/pg" "$backends"   # a relay's server connections end with its clients
    c1=$(cpu_ticks "${pids[$t]}")
    if [[ -n "$during_pid" ]]; then kill "$during_pid" 2>/dev/null || true; wait "$during_pid" 2>/dev/null || true; during_pid=; fi
    us=$(awk -v d=$((c1 - c0)) -v n="$txs" -v hz="$hz" 'BEGIN{printf "%.1f", (n > 0 ? d * 1e6 / hz / n : 0)}')
    results[$t]+="$tps "
    round_tps[$t]=$tps
    cpu[$t]+="$us "
    printf 'round %d %-12s %10.0f tps  %6s us proxy CPU/tx\n' "$r" "$t" "$tps" "$us"
  done
  paired+="$(awk -v a="${round_tps[$PLUGIN]}" -v b="${round_tps[no-plugins]}" 'BEGIN{printf "%.4f", (b > 0 ? a / b : 0)}') "
done

declare -A med medcpu
for t in "${targets[@]}"; do
  med[$t]=$(tr ' ' '\n' <<<"${results[$t]}" | grep . | median)
  medcpu[$t]=$(tr ' ' '\n' <<<"${cpu[$t]}" | grep . | median)
done
echo
echo "pgbench -S -M $MODE -c $CLIENTS -j $JOBS -T $DURATION, scale $SCALE, event_loops $EVENT_LOOPS, median of $ROUNDS rounds, $(nproc) cores, $(date -u +%F)"
for t in "${targets[@]}"; do
  printf '%-12s %10.0f tps   x%.3f of no-plugins   %6s us proxy CPU/tx (median)\n' "$t" "${med[$t]}" \
    "$(awk -v a="${med[$t]}" -v b="${med[no-plugins]}" 'BEGIN{print a/b}')" "${medcpu[$t]}"
done
awk -v a="${med[$PLUGIN]}" -v b="${med[no-plugins]}" -v ca="${medcpu[$PLUGIN]}" -v cb="${medcpu[no-plugins]}" \
  'BEGIN{printf "overhead of %s: %.1f%% TPS, %+.1f%% proxy CPU per transaction\n", "'"$PLUGIN"'", (1 - a/b) * 100, (cb > 0 ? (ca/cb - 1) * 100 : 0)}'
pm=$(tr ' ' '\n' <<<"$paired" | grep . | median)
awk -v m="$pm" -v all="$paired" 'BEGIN{printf "median of the per-round TPS ratios: x%.3f (%.1f%% overhead); rounds: %s\n", m, (1 - m) * 100, all}'
