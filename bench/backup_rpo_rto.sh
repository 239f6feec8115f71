#!/usr/bin/env bash
# Disaster recovery of the SQLite deployment (issue 13): a store of 10M events (BENCH_QUICK=1: 1M),
# made by bench_storage's generator (1,000 machines over a year), then
#   - `oee backup` of its data directory: time and size;
#   - RTO: `oee restore` into a new directory plus `oee serve` on it until /readyz answers 200;
#   - RPO: `oee serve --backup-interval-s` (BENCH_BACKUP_INTERVAL_S, 240) plus the backup's duration, the most a
#     disaster loses with continuous backups (what was ingested since the newest whole backup).
# Rows beside the platform report's claims: RPO < 5 min, RTO < 1 h. Usage: backup_rpo_rto.sh BUILD_DIR
set -euo pipefail
build=${1:?usage: backup_rpo_rto.sh BUILD_DIR}
oee="$build/bin/oee"
bench_storage=$(find "$build" -name bench_storage -type f -perm -u+x | head -1)
[ -x "$oee" ] && [ -n "$bench_storage" ] || { echo "backup_rpo_rto.sh: build oee and bench_storage (-DOEE_BENCH=ON)" >&2; exit 1; }
source "$(dirname "$0")/common.bash"
interval_s=${BENCH_BACKUP_INTERVAL_S:-240}

# The plant of bench_storage's store (synthetic::bench_plant(20, 50)), for `oee serve`.
write_bench_plant() {
  printf 'timezone: Etc/GMT-1\nshifts:\n  - {name: early, start: "06:00", end: "14:00", breaks: [{start: "09:00", end: "09:15"}]}\n'
  printf '  - {name: late, start: "14:00", end: "22:00", breaks: [{start: "18:00", end: "18:30"}]}\n'
  printf 'sites:\n  - id: s1\n    areas:\n      - id: a1\n        lines:\n'
  for l in $(seq 0 19); do
    printf '          - id: l%d\n            machines:\n' "$l"
    for m in $(seq 0 49); do
      printf '              - {id: m%d, ideal_cycle_time_s: 0.9, products: {a: 0.8, b: 1.2}, micro_stop_threshold_s: 60, startup_window_s: 300}\n' "$m"
    done
  done
}
write_bench_plant >"$work/plant.yaml"
"$oee" check-plant "$work/plant.yaml" >&2

mkdir -p "$work/data"
echo "backup_rpo_rto: generating the store (bench_storage, BENCH_STORAGE_PART=store)..." >&2
BENCH_STORAGE_PART=store BENCH_STORAGE_DB="$work/data/oee.sqlite" "$bench_storage" >&2
events=$(sqlite3 "$work/data/oee.sqlite" "SELECT sum(events) FROM sources")
store_bytes=$(stat -c %s "$work/data/oee.sqlite")
echo "backup_rpo_rto: store of $events events, $store_bytes bytes" >&2

now() { date +%s.%N; }
t0=$(now)
"$oee" backup --data-dir "$work/data" --out "$work/backup" >&2
t1=$(now)
backup_s=$(echo "$t1 - $t0" | bc)
backup_bytes=$(du -sb "$work/backup" | cut -f1)

t0=$(now)
"$oee" restore --from "$work/backup" --data-dir "$work/restored" >&2
t1=$(now)
port=$(free_port)
export OEE_ADMIN_TOKEN="bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
"$oee" serve --plant "$work/plant.yaml" --data-dir "$work/restored" --listen "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
pids+=("$!")
deadline=$(( $(date +%s) + ${BENCH_BACKUP_START_TIMEOUT_S:-900} ))
until curl -sf -o /dev/null "http://127.0.0.1:$port/readyz"; do
  kill -0 "${pids[-1]}" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
  # A server that recomputes rollups (a plant that differs from the store's rules) is not the RTO.
  [ "$(date +%s)" -lt "$deadline" ] || { echo "backup_rpo_rto: the server did not start in time" >&2; kill -9 "${pids[-1]}"; exit 1; }
  sleep 0.05
done
t2=$(now)
restore_s=$(echo "$t1 - $t0" | bc)
start_s=$(echo "$t2 - $t1" | bc)
rto_s=$(echo "$t2 - $t0" | bc)
rpo_s=$(echo "$interval_s + $backup_s" | bc)
restored_events=$(curl -sf -H "Authorization: Bearer $OEE_ADMIN_TOKEN" "http://127.0.0.1:$port/api/v1/sources" |
  python3 -c 'import json,sys; print(sum(s["events"] for s in json.load(sys.stdin)))')
[ "$restored_events" = "$events" ] || { echo "backup_rpo_rto: restored $restored_events of $events events" >&2; exit 1; }
echo "backup_rpo_rto: $events events; backup ${backup_s}s, ${backup_bytes} bytes; restore ${restore_s}s + start ${start_s}s" >&2

printf 'BENCH\tbackup of a %s-event SQLite store (oee backup)\t%.1f\ts\t-\t-\tlower\t-\n' "$events" "$backup_s"
printf 'BENCH\tbackup size, %s events\t%.1f\tMB\tstore file\t%.1f\tlower\t-\n' "$events" \
  "$(echo "$backup_bytes / 1000000" | bc -l)" "$(echo "$store_bytes / 1000000" | bc -l)"
printf 'BENCH\tRPO, continuous backups every %d s (interval + backup), %s events\t%.1f\ts\t-\t-\tlower\t< 300 (report)\n' \
  "$interval_s" "$events" "$rpo_s"
printf 'BENCH\tRTO: oee restore + oee serve until /readyz, %s events\t%.1f\ts\t-\t-\tlower\t< 3600 (report)\n' "$events" "$rto_s"
