# Sourced by the benchmark drivers: CPU time of the processes around a run, from /proc, in
# clock ticks (tick_us microseconds each).

tick_us=$(( 1000000 / $(getconf CLK_TCK) ))

# cpu_ticks PID: user+system ticks of PID so far (0 when PID is empty or gone).
cpu_ticks() {
  if [[ -n "${1:-}" && -r "/proc/$1/stat" ]]; then awk '{print $14 + $15}' "/proc/$1/stat"; else echo 0; fi
}

# user_sys_ticks PID: "user system" ticks of PID so far ("0 0" when PID is empty or gone).
user_sys_ticks() {
  if [[ -n "${1:-}" && -r "/proc/$1/stat" ]]; then awk '{print $14, $15}' "/proc/$1/stat"; else echo "0 0"; fi
}

# cluster_ticks DATADIR: user+system ticks of the PostgreSQL cluster in DATADIR so far: the
# postmaster with its exited children, and its live ones.
cluster_ticks() {
  local pm; pm=$(head -1 "$1/postmaster.pid")
  { awk '{print $14 + $15 + $16 + $17}' "/proc/$pm/stat"
    for p in $(pgrep -P "$pm"); do awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || true; done
  } | awk '{s += $1} END {print s + 0}'
}

# cluster_backends DATADIR: how many processes the cluster's postmaster has now.
cluster_backends() { pgrep -c -P "$(head -1 "$1/postmaster.pid")" || true; }

# await_backends DATADIR COUNT: waits (up to 10 s) until the postmaster has no more than COUNT
# processes, so the CPU time of backends a run ended is in the postmaster's count of exited
# children before it is read; otherwise it lands in the next run's figure.
await_backends() {
  local _
  for _ in $(seq 1 100); do
    [[ $(cluster_backends "$1") -le $2 ]] && return 0
    sleep 0.1
  done
}

# children_seconds FILE: the CPU seconds (user + system) of a subshell's children, from the
# output of bash's `times` saved in FILE (its second line); empty when FILE is missing.
children_seconds() {
  awk 'NR == 2 {for (i = 1; i <= 2; i++) {split($i, p, "m"); s += p[1] * 60 + p[2]}; print s}' "$1" 2>/dev/null || true
}

# median: the median of the numbers on stdin (whitespace-separated); "-" when there are none.
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {if (NR == 0) print "-"; else print a[int((NR + 1) / 2)]}'; }
