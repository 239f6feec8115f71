#!/usr/bin/env bash
# Edge memory with 100K tags: `oee edge` polling 100,000 Modbus tags (50K holding + 50K input
# registers of a pymodbus device, mapped to the demo plant's machines) beside the same edge with one
# tag, measured in the same run. Usage: bench_edge_rss.sh BUILD_DIR
set -euo pipefail
build=${1:?build dir}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
oee="$build/bin/oee"
source "$here/bench/common.bash"
tags=${BENCH_EDGE_TAGS:-100000}
port=$(free_port)
/usr/bin/python3 "$here/edge/tests/peer/modbus_device.py" "$port" 50000 >"$work/device.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do (echo >/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done

# Machines of the demo plant; tags go round-robin over them.
mapfile -t machines < <(/usr/bin/python3 - "$here/examples/demo-plant.yaml" <<'PY'
import sys, yaml
p = yaml.safe_load(open(sys.argv[1]))
for s in p["sites"]:
    for a in s["areas"]:
        for l in a["lines"]:
            for m in l["machines"]:
                print("/".join([s["id"], a["id"], l["id"], m["id"]]))
PY
)
write_config() {  # name tag_count
  local cfg="$work/$1.yaml" n=$2
  {
    echo "id: rss-$1"
    echo "data_dir: $work/$1-data"
    echo "mqtt: {brokers: [\"mqtt://127.0.0.1:9\"], reconnect_min_ms: 60000, reconnect_max_ms: 60000}"
    echo "plant: $here/examples/demo-plant.yaml"
    echo "sources:"
    echo "  - type: modbus"
    echo "    address: 127.0.0.1:$port"
    echo "    poll_ms: 2000"
    echo "    timeout_ms: 5000"
    echo "    tags_csv: $1-tags.csv"
  } >"$cfg"
  # The tag table as a PLC export: 9 in 10 tags are process values (samples), 1 in 10 counters.
  /usr/bin/python3 - "$n" "${machines[@]}" >"$work/$1-tags.csv" <<'PY'
import sys
n = int(sys.argv[1]); machines = sys.argv[2:]
print("register,machine,signal")
for i in range(n):
    area, addr = ("holding", i) if i < 50000 else ("input", i - 50000)
    sig = "sample:v%d" % i if i % 10 else "counter:total"
    print("%s:%d,%s,%s" % (area, addr, machines[i % len(machines)], sig))
PY
  echo "$cfg"
}
measure() {  # config -> "peak_kb steady_kb"
  "$oee" edge --config "$1" >"$1.log" 2>&1 &
  local pid=$!
  pids+=($pid)
  sleep "${BENCH_EDGE_RSS_SECONDS:-15}"
  local hwm rss
  hwm=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
  rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
  kill "$pid"; wait "$pid" 2>/dev/null || true
  echo "$hwm $rss"
}
read -r one_hwm one_rss < <(measure "$(write_config one 1)")
read -r many_hwm many_rss < <(measure "$(write_config many "$tags")")
echo "edge with $tags tags: RSS $((many_rss / 1024)) MB (peak $((many_hwm / 1024)) MB); with 1 tag: $((one_rss / 1024)) MB (peak $((one_hwm / 1024)) MB)"
printf 'BENCH\tedge RSS with %s Modbus tags (MB)\t%.1f\tMB\tsame edge, 1 tag\t%.1f\tlower\t<= 100\n' "$tags" \
  "$(echo "$many_rss / 1024" | bc -l)" "$(echo "$one_rss / 1024" | bc -l)"
