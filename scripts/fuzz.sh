#!/usr/bin/env bash
# Builds every libFuzzer target (CMake targets named *_fuzz, -DOEE_FUZZ=ON, clang) in build-fuzz
# and runs each for FUZZ_SECONDS (default 60), FUZZ_JOBS at a time (default: the cores), starting from its committed seed corpus
# (<component>/fuzz/corpus/<target>/). Fails on any crash, leak, timeout or sanitizer report.
# New inputs libFuzzer finds go to a scratch directory; the committed corpus is left as it is.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
seconds=${FUZZ_SECONDS:-60}

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DOEE_FUZZ=ON -DOEE_TESTS=OFF -DOEE_BENCH=OFF -DOEE_WERROR=ON >/dev/null
mapfile -t targets < <(ninja -C "$build" -t targets all | sed -n 's/^\([A-Za-z0-9_]*_fuzz\): phony$/\1/p' | grep -v '^cmake_' | sort -u)
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz.sh: no *_fuzz targets (is clang++ installed?)" >&2
  exit 1
fi
ninja -C "$build" -j2 "${targets[@]}"

mkdir -p "$build/fuzz-artifacts"
# One target: its report in fuzz-artifacts/<target>.report, and <target>.failed if it failed.
fuzz_one() {
  local target=$1 binary corpus scratch
  binary=$(find "$build" -type f -name "$target" -perm -u+x | head -1)
  corpus=$(find "$root" -path "$root/build*" -prune -o -type d -path "*/fuzz/corpus/$target" -print | head -1)
  scratch=$(mktemp -d)
  local report=$build/fuzz-artifacts/$target.report log=$build/fuzz-artifacts/$target.log
  echo "== $target: ${seconds}s on ${corpus:-an empty corpus}" >"$report"
  if "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$build/fuzz-artifacts/$target-" "$scratch" ${corpus:+"$corpus"} 2>"$log"; then
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$log" | sed "s/^/   /" >>"$report" || true
  else
    { echo "FAIL $target (log: $log)"; tail -40 "$log"; } >>"$report"
    touch "$build/fuzz-artifacts/$target.failed"
  fi
  rm -rf "$scratch"
}
# Each fuzzer is one thread: FUZZ_JOBS of them at a time (default: the cores), reported in order.
parallel=${FUZZ_JOBS:-$(nproc)}
rm -f "$build"/fuzz-artifacts/*.failed
for target in "${targets[@]}"; do
  while (($(jobs -rp | wc -l) >= parallel)); do wait -n || true; done
  fuzz_one "$target" &
done
wait
failed=0
for target in "${targets[@]}"; do
  cat "$build/fuzz-artifacts/$target.report"
  if [ -e "$build/fuzz-artifacts/$target.failed" ]; then failed=1; fi
done
exit $failed
