#!/usr/bin/env bash
# Scale proof (issue 13): 1,000 machines and 100,000 tags (100 per machine: state, two counters, 97
# process values) on simulated Modbus PLCs (bench/scale_devices.py: one pymodbus gateway per edge,
# a unit id per machine), read by SCALE_EDGES `oee edge` agents (a Modbus source per machine), through
# one Mosquitto into one `oee serve` (SQLite, the default store) for SCALE_MINUTES (default 30;
# BENCH_QUICK=1: 3). Prints the CPU and RSS of every process, events/s stored, the latency of a PLC
# change to the API (bench/scale_probe.py), storage growth per day and the broker's memory growth per
# hour (bench/scale_report.py), and fails unless every machine has counts and nothing was
# dead-lettered (bench/scale_check.py). Usage: scale_proof.sh BUILD_DIR
set -euo pipefail
build=${1:?build dir}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
oee="$build/bin/oee"
source "$here/bench/common.bash"
py=/usr/bin/python3
quick=${BENCH_QUICK:-0}
minutes=${SCALE_MINUTES:-$([[ $quick == 1 ]] && echo 3 || echo 30)}
machines=${SCALE_MACHINES:-1000}
edges=${SCALE_EDGES:-5}
poll_ms=${SCALE_POLL_MS:-1000}
period_s=${SCALE_SAMPLE_PERIOD_S:-20}
sample_every_s=${SCALE_SAMPLE_EVERY_S:-10}
run_s=$((minutes * 60))
# Figures are taken after the warm-up: connections made, first values read, queues drained.
warmup_s=${SCALE_WARMUP_S:-$((run_s / 6 < 300 ? run_s / 6 : 300))}
((warmup_s < run_s)) || { echo "scale_proof: the warm-up (${warmup_s} s) leaves nothing of a ${run_s} s run" >&2; exit 2; }

wait_port() {  # port what
  for _ in $(seq 300); do (echo >/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done
  echo "scale_proof: $2 did not listen on $1" >&2
  exit 1
}
names=()
procs=()
started() {  # name pid
  names+=("$1")
  procs+=("$2")
  pids+=("$2")
}

broker_port=$(free_port)
http_port=$(free_port)
ports=()
for ((e = 1; e <= edges; e++)); do ports+=("$(free_port)"); done
$py "$here/bench/scale_plant.py" "$work" "$machines" "$edges" "mqtt://127.0.0.1:$broker_port" "$poll_ms" "${ports[@]}"
probe_machine=$(head -1 "$work/machines.txt")

mkdir -p "$work/mosquitto"
cat >"$work/mosquitto.conf" <<EOF
listener $broker_port 127.0.0.1
allow_anonymous true
user $(id -un)
persistence true
persistence_location $work/mosquitto/
autosave_interval 10
max_queued_messages 0
max_queued_bytes 0
max_inflight_messages 100
log_dest file $work/mosquitto.log
EOF
/usr/sbin/mosquitto -c "$work/mosquitto.conf" >/dev/null 2>&1 &
started mosquitto $!
wait_port "$broker_port" mosquitto

units=$((machines / edges))
for ((e = 1; e <= edges; e++)); do
  $py "$here/bench/scale_devices.py" "${ports[e - 1]}" "$units" "$period_s" "$([[ $e == 1 ]] && echo 1 || echo 0)" "$e" \
    >"$work/gateway-$e.log" 2>&1 &
  started "pymodbus-$e" $!
done
for ((e = 1; e <= edges; e++)); do wait_port "${ports[e - 1]}" "pymodbus gateway $e"; done

export OEE_ADMIN_TOKEN="bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
"$oee" serve --plant "$work/plant.yaml" --data-dir "$work/data" --listen "127.0.0.1:$http_port" \
  --mqtt "mqtt://127.0.0.1:$broker_port" >"$work/serve.log" 2>&1 &
started server $!
for _ in $(seq 600); do curl -fs "http://127.0.0.1:$http_port/readyz" >/dev/null && break; sleep 0.1; done
curl -fs "http://127.0.0.1:$http_port/readyz" >/dev/null || { echo "scale_proof: the server is not ready" >&2; cat "$work/serve.log" >&2; exit 1; }

start_ms=$(date +%s%3N)
for ((e = 1; e <= edges; e++)); do
  "$oee" edge --config "$work/edge-$e.yaml" >"$work/edge-$e.log" 2>&1 &
  started "edge-$e" $!
done
echo "scale_proof: $machines machines x 100 tags, $edges edges, poll ${poll_ms} ms, process values every ~${period_s} s;" \
  "$minutes min (warm-up ${warmup_s} s), sampled every ${sample_every_s} s" >&2

# One line per process and sample: seconds since start, name, CPU ticks, RSS kB, peak RSS kB; and
# one `plant` line: load average, bytes of the server's data dir, events stored so far.
sample() {
  local t=$(( ($(date +%s%3N) - start_ms) / 1000 )) i stat
  for i in "${!procs[@]}"; do
    stat=$(cat "/proc/${procs[i]}/stat" 2>/dev/null) || { echo "scale_proof: ${names[i]} died" >&2; tail -20 "$work/${names[i]}.log" >&2 2>/dev/null; exit 1; }
    stat=${stat##*) }
    read -r -a f <<<"$stat"
    echo "$t ${names[i]} $((f[11] + f[12])) $(awk '/VmRSS/ {r=$2} /VmHWM/ {h=$2} END {print r, h}' "/proc/${procs[i]}/status")"
  done
  echo "$t plant $(cut -d' ' -f1 /proc/loadavg) $(du -sb "$work/data" | cut -f1)" \
    "$(curl -fs -H "Authorization: Bearer $OEE_ADMIN_TOKEN" "http://127.0.0.1:$http_port/metrics" | awk '/^oee_ingest_inserted_total / {print $2}')"
}
end_s=$((start_ms / 1000 + run_s))
probe_started=0
while (($(date +%s) < end_s)); do
  sample >>"$work/samples.txt"
  if ((!probe_started && $(date +%s) >= start_ms / 1000 + warmup_s)); then
    $py "$here/bench/scale_probe.py" "${ports[0]}" 1 "$http_port" "$probe_machine" $((end_s - $(date +%s))) \
      >"$work/latency.txt" 2>"$work/probe.log" &
    probe_pid=$!
    pids+=("$probe_pid")
    probe_started=1
  fi
  sleep "$sample_every_s"
done
sample >>"$work/samples.txt"
wait "$probe_pid" || { echo "scale_proof: the latency probe failed" >&2; cat "$work/probe.log" >&2; exit 1; }

# SCALE_OUT_DIR keeps the raw samples and latencies for a closer look (the scratch dir goes away).
[[ -n ${SCALE_OUT_DIR:-} ]] && mkdir -p "$SCALE_OUT_DIR" && cp "$work/samples.txt" "$work/latency.txt" "$SCALE_OUT_DIR/"
echo "the server's data dir at the end (the WAL is checkpointed every 16384 pages, 128 MiB, and reused):" >&2
ls -l "$work/data" | awk 'NR > 1 {printf "  %14d  %s\n", $5, $9}' >&2
$py "$here/bench/scale_report.py" "$work/samples.txt" "$work/latency.txt" "$warmup_s" "$machines" "$poll_ms"
$py "$here/bench/scale_check.py" "$http_port" "$work/machines.txt" "$start_ms"
