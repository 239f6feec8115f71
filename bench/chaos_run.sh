#!/usr/bin/env bash
# The long chaos run of issue 10: the seeded test EdgeChaos.* (edge, server and broker SIGKILLed and
# restarted, the broker empty, while a simulated plant streams through them; the edge's disk wiped
# once, its small filesystem filled once: a tmpfs, so run it as root) with many more faults over
# about 30 minutes. Prints its figures as BENCH rows: events acknowledged by the edge, stored,
# evicted, refused by the full disk, lost to the wipe and lost (goal: lost = 0); the run fails if a
# KPI differs from the undisturbed run (without the wipe's loss).
#   bash bench/chaos_run.sh [BUILD_DIR]   OEE_CHAOS_FAULTS (default 300), OEE_CHAOS_SEED (default the date)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# The test needs a build with tests: its own directory beside the bench build.
build="${1:-$here/build-bench}-chaos"
cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOEE_TESTS=ON -DOEE_BENCH=OFF >/dev/null
cmake --build "$build" --target oee oee_edge_integration_tests >/dev/null
default_faults=300
[ "${BENCH_QUICK:-0}" = 1 ] && default_faults=20  # BENCH_QUICK=1: about 2 minutes
export OEE_CHAOS_FAULTS=${OEE_CHAOS_FAULTS:-$default_faults}
export OEE_CHAOS_SEED=${OEE_CHAOS_SEED:-$(date +%Y%m%d)}
echo "chaos run: $OEE_CHAOS_FAULTS faults, seed $OEE_CHAOS_SEED (about $((OEE_CHAOS_FAULTS * 6 / 60)) minutes)" >&2
"$build/edge/oee_edge_integration_tests" --gtest_filter='EdgeChaos.*' | grep -v '^chaos seed'
