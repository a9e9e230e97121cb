# Sourced by the benchmark drivers: PostgreSQL's binaries, running them as the postgres OS user
# when root (initdb refuses root), free loopback ports, and a throwaway cluster.

bindir="$(pg_config --bindir 2>/dev/null || true)"
if [[ ! -x "$bindir/initdb" ]]; then
  bindir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
fi

as_pg() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_cluster DIR PORT [SETTING...]: a new cluster in DIR (its parent must be traversable by
# postgres), listening on 127.0.0.1:PORT and a socket in DIR; each SETTING is a -c name=value.
start_cluster() {
  local dir=$1 port=$2 opts="" s
  shift 2
  for s in "$@"; do opts+=" -c $s"; done
  mkdir -p "$dir" && [[ $(id -u) -eq 0 ]] && chown postgres:postgres "$dir"
  as_pg "$bindir/initdb" -D "$dir" -U postgres --auth=trust --no-sync >/dev/null
  as_pg "$bindir/pg_ctl" start -w -D "$dir" -l "$dir/server.log" \
    -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir$opts" >/dev/null
}

# stop_cluster DIR: stops it at once (the data is thrown away).
stop_cluster() {
  as_pg "$bindir/pg_ctl" stop -D "$1" -m immediate >/dev/null 2>&1 || true
}

# await_server PORT: waits up to 30 s until PostgreSQL, or a proxy or pooler in front of it,
# answers a query on 127.0.0.1:PORT; returns 1 if it never does.
await_server() {
  local _
  for _ in $(seq 1 150); do
    "$bindir/psql" -h 127.0.0.1 -p "$1" -U postgres -Atc 'select 1' postgres >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  return 1
}

# cluster_backends DATADIR: how many processes the cluster's postmaster has now.
cluster_backends() { pgrep -c -P "$(head -1 "$1/postmaster.pid")" || true; }

# await_backends DATADIR COUNT: waits (up to 10 s) until the postmaster has no more than COUNT
# processes. Backends a run ended (its clients', or a relay's that closes with them) are still
# exiting when pgbench returns: without the wait their CPU time lands in the next run's figures
# (the postmaster's count of exited children, the machine's busy time) and competes with it.
await_backends() {
  local _
  for _ in $(seq 1 100); do
    [[ $(cluster_backends "$1") -le $2 ]] && return 0
    sleep 0.1
  done
}
