#!/usr/bin/env bash
# Benchmark: `wrk -t2 -c100` on the current-shift KPI endpoint of `oee serve --demo`
# (GET /api/v1/kpis, with a bearer token) against nginx serving a static file of the same size, in
# the same run. Both get the same 2 cores; wrk shares them.
# Second row: the same requests with the rate limits on against off (a restart of the same demo
# with --rate-limit-*-per-s 0). "On" has limits too high to refuse anything, so every request pays
# for the per-address and per-token checks and none is answered early with a cheap 429.
# Usage: bench/api_http.sh BUILD_DIR    (BENCH_QUICK=1: 5 s runs instead of 15 s)
set -euo pipefail
build=${1:?usage: api_http.sh BUILD_DIR}
oee="$build/bin/oee"
seconds=15
[ "${BENCH_QUICK:-0}" = 1 ] && seconds=5
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"

port=$(free_port)
limits_on=(--rate-limit-address-per-s 1e9 --rate-limit-address-burst 1e9 --rate-limit-token-per-s 1e9 --rate-limit-token-burst 1e9)
limits_off=(--rate-limit-address-per-s 0 --rate-limit-token-per-s 0)
start_demo_server api_http.sh "$port" --history-hours 8 "${limits_on[@]}"
url="http://127.0.0.1:$port/api/v1/kpis"
curl -sf -H "Authorization: Bearer $OEE_ADMIN_TOKEN" "$url" >"$work/kpis.json"
bytes=$(stat -c %s "$work/kpis.json")

# nginx with its own prefix and config on a free port, serving a file of the same size.
nport=$(free_port)
mkdir -p "$work/nginx/html" "$work/nginx/logs"
cp "$work/kpis.json" "$work/nginx/html/kpis.json"
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes 2;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  default_type application/json;
  client_body_temp_path $work/nginx/tmp_body;
  proxy_temp_path $work/nginx/tmp_proxy;
  fastcgi_temp_path $work/nginx/tmp_fastcgi;
  uwsgi_temp_path $work/nginx/tmp_uwsgi;
  scgi_temp_path $work/nginx/tmp_scgi;
  server { listen 127.0.0.1:$nport; root $work/nginx/html; }
}
CONF
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
pids+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$nport/kpis.json" >/dev/null && break; sleep 0.1; done

rate() {  # requests per second from wrk's output
  awk '/^Requests\/sec:/ { print $2 }'
}
nginx_rps=$(wrk -t2 -c100 -d"${seconds}s" "http://127.0.0.1:$nport/kpis.json" | tee "$work/wrk-nginx.txt" | rate)
ours_rps=$(wrk -t2 -c100 -d"${seconds}s" -H "Authorization: Bearer $OEE_ADMIN_TOKEN" "$url" | tee "$work/wrk-ours.txt" | rate)
errors=$(grep -E "Non-2xx|Socket errors" "$work/wrk-ours.txt" || true)
[ -z "$errors" ] || echo "api_http.sh: $errors" >&2
echo "KPI body: $bytes bytes; nginx ${nginx_rps} req/s, oee ${ours_rps} req/s" >&2
printf 'BENCH\tGET /api/v1/kpis (current shift, plant, %s B), wrk -t2 -c100\t%s\treq/s\tnginx static file, same size\t%s\thigher\t>= 0.5 x baseline\n' \
  "$bytes" "$ours_rps" "$nginx_rps"

# The same server restarted on the same data with the rate limits off.
kill "$server_pid"
wait "$server_pid" || true
start_demo_server api_http.sh "$port" --history-hours 8 "${limits_off[@]}"
off_rps=$(wrk -t2 -c100 -d"${seconds}s" -H "Authorization: Bearer $OEE_ADMIN_TOKEN" "$url" | tee "$work/wrk-off.txt" | rate)
errors=$(grep -E "Non-2xx|Socket errors" "$work/wrk-off.txt" || true)
[ -z "$errors" ] || echo "api_http.sh (limits off): $errors" >&2
echo "oee with rate limits on ${ours_rps} req/s, off ${off_rps} req/s" >&2
printf 'BENCH\tGET /api/v1/kpis with rate limiting on, wrk -t2 -c100\t%s\treq/s\trate limiting off\t%s\thigher\t>= 0.95 x baseline\n' \
  "$ours_rps" "$off_rps"
