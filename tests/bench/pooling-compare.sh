#!/usr/bin/env bash
# Pooling benchmark: pgbench select-only (-S) with the prepared and the simple protocol at 8, 64
# and 256 clients against PostgreSQL directly, through NeuronDB proxy's pooling plugin and
# through PgBouncer, both in transaction mode with a pool of 10 server connections, in one run
# on one server. Prints TPS and p99 latency (from pgbench's per-transaction log) side by side,
# with the proxy/PgBouncer TPS ratio.
#
# Usage: tests/bench/pooling-compare.sh     (after ./mvnw -DskipTests package -pl proxy,plugins/pooling -am)
# Knobs: DURATION=10 CLIENT_COUNTS="8 64 256" MODES="prepared simple" POOL=10 JOBS=2 SCALE=10 WARMUP=10 EVENT_LOOPS=2
set -euo pipefail

DURATION=${DURATION:-10}
CLIENT_COUNTS=${CLIENT_COUNTS:-8 64 256}
MODES=${MODES:-prepared simple}
POOL=${POOL:-10}
JOBS=${JOBS:-2}
SCALE=${SCALE:-10}
WARMUP=${WARMUP:-10}
EVENT_LOOPS=${EVENT_LOOPS:-2}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bindir="$(pg_config --bindir 2>/dev/null || true)"
if [[ ! -x "$bindir/initdb" ]]; then
  bindir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
fi
command -v pgbouncer >/dev/null || { echo "pgbouncer not installed (apt-get install -y pgbouncer)" >&2; exit 2; }
jar="$(ls "$root"/plugins.d/neurondb-plugin-pooling-*.jar 2>/dev/null | head -1)"
[[ -n "$jar" ]] || { echo "pooling plugin not built: ./mvnw -DskipTests package -pl plugins/pooling -am" >&2; exit 2; }

work="$(mktemp -d /tmp/neurondb-poolbench-XXXXXX)"
chmod 755 "$work"
as_pg() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

pg_port=$(free_port); bouncer_port=$(free_port); proxy_port=$(free_port)
proxy_pid=""
cleanup() {
  [[ -n "$proxy_pid" ]] && kill "$proxy_pid" 2>/dev/null && wait "$proxy_pid" 2>/dev/null || true
  [[ -f "$work/pgbouncer.pid" ]] && kill "$(cat "$work/pgbouncer.pid")" 2>/dev/null || true
  as_pg "$bindir/pg_ctl" stop -D "$work/pg" -m immediate >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/pg" "$work/plugins" "$work/logs" && [[ $(id -u) -eq 0 ]] && chown postgres:postgres "$work" "$work/pg" "$work/logs"
chmod 777 "$work/logs"
cp "$jar" "$work/plugins/"
as_pg "$bindir/initdb" -D "$work/pg" -U postgres --auth=trust --no-sync >/dev/null
as_pg "$bindir/pg_ctl" start -w -D "$work/pg" -l "$work/pg/server.log" \
  -o "-p $pg_port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$work/pg -c max_connections=300" >/dev/null

cat >"$work/proxy.yaml" <<YAML
event_loops: $EVENT_LOOPS
plugins:
  pooling:
    enabled: true
    pool_mode: transaction
    default_pool_size: $POOL
    max_client_conn: 600
    auth_type: trust
YAML
NEURONDB_CONFIG="$work/proxy.yaml" NEURONDB_LISTEN="127.0.0.1:$proxy_port" \
NEURONDB_UPSTREAM="postgresql://postgres@127.0.0.1:$pg_port/postgres" NEURONDB_METRICS_PORT=0 \
NEURONDB_DATA_DIR="$work/proxy-data" NEURONDB_PLUGINS_DIR="$work/plugins" NEURONDB_LOG_LEVEL=WARN \
  "$root/bin/neurondb-proxy" >"$work/proxy.log" 2>&1 &
proxy_pid=$!

cat >"$work/pgbouncer.ini" <<INI
[databases]
postgres = host=127.0.0.1 port=$pg_port dbname=postgres
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bouncer_port
unix_socket_dir =
auth_type = trust
auth_file = $work/userlist.txt
pool_mode = transaction
max_client_conn = 600
$(pgbouncer --version | awk 'NR==1 {split($2, v, "."); if (v[1] > 1 || v[2] >= 21) print "max_prepared_statements = 200"}')
default_pool_size = $POOL
logfile = $work/pgbouncer.log
pidfile = $work/pgbouncer.pid
INI
echo '"postgres" ""' >"$work/userlist.txt"
[[ $(id -u) -eq 0 ]] && chown postgres:postgres "$work/pgbouncer.ini" "$work/userlist.txt"
as_pg pgbouncer -d "$work/pgbouncer.ini"

declare -A ports=([direct]=$pg_port [neurondb]=$proxy_port [pgbouncer]=$bouncer_port)
targets=(direct neurondb pgbouncer)
for t in "${targets[@]}"; do
  for i in $(seq 1 150); do
    "$bindir/psql" -h 127.0.0.1 -p "${ports[$t]}" -U postgres -Atc 'select 1' postgres >/dev/null 2>&1 && break
    sleep 0.2
  done
done
"$bindir/pgbench" -h 127.0.0.1 -p "$pg_port" -U postgres -i -q -s "$SCALE" postgres >/dev/null 2>&1

run() { # port mode clients seconds -> "tps p99_ms"
  local dir="$work/logs/run-$RANDOM$RANDOM"
  mkdir -p "$dir"
  # A failing run (PgBouncer before 1.21 cannot do -M prepared in transaction mode) shows as 0 tps.
  { (cd "$dir" && "$bindir/pgbench" -h 127.0.0.1 -p "$1" -U postgres -n -S -M "$2" -c "$3" -j "$JOBS" -T "$4" -l postgres 2>&1) || true; } \
    | awk '/^tps = / {t=$3} /aborted|error/ {e=1} END {printf "%s ", (e || t == "") ? 0 : t}'
  { cat "$dir"/pgbench_log.* 2>/dev/null || true; } | awk '{print $3}' | sort -n \
    | awk '{a[NR]=$1} END {if (NR == 0) print "n/a"; else {i=int(NR*0.99); if (i < 1) i=1; printf "%.2f\n", a[i]/1000}}'
  rm -rf "$dir"
}

echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')  machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "pgbench -S, $DURATION s per cell, pool $POOL (transaction mode) for neurondb and pgbouncer, scale $SCALE"
for t in "${targets[@]}"; do run "${ports[$t]}" prepared 8 "$WARMUP" >/dev/null; done   # warm-up (JIT, caches)
printf '%-9s %7s | %12s %9s | %12s %9s | %12s %9s | %s\n' mode clients "direct tps" "p99 ms" "neurondb tps" "p99 ms" "pgbouncer tps" "p99 ms" "neurondb/pgbouncer"
for mode in $MODES; do
  for c in $CLIENT_COUNTS; do
    declare -A tps p99
    for t in "${targets[@]}"; do
      read -r tps[$t] p99[$t] < <(run "${ports[$t]}" "$mode" "$c" "$DURATION")
    done
    ratio=$(awk -v a="${tps[neurondb]:-0}" -v b="${tps[pgbouncer]:-0}" 'BEGIN{printf (b > 0 ? "%.2f" : "n/a"), (b > 0 ? a / b : 0)}')
    printf '%-9s %7s | %12.0f %9s | %12.0f %9s | %12.0f %9s | %s\n' "$mode" "$c" "${tps[direct]:-0}" "${p99[direct]}" \
      "${tps[neurondb]:-0}" "${p99[neurondb]}" "${tps[pgbouncer]:-0}" "${p99[pgbouncer]}" "$ratio"
  done
done
