#!/usr/bin/env bash
# Starts a Mosquitto broker on a free loopback port, `oee serve --demo --mqtt` to it on a free port
# with a temporary data dir and OEE_ADMIN_TOKEN, and a real `oee edge` (a simulator source feeding
# one machine of the demo plant) publishing to the broker; runs the browser tests (every
# tests/*.test.mjs, or those given) against the server, and stops all three (also on failure).
# The suites get the broker and the edge in OEE_MQTT_PORT, OEE_EDGE_ID, OEE_EDGE_PID,
# OEE_EDGE_MACHINE and OEE_EDGE_KEEPALIVE_S (admin.test.mjs publishes malformed messages to the
# broker and stops the edge).
# usage: run_browser_tests.sh OEE_BINARY SCREENSHOT_DIR [TEST.mjs ...]   (default: every suite, on one server)
set -euo pipefail
oee=$1
shots=$2
shift 2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
data=$(mktemp -d)
# Each process started here, stopped at exit however the script ends: the edge first (it may be
# stopped by SIGSTOP in a test: SIGCONT lets the SIGTERM in), then the server, then the broker.
pids=()
cleanup() {
  local pid
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    pid=${pids[i]}
    kill -TERM "$pid" 2>/dev/null || true
    kill -CONT "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  # The logs stay beside the screenshots (a run under ctest without --output-on-failure says nothing more).
  mkdir -p "$shots/logs" && cp "$data"/*.log "$shots/logs/" 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
broker_port=$(free_port)
while [ "$broker_port" = "$port" ]; do broker_port=$(free_port); done
export OEE_ADMIN_TOKEN="browser-test-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"

# The broker: loopback only, anonymous, nothing kept across runs.
cat >"$data/mosquitto.conf" <<CONF
listener $broker_port 127.0.0.1
allow_anonymous true
user $(id -un)
persistence false
log_dest file $data/mosquitto.log
CONF
/usr/sbin/mosquitto -c "$data/mosquitto.conf" >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$broker_port") 2>/dev/null && break
  sleep 0.1
done
(exec 3<>"/dev/tcp/127.0.0.1/$broker_port") 2>/dev/null || { echo "mosquitto did not start"; cat "$data/mosquitto.log"; exit 1; }

# The demo plant with a reason tree, so the reason picker offers it (one tap per level).
{ cat <<'TREE'
reasons:
  - code: MECH
    name: Mechanical
    loss: breakdown
    children:
      - {code: PW_JAM, name: Jam}
      - {code: PW_MOTOR, name: Motor}
  - code: PW_CLEAN
    name: Cleaning
TREE
  cat "$root/examples/demo-plant.yaml"
  # An alert on any unplanned stop, for the administration page's alerts (admin.test.mjs).
  printf 'alerts:\n  rules:\n    - {name: any-stop, kind: machine_down, for_s: 1}\n'; } >"$data/plant.yaml"
# Ten simulated seconds per second, so states change within the test.
"$oee" serve --demo --plant "$data/plant.yaml" --speed 10 --history-hours 4 --data-dir "$data" --listen "127.0.0.1:$port" \
  --mqtt "mqtt://127.0.0.1:$broker_port" >"$data/serve.log" 2>&1 &
server=$!
pids+=("$server")
for _ in $(seq 1 200); do
  grep -q "caught up" "$data/serve.log" && curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break
  kill -0 "$server" 2>/dev/null || { cat "$data/serve.log"; exit 1; }
  sleep 0.1
done
grep -q "caught up" "$data/serve.log" || { echo "the demo did not catch up"; cat "$data/serve.log"; exit 1; }
curl -fs "http://127.0.0.1:$port/readyz" >/dev/null || { echo "the server is not connected to the broker"; cat "$data/serve.log"; exit 1; }

# A real edge: the simulator source for one machine of the demo plant (its own plant file: the demo's
# calendar, the last machine of the last line, which no other suite looks at), in real time. Its
# status every second; keepalive 5 s, the least the edge takes: a frozen edge is dropped by the
# broker, which then publishes its will (offline), after 1.5 x 5 s.
edge_machine=berlin/bottling/can3/tray_packer
mkdir -p "$data/edge"
{ sed '/^sites:/,$d' "$root/examples/demo-plant.yaml"
  cat <<'PLANT'
sites:
  - id: berlin
    areas:
      - id: bottling
        lines:
          - id: can3
            machines:
              - {id: tray_packer, ideal_cycle_time_s: 0.06, no_data_after_s: 60}
PLANT
} >"$data/edge/plant.yaml"
cat >"$data/edge/edge.yaml" <<EDGE
id: browser-edge
data_dir: $data/edge/data
drain_timeout_ms: 1000
mqtt:
  brokers: ["mqtt://127.0.0.1:$broker_port"]
  keepalive_s: 5
  reconnect_min_ms: 200
  reconnect_max_ms: 1000
  status_interval_ms: 1000
plant: plant.yaml
sources:
  - {type: simulator, seed: 7, speed: 1.0}
EDGE
# In a session of its own: admin.test.mjs freezes it with SIGSTOP, and a stopped process in a process
# group that becomes orphaned (when some process around it exits) is sent SIGHUP and SIGCONT by the
# kernel (POSIX), which would wake it before the broker drops it. Alone in its session, no exit
# elsewhere touches its group. (setsid may fork: the edge writes its own pid.)
setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' edge "$data/edge.pid" "$oee" edge --config "$data/edge/edge.yaml" \
  >"$data/edge.log" 2>&1 </dev/null &
for _ in $(seq 1 100); do [ -s "$data/edge.pid" ] && break; sleep 0.05; done
edge=$(cat "$data/edge.pid")
pids+=("$edge")
export OEE_MQTT_PORT=$broker_port OEE_EDGE_ID=browser-edge OEE_EDGE_PID=$edge OEE_EDGE_MACHINE=$edge_machine OEE_EDGE_KEEPALIVE_S=5

rm -rf "$shots"
export OEE_URL="http://127.0.0.1:$port" OEE_SCREENSHOT_DIR="$shots" OEE_PLAYWRIGHT="$root/node_modules/playwright-core"
# Every *.test.mjs (or those given) against the one server; the run fails when any of them does.
if [ $# -eq 0 ]; then set -- "$here"/*.test.mjs; fi
failed=()
for suite in "$@"; do
  echo "== $(basename "$suite")"
  node "$suite" 2>&1 | tee "$data/$(basename "$suite").log" || failed+=("$(basename "$suite")")
done
# What the peers said, for a failure's diagnosis (the broker's log without the one-shot publishers'
# connections), and last, each failed suite's steps and error, where a truncated CI log keeps them.
if [ ${#failed[@]} -ne 0 ]; then
  for log in serve.log edge.log; do echo "== the end of $log"; tail -n 30 "$data/$log"; done
  echo "== the end of mosquitto.log, without the one-shot publishers"
  grep -v ' auto-\|New connection from' "$data/mosquitto.log" | tail -n 30 || true
  for suite in "${failed[@]}"; do
    echo "== FAILED: $suite"
    grep -E -A 6 '^ok |Error|error|assert|expected' "$data/$suite.log" | tail -n 40 || true
  done
  exit 1
fi
