#!/usr/bin/env bash
# Sets up the machine, builds, and runs every test: once as built (with -Werror), once under
# AddressSanitizer + UndefinedBehaviorSanitizer, the multi-threaded suites under ThreadSanitizer, then
# the fuzz targets for a bounded time. Exits non-zero on any failure.
#   OEE_TEST_SKIP_ASAN=1   skip the sanitizer pass (local iterations)
#   OEE_TEST_SKIP_TSAN=1   skip the ThreadSanitizer pass
#   OEE_TEST_SKIP_FUZZ=1   skip fuzzing
#   CTEST_ARGS="-R Engine" pass arguments to ctest
#   FUZZ_SECONDS=N         seconds per fuzz target (30 here; scripts/fuzz.sh alone defaults to 60)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
bash scripts/setup.sh
# ccache (CMakeLists.txt uses it when installed) keys on absolute paths unless told the source root:
# with it, a second clone at another path reuses the first one's objects. No effect without ccache.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$here}
# With -g, ccache also keys each object on the directory it is built in unless hash_dir is off.
export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
export FUZZ_SECONDS=${FUZZ_SECONDS:-30}
phase_started=$SECONDS
phase_done() { echo "== $1 took $((SECONDS - phase_started)) s"; phase_started=$SECONDS; }

jobs=$(nproc)
# ctest starts the longest tests first when it knows their times (Testing/Temporary/CTestCostData.txt,
# which each run rewrites); a fresh clone has none, and ctest then runs them in order, so the long
# ones may bunch at the end, one slot idle while the other finishes them.
# So a fresh build starts from the times of a rehearsal of CI (scripts/ctest-costs/; a test the file
# does not name, a new one, is scheduled as ctest would without the file).
seed_costs() {
  local build=$1 costs=$1/Testing/Temporary/CTestCostData.txt
  if [[ ! -s $costs && -f scripts/ctest-costs/$build.txt ]]; then
    mkdir -p "$(dirname "$costs")"
    cp "scripts/ctest-costs/$build.txt" "$costs"
  fi
}
run_suite() {
  local build=$1; shift
  seed_costs "$build"
  # CI builds with -Werror (OEE_WERROR); a plain cmake build leaves it off.
  cmake -S . -B "$build" -G Ninja -DOEE_WERROR=ON "$@" >/dev/null
  cmake --build "$build" -j "$jobs"
  # Tests own their ports and processes; two at a time keeps the 2-core machine responsive.
  (cd "$build" && ctest --output-on-failure --timeout 900 -j 2 ${CTEST_ARGS:-}) || { print_failures "$build"; return 1; }
}
# A failure's output is printed where it happened, in the middle of a long log; a CI summary keeps
# the log's two ends only. So the end of each failed test's output is printed again, last.
print_failures() {
  local log=$1/Testing/Temporary/LastTest.log name
  [[ -f $1/Testing/Temporary/LastTestsFailed.log && -f $log ]] || return 0
  while IFS=: read -r _ name; do
    echo "== the end of the output of the failed test $name"
    awk -v n="$name" 'index($0, " Testing: ") && substr($0, index($0, " Testing: ") + 10) == n { on = 1; next } on && /^<end of output>/ { exit } on' "$log" | tail -n 60
  done < "$1/Testing/Temporary/LastTestsFailed.log"
}

echo "== tests (RelWithDebInfo)"
run_suite build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOEE_BENCH=OFF
phase_done "tests (RelWithDebInfo), with their build"

if [[ ${OEE_TEST_SKIP_ASAN:-0} != 1 ]]; then
  echo "== tests under AddressSanitizer + UndefinedBehaviorSanitizer"
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  # -O1, as AddressSanitizer's authors advise: its tests took 3,393 s here (1,699 s wall), against
  # 5,114 s (2,636 s wall) at -O0. Debug otherwise: assertions stay on.
  run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-g -O1" -DCMAKE_C_FLAGS_DEBUG="-g -O1" \
    -DOEE_SANITIZE=ON -DOEE_BENCH=OFF
  phase_done "AddressSanitizer pass, with its build"
fi

# --- ThreadSanitizer (issue 11) --------------------------------------------------------------------
# The multi-threaded suites only (ctest label `tsan`, set beside each suite by oee_tsan_suite), and
# only their targets (`tsan_suites`) are built. scripts/tsan.supp says why each entry is there.
# OEE_TEST_SKIP_TSAN=1 skips this pass.
if [[ ${OEE_TEST_SKIP_TSAN:-0} != 1 ]]; then
  echo "== multi-threaded suites under ThreadSanitizer"
  cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOEE_TSAN=ON -DOEE_BENCH=OFF >/dev/null
  cmake --build build-tsan -j "$jobs" --target tsan_suites
  seed_costs build-tsan
  (cd build-tsan && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$here/scripts/tsan.supp" \
    ctest --output-on-failure --timeout 900 -j 2 -L tsan ${CTEST_ARGS:-}) || { print_failures build-tsan; exit 1; }
  phase_done "ThreadSanitizer pass, with its build"
fi
# --- end ThreadSanitizer ----------------------------------------------------------------------------

if [[ ${OEE_TEST_SKIP_FUZZ:-0} != 1 && -f scripts/fuzz.sh ]]; then
  echo "== fuzzing"
  bash scripts/fuzz.sh
  phase_done "fuzzing, with its build"
fi
