#!/usr/bin/env bash
# Sets up the machine, builds, and runs the demo: the simulated plant (12 machines, 3 lines) fed in
# real time into the engine and the embedded store, served on http://127.0.0.1:8080.
# Extra arguments go to `oee serve` (e.g. --listen 127.0.0.1:9090 --speed 10).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
bash scripts/setup.sh
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DOEE_TESTS=OFF -DOEE_BENCH=OFF >/dev/null
cmake --build build-release --target oee
exec build-release/bin/oee serve --demo --data-dir "${OEE_DATA_DIR:-$here/oee-data}" "$@"
