#!/usr/bin/env bash
# Benchmark: 10,000 concurrent WebSocket clients on /api/v1/live of `oee serve --demo` (30x speed,
# so machines change state several times a second), each subscribed to the whole plant (every
# machine's state changes, the plant's KPIs every second). Reports the server's RSS with the
# clients connected and the p99 time from a state change being ingested to its arrival at the
# clients (node load client, bench/websocket_clients.mjs, split over BENCH_WS_PROCESSES processes:
# one node process alone cannot read 10,000 sockets fast enough on this 2-core machine; the p99
# reported is the largest of the processes' p99s). Server and clients share the same 2 cores.
# Baseline, same run and server: the p99 of BENCH_WS_BASELINE_CLIENTS (100) clients, i.e. the
# pipeline without the fan-out. Each client process reports its own CPU (cpu_percent of one core:
# near 100 the measuring tool is the bottleneck), and the server's CPU over the window is printed.
# Usage: bench/api_websocket.sh BUILD_DIR    (BENCH_QUICK=1: 10 s window; BENCH_WS_CLIENTS=N)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: api_websocket.sh BUILD_DIR}
oee="$build/bin/oee"
clients=${BENCH_WS_CLIENTS:-10000}
seconds=30
[ "${BENCH_QUICK:-0}" = 1 ] && seconds=10
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
source "$root/bench/common.bash"
port=$(free_port)
# All the clients come from 127.0.0.1 with one token: the per-address cap (512 by default) is raised
# past them, and the rate limits (which would refuse them after a few hundred upgrades) are off:
# this measures the fan-out (api_http.sh measures the limits).
start_demo_server api_websocket.sh "$port" --speed 30 --history-hours 2 \
  --max-connections-per-address $((clients + 1000)) --max-connections $((clients + 1000)) \
  --rate-limit-address-per-s 0 --rate-limit-token-per-s 0
rss_idle=$(awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$server_pid/status")
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$server_pid/stat"; }
baseline_clients=${BENCH_WS_BASELINE_CLIENTS:-100}
node "$root/bench/websocket_clients.mjs" "$port" "$OEE_ADMIN_TOKEN" "$baseline_clients" 10 '[""]' >"$work/baseline.json"
processes=${BENCH_WS_PROCESSES:-2}
clients_pids=()
for i in $(seq "$processes"); do
  node "$root/bench/websocket_clients.mjs" "$port" "$OEE_ADMIN_TOKEN" $((clients / processes)) "$seconds" '[""]' >"$work/clients-$i.json" &
  clients_pids+=($!)
  pids+=($!)
done
# The server's peak RSS while the clients are connected, and its CPU while they run (connecting
# included).
peak=0
ticks_start=$(cpu_ticks); seconds_start=$(date +%s.%N)
while kill -0 "${clients_pids[0]}" 2>/dev/null; do
  rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$server_pid/status")
  [ "$rss" -gt "$peak" ] && peak=$rss
  sleep 1
done
ticks_end=$(cpu_ticks); seconds_end=$(date +%s.%N)
for p in "${clients_pids[@]}"; do wait "$p" || true; done
cat "$work"/baseline.json "$work"/clients-*.json >&2
echo "server RSS idle ${rss_idle} MiB; server CPU while the clients ran (connecting included): $(awk -v t="$((ticks_end - ticks_start))" -v a="$seconds_start" -v b="$seconds_end" 'BEGIN { printf "%.0f", t / (b - a) }') % of one core; load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
baseline_p99=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["p99_ms"])' "$work/baseline.json")
read -r p99 connected < <(cat "$work"/clients-*.json | python3 -c '
import json, sys
rows = [json.loads(line) for line in sys.stdin if line.strip()]
print(max(r["p99_ms"] for r in rows), sum(r["subscribed"] for r in rows))')
rss_mib=$(awk -v k="$peak" 'BEGIN { printf "%.1f", k / 1024 }')
printf 'BENCH\tWebSocket /api/v1/live: server RSS with %s clients subscribed\t%s\tMiB\tserver RSS before the clients\t%s\tlower\t<= 300\n' "$connected" "$rss_mib" "$rss_idle"
printf 'BENCH\tWebSocket /api/v1/live: p99 state change -> %s clients\t%s\tms\tp99 to %s clients\t%s\tlower\t<= 250\n' "$connected" "$p99" "$baseline_clients" "$baseline_p99"
