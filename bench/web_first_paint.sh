#!/usr/bin/env bash
# The dashboard overview's first paint (navigation to every machine tile drawn) and JS heap in
# headless Chromium, with the 12 machines of the demo plant and with 1,000 simulated machines,
# beside an empty page in the same browser. Goal (issue 17): <= 1 s and <= 50 MB.
# usage: web_first_paint.sh BUILD_DIR
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
oee=$1/bin/oee
# shellcheck source=common.bash
source "$here/common.bash"
# A plant of MACHINES machines (lines of 10) for `oee serve --demo --plant`.
big_plant() {
  { printf 'timezone: UTC\nshifts:\n  - {name: day, start: "00:00", end: "23:59"}\nsites:\n  - id: big\n    name: Big plant\n    areas:\n      - id: hall\n        name: Hall\n        lines:\n'
    for ((l = 1; l <= $1 / 10; l++)); do
      printf '          - id: l%03d\n            name: Line %d\n            machines:\n' "$l" "$l"
      for ((m = 1; m <= 10; m++)); do printf '              - {id: m%02d, name: Machine %d.%d, ideal_cycle_time_s: 0.5}\n' "$m" "$l" "$m"; done
    done; } >"$work/big.yaml"
}
run() {  # run MACHINES [serve options…]
  local machines=$1 port
  shift
  port=$(free_port)
  rm -rf "$work/data"
  start_demo_server web_first_paint "$port" --history-hours 1 "$@"
  OEE_PLAYWRIGHT="$root/node_modules/playwright-core" node "$here/web_first_paint.mjs" "http://127.0.0.1:$port" "$machines"
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true
}
run 12
big_plant 1000
run 1000 --plant "$work/big.yaml"
