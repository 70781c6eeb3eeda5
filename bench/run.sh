#!/usr/bin/env bash
# The benchmark suite. Prints a table, then one `name value unit` line per figure.
#
#   ./bench/run.sh           full runs (10 s per measurement), release build
#   ./bench/run.sh --quick   3 s per measurement, release build (well under 3 minutes)
#   ./bench/run.sh --smoke   1 s per measurement on the debug build: checks that it all runs
#
# Sections: the endpoint (scenario 1), the controller (scenarios 2-5), the soak (6: one
# client holding long polls while another is served), a busy endpoint (7) and events (8). Each adds
# its table to
# `tables` and its `name value unit` lines to `results`; both are printed at the end.
#
# Endpoint: servers run pinned to CPU 0 and the load generator (wrk, one thread) to CPU 1, so
# neither steals the other's core; wrk's own CPU time is printed beside each run.
# Controller: each driver in bench/src/bin starts `controller-under-test` in a process of its
# own (both cores, not pinned) and prints its figures, its own CPU among them.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=10
profile=release
# Controller sizes: scenario 2 tasks, 3/5 pending tasks and lateness window (s), 4 long polls
# and idle time (s).
# The soak: long polls from one client (scaled down to the descriptor limit, which the driver
# reports) and seconds of the other client's traffic; 7 busy-endpoint provisions.
e2e_tasks=20000; pending=100000; window=10; polls=10000; idle=10; soak_polls=20000; soak_secs=10
soak_share=; busy_tasks=2000
# Events: subscribers of one resource, and changes of it (each notifying every subscriber).
subscribers=20; changes=500
case "${1:-}" in
  --quick) duration=3; e2e_tasks=5000; pending=20000; window=5; idle=3; soak_secs=3; changes=200 ;;
  --smoke) duration=1; profile=dev; e2e_tasks=100; pending=300; window=1; polls=200; idle=1
    # A share of 100 connections, so that the smoke run refuses most of its polls too.
    soak_polls=300; soak_secs=1; soak_share=100; busy_tasks=100
    subscribers=5; changes=10 ;;
  "") ;;
  *) echo "usage: $0 [--quick|--smoke]" >&2; exit 2 ;;
esac

if ! command -v wrk >/dev/null; then
  echo "installing wrk (the load generator) from Debian" >&2
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi

# The long polls hold one socket each, on both sides.
ulimit -n "$(ulimit -Hn)"

cargo build --profile "$profile" -q -p async-provisioning -p aps-bench
bin="target/$([ "$profile" = dev ] && echo debug || echo release)"

cpu_server="taskset -c 0"
cpu_load="taskset -c 1"
[ "$(nproc)" -ge 2 ] || { cpu_server=""; cpu_load=""; }

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_port() {
  for _ in $(seq 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "server on port $1 did not start" >&2
  exit 1
}

# start NAME CMD... : starts a server on a free port, sets $port.
start() {
  port=$(free_port)
  local name=$1; shift
  # shellcheck disable=SC2086
  $cpu_server "$@" "127.0.0.1:$port" >"/tmp/aps-bench-$name.log" 2>&1 &
  pids+=($!)
  wait_port "$port"
}

# Converts wrk's latency (850.00us, 1.20ms, 2.00s) to milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u);
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000;
    printf "%.3f", n }'
}

declare -A fig
rows=()

# measure NAME PHASE PORT: one wrk run; records NAME_rps, NAME_p50_ms, NAME_p99_ms.
measure() {
  local name=$1 phase=$2 port=$3 out cpu
  local TIMEFORMAT='%U %S'
  { time APS_PHASE=$phase $cpu_load wrk -t1 -c32 -d"${duration}s" --latency \
      -s bench/wrk/provision.lua "http://127.0.0.1:$port" >"/tmp/aps-bench-wrk.out"; } 2>"/tmp/aps-bench-time"
  out=$(cat /tmp/aps-bench-wrk.out)
  cpu=$(awk '{printf "%.1f", $1 + $2}' /tmp/aps-bench-time)
  local bad rps p50 p99
  bad=$(awk '/^unexpected_statuses/ {print $2}' <<<"$out")
  [ "${bad:-1}" = 0 ] || { echo "$name: $bad unexpected answers" >&2; echo "$out" >&2; exit 1; }
  rps=$(awk '/^Requests\/sec/ {printf "%.0f", $2}' <<<"$out")
  p50=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
  fig[${name}_rps]=$rps; fig[${name}_p50_ms]=$p50; fig[${name}_p99_ms]=$p99
  rows+=("$(printf '%-28s %10s %9s %9s   wrk used %ss CPU of %ss' "$name" "$rps" "$p50" "$p99" "$cpu" "$duration")")
}

# 1. Endpoint: the demo against a bare axum handler answering the same bytes.
endpoint_scenarios() {
  start demo env RUST_LOG=info "$bin/async-provisioning" serve --insecure-http --seed 1 --listen
  demo_port=$port
  start axum "$bin/bare-endpoint"
  axum_port=$port
  for phase in sync async; do
    # Warm both up, then measure them back to back.
    APS_PHASE=$phase $cpu_load wrk -t1 -c32 -d1s -s bench/wrk/provision.lua "http://127.0.0.1:$demo_port" >/dev/null
    APS_PHASE=$phase $cpu_load wrk -t1 -c32 -d1s -s bench/wrk/provision.lua "http://127.0.0.1:$axum_port" >/dev/null
    measure "axum_$phase" "$phase" "$axum_port"
    measure "endpoint_$phase" "$phase" "$demo_port"
  done
  ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
  sync_ratio=$(ratio "${fig[endpoint_sync_rps]}" "${fig[axum_sync_rps]}")
  async_ratio=$(ratio "${fig[endpoint_async_rps]}" "${fig[axum_async_rps]}")
  worst=$(awk -v a="$sync_ratio" -v b="$async_ratio" 'BEGIN { print (a < b ? a : b) }')

  tables+=("$(
    echo "Endpoint ($profile build, ${duration}s per run, wrk -t1 -c32, server on CPU 0, wrk on CPU 1)"
    printf '%-28s %10s %9s %9s\n' scenario "req/s" "p50 ms" "p99 ms"
    printf '%s\n' "${rows[@]}"
    echo "endpoint/axum requests/s: sync $sync_ratio, async $async_ratio"
  )")
  for name in axum_sync endpoint_sync axum_async endpoint_async; do
    results+=("${name}_rps ${fig[${name}_rps]} req/s")
    results+=("${name}_p50 ${fig[${name}_p50_ms]} ms")
    results+=("${name}_p99 ${fig[${name}_p99_ms]} ms")
  done
  results+=("endpoint_vs_axum_sync_ratio $sync_ratio ratio")
  results+=("endpoint_vs_axum_async_ratio $async_ratio ratio")
  results+=("endpoint_vs_axum_ratio $worst ratio")
}

# run_driver TITLE DRIVER ARGS...: runs one controller driver, keeps its lines as results and
# as rows of the controller table.
run_driver() {
  local title=$1 out; shift
  out=$("$bin/$1" "${@:2}")
  controller_rows+=("$title" "  ${out//$'\n'/$'\n'  }")
  while IFS= read -r line; do results+=("$line"); done <<<"$out"
}

# 2-5. Controller: end to end, many pending tasks and recovery, long-poll waiters.
controller_scenarios() {
  controller_rows=()
  run_driver "2. end to end ($e2e_tasks tasks, 202 twice then 200, recheck ~1 ms, synchronous=FULL)" \
    controller-throughput --tasks "$e2e_tasks"
  run_driver "3+5. $pending tasks waiting for rechecks; then SIGKILL and restart" \
    pending-rechecks --tasks "$pending" --window "$window"
  run_driver "4. $polls long polls over HTTP/2 (250 per connection), idle for ${idle}s" \
    long-polls --polls "$polls" --idle "$idle" --protocol http2
  run_driver "4. $polls long polls over HTTP/1 (a connection each), idle for ${idle}s" \
    long-polls --polls "$polls" --idle "$idle" --protocol http1
  run_driver "4. baseline: $polls HTTP/1 connections waiting in bare axum (a handler that sleeps)" \
    long-polls --polls "$polls" --protocol http1-bare
  run_driver "6. soak: $soak_polls long polls from one client (a connection each), another client's reads for ${soak_secs}s" \
    soak --polls "$soak_polls" --seconds "$soak_secs" ${soak_share:+--max-connections-per-client "$soak_share"}
  # The demo serving 4 requests at once answers the rest 503 Busy: retried, none may fail.
  start busy-demo env RUST_LOG=warn "$bin/async-provisioning" serve --insecure-http --seed 1 \
    --data-dir "$(mktemp -d)" --max-requests 4 --listen
  run_driver "7. busy endpoint: $busy_tasks provisions, 32 clients, the demo with --max-requests 4" \
    busy-endpoint --endpoint "http://127.0.0.1:$port" --binary "$bin/async-provisioning" \
    --tasks "$busy_tasks" --concurrency 32
  run_driver "8. events: $changes changes of a resource with $subscribers subscribers, delivered end to end" \
    notifications --subscribers "$subscribers" --changes "$changes"
  tables+=("$(
    echo "Controller ($profile build; figures as name value unit)"
    printf '%s\n' "${controller_rows[@]}"
  )")
}

tables=()
results=()
endpoint_scenarios
controller_scenarios
for table in "${tables[@]}"; do
  echo
  echo "$table"
done
echo
printf '%s\n' "${results[@]}"
