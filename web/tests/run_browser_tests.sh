#!/usr/bin/env bash
# Starts `oee serve --demo` on a free port with a temporary data dir and OEE_ADMIN_TOKEN, runs the
# browser tests (every tests/*.test.mjs, or those given) against it, and stops it (also on failure).
# usage: run_browser_tests.sh OEE_BINARY SCREENSHOT_DIR [TEST.mjs ...]   (default: every suite, on one server)
set -euo pipefail
oee=$1
shots=$2
shift 2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
data=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export OEE_ADMIN_TOKEN="browser-test-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
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
"$oee" serve --demo --plant "$data/plant.yaml" --speed 10 --history-hours 4 --data-dir "$data" --listen "127.0.0.1:$port" >"$data/serve.log" 2>&1 &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT
for _ in $(seq 1 200); do
  grep -q "caught up" "$data/serve.log" && break
  kill -0 "$server" 2>/dev/null || { cat "$data/serve.log"; exit 1; }
  sleep 0.1
done
grep -q "caught up" "$data/serve.log" || { echo "the demo did not catch up"; cat "$data/serve.log"; exit 1; }
rm -rf "$shots"
export OEE_URL="http://127.0.0.1:$port" OEE_SCREENSHOT_DIR="$shots" OEE_PLAYWRIGHT="$root/node_modules/playwright-core"
# Every *.test.mjs (or those given) against the one server; the run fails when any of them does.
if [ $# -eq 0 ]; then set -- "$here"/*.test.mjs; fi
status=0
for suite in "$@"; do
  echo "== $(basename "$suite")"
  node "$suite" || status=1
done
exit $status
