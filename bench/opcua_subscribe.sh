#!/usr/bin/env bash
# Benchmark: our OPC UA client (`oee opcua subscribe --summary`) against node-opcua's own client
# (bench/opcua_node_client.js), each subscribed alone to the same 10,000 counters of the node-opcua
# test server (publishing 1 s, counters change every second). Measures CPU seconds over a steady
# window after the subscription is up, and peak RSS (VmHWM), from /proc. Four runs against one
# server: ours with None, ours with SignAndEncrypt, node-opcua with SignAndEncrypt, node-opcua with
# None (policy BENCH_OPCUA_POLICY, default Basic256Sha256).
# Usage: bench/opcua_subscribe.sh BUILD_DIR    (BENCH_QUICK=1: 15 s window instead of 60 s)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: opcua_subscribe.sh BUILD_DIR}
oee="$build/bin/oee"
items=${BENCH_OPCUA_ITEMS:-10000}
policy=${BENCH_OPCUA_POLICY:-Basic256Sha256}
window=60
[ "${BENCH_QUICK:-0}" = 1 ] && window=15
warmup=5
source "$root/bench/common.bash"

port=$(free_port)
url="opc.tcp://127.0.0.1:$port"
# None and the secured policy in the same server, so every run reads the same counters.
node "$root/opcua/tests/peer/server.js" --port "$port" --counters "$items" --rate-ms 1000 --pki "$work/pki" \
  --security-policies "None,$policy" --security-modes "None,SignAndEncrypt" \
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
# Our PKI trusts the server the documented way: its certificate lands in rejected/ and is moved.
"$oee" opcua endpoints "$url" --pki-dir "$work/client-pki" >/dev/null 2>&1 || true
compgen -G "$work/client-pki/rejected/*.der" >/dev/null ||
  { echo "opcua_subscribe.sh: our PKI did not put the server's certificate in rejected/" >&2; exit 1; }
mv "$work"/client-pki/rejected/*.der "$work/client-pki/trusted/certs/"
secured=(--security-policy "$policy" --security-mode SignAndEncrypt --pki-dir "$work/client-pki")

rows=()
# run LABEL COMMAND...: measures one client and keeps its row.
run() {
  local label=$1
  shift
  measure "${label// /_}" "$@"
  rows+=("$label|$cpu_per_window|$total_cpu|$rss_mib|$values_line")
  eval "cpu_${label// /_}=$cpu_per_window rss_${label// /_}=$rss_mib"
}
run "ours None" "$oee" opcua subscribe "$url" "${nodes[@]}" --interval-ms 1000 --sampling-ms 0 --queue-size 10 --summary
run "ours SignAndEncrypt" "$oee" opcua subscribe "$url" "${nodes[@]}" --interval-ms 1000 --sampling-ms 0 --queue-size 10 \
  --summary "${secured[@]}"
run "node SignAndEncrypt" node "$root/bench/opcua_node_client.js" "$url" "$items" "$policy" SignAndEncrypt "$work/node-pki"
run "node None" node "$root/bench/opcua_node_client.js" "$url" "$items"

echo "opcua_subscribe: $items items, ${window}s window after subscription + ${warmup}s warmup, secured: $policy"
for row in "${rows[@]}"; do
  IFS='|' read -r label cpu total rss values <<<"$row"
  printf '  %-22s CPU %ss in window (%ss incl. start), peak RSS %s MiB, %s\n' "$label:" "$cpu" "$total" "$rss" "$values"
done
printf 'BENCH\topcua subscribe %s items: CPU per %ss\t%s\tCPU s\tnode-opcua client\t%s\tlower\t<= 0.1 x baseline\n' \
  "$items" "$window" "$cpu_ours_None" "$cpu_node_None"
printf 'BENCH\topcua subscribe %s items: peak RSS\t%s\tMiB\tnode-opcua client\t%s\tlower\t<= 32\n' \
  "$items" "$rss_ours_None" "$rss_node_None"
printf 'BENCH\topcua subscribe %s items %s SignAndEncrypt: CPU per %ss\t%s\tCPU s\tnode-opcua client\t%s\tlower\t<= 0.1 x baseline\n' \
  "$items" "$policy" "$window" "$cpu_ours_SignAndEncrypt" "$cpu_node_SignAndEncrypt"
printf 'BENCH\topcua subscribe %s items %s SignAndEncrypt: peak RSS\t%s\tMiB\tnode-opcua client\t%s\tlower\t<= 32\n' \
  "$items" "$policy" "$rss_ours_SignAndEncrypt" "$rss_node_SignAndEncrypt"
printf 'BENCH\topcua subscribe %s items %s SignAndEncrypt vs None: CPU per %ss\t%s\tCPU s\tours with None\t%s\tlower\t-\n' \
  "$items" "$policy" "$window" "$cpu_ours_SignAndEncrypt" "$cpu_ours_None"
