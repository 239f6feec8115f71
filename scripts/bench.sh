#!/usr/bin/env bash
# Builds in Release, runs every benchmark in bench/ and prints one table (see bench/README.md).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$here/scripts/setup.sh"
build="$here/build-bench"
cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DOEE_TESTS=OFF -DOEE_BENCH=ON >/dev/null
cmake --build "$build"
rows=$(mktemp)
trap 'rm -f "$rows"' EXIT
# Shows a benchmark's output on stderr as it comes and keeps its BENCH lines; fails when there are
# none. (Not `tee /dev/stderr`: that reopens stderr, and when it is a file (`> bench.txt 2>&1`) the
# reopen truncates it and overwrites what was printed before.)
show_and_keep_rows() {
  local line kept=0
  while IFS= read -r line || [[ -n $line ]]; do
    printf '%s\n' "$line" >&2
    if [[ $line == BENCH$'\t'* ]]; then
      printf '%s\n' "$line" >>"$rows"
      kept=1
    fi
  done
  ((kept))
}
for program in "$build"/bench/bench_*; do
  [[ -x $program ]] || continue
  echo "== $(basename "$program")" >&2
  "$program" | show_and_keep_rows || echo "!! $(basename "$program") failed" >&2
done
for script in "$here"/bench/*.sh; do
  [[ -f $script ]] || continue
  echo "== $(basename "$script")" >&2
  bash "$script" "$build" | show_and_keep_rows || echo "!! $(basename "$script") failed" >&2
done
echo
awk -F'\t' '
  BEGIN { printf "%-58s %14s %-8s %-30s %14s %8s  %s\n", "row", "ours", "unit", "baseline", "value", "ratio", "goal";
          printf "%s\n", "-----------------------------------------------------------------------------------------------------------------------------------------------" }
  { ratio = ($6 != "-" && $6 + 0 != 0) ? sprintf("%.2f", $3 / $6) : "-";
    printf "%-58s %14s %-8s %-30s %14s %8s  %s (%s is better)\n", $2, $3, $4, $5, $6, ratio, $8, $7 }' "$rows"
