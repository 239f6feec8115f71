#!/usr/bin/env bash
# Benchmark: our OPC UA client (`oee opcua subscribe --summary`) against node-opcua's own client
# (bench/opcua_node_client.js), each subscribed alone to the same 10,000 counters of the node-opcua
# test server (publishing 1 s, counters change every second). Measures CPU seconds over a steady
# window after the subscription is up, and peak RSS (VmHWM), from /proc.
# Usage: bench/opcua_subscribe.sh BUILD_DIR    (BENCH_QUICK=1: 15 s window instead of 60 s)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: opcua_subscribe.sh BUILD_DIR}
oee="$build/bin/oee"
items=${BENCH_OPCUA_ITEMS:-10000}
window=60
[ "${BENCH_QUICK:-0}" = 1 ] && window=15
warmup=5
source "$root/bench/common.bash"

port=$(free_port)
url="opc.tcp://127.0.0.1:$port"
node "$root/opcua/tests/peer/server.js" --port "$port" --counters "$items" --rate-ms 1000 --pki "$work/pki" \
  >"$work/server.out" 2>"$work/server.err" &
pids+=($!)
for _ in $(seq 600); do grep -qs "^READY" "$work/server.out" && break; sleep 0.1; done
grep -q '^READY' "$work/server.out" || { echo "opcua_subscribe.sh: server did not start" >&2; cat "$work/server.err" >&2; exit 1; }

clock_ticks=$(getconf CLK_TCK)
cpu_seconds() {  # utime + stime of a process, in seconds
  awk -v hz="$clock_ticks" '{ print ($14 + $15) / hz }' "/proc/$1/stat"
}
peak_rss_mib() {
  awk '/^VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"
}

# measure NAME COMMAND...: runs the client, waits until it is subscribed plus warmup, then samples
# its CPU over the window. Sets cpu_per_window, rss_mib, values_line.
measure() {
  local name=$1
  shift
  "$@" >"$work/$name.out" 2>"$work/$name.err" &
  local pid=$!
  pids+=($pid)
  for _ in $(seq 1200); do grep -qs '"subscribed"' "$work/$name.err" && break; sleep 0.1; done
  grep -q '"subscribed"' "$work/$name.err" || { echo "$name did not subscribe" >&2; cat "$work/$name.err" >&2; exit 1; }
  sleep "$warmup"
  local start_cpu end_cpu
  start_cpu=$(cpu_seconds "$pid")
  sleep "$window"
  end_cpu=$(cpu_seconds "$pid")
  rss_mib=$(peak_rss_mib "$pid")
  total_cpu=$end_cpu
  kill -TERM "$pid"
  wait "$pid" || true
  cpu_per_window=$(awk -v a="$start_cpu" -v b="$end_cpu" 'BEGIN { printf "%.3f", b - a }')
  values_line=$(tail -1 "$work/$name.out")
}

nodes=()
for ((i = 0; i < items; i++)); do nodes+=(--node "ns=1;s=Counter.$i"); done
measure ours "$oee" opcua subscribe "$url" "${nodes[@]}" --interval-ms 1000 --sampling-ms 0 --queue-size 10 --summary
ours_cpu=$cpu_per_window ours_rss=$rss_mib ours_total=$total_cpu ours_values=$values_line
measure node node "$root/bench/opcua_node_client.js" "$url" "$items"
node_cpu=$cpu_per_window node_rss=$rss_mib node_total=$total_cpu node_values=$values_line

echo "opcua_subscribe: $items items, ${window}s window after subscription + ${warmup}s warmup"
echo "  ours:       CPU ${ours_cpu}s in window (${ours_total}s incl. start), peak RSS ${ours_rss} MiB, $ours_values"
echo "  node-opcua: CPU ${node_cpu}s in window (${node_total}s incl. start), peak RSS ${node_rss} MiB, $node_values"
printf 'BENCH\topcua subscribe %s items: CPU per %ss\t%s\tCPU s\tnode-opcua client\t%s\tlower\t<= 0.1 x baseline\n' \
  "$items" "$window" "$ours_cpu" "$node_cpu"
printf 'BENCH\topcua subscribe %s items: peak RSS\t%s\tMiB\tnode-opcua client\t%s\tlower\t<= 32\n' \
  "$items" "$ours_rss" "$node_rss"
