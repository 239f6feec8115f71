# Sourced by the bench/*.sh scripts; not a benchmark itself (scripts/bench.sh runs bench/*.sh only).
# Gives a run its scratch directory `work` and a list `pids` of background processes that are
# killed, and the directory removed, when the script exits, however it exits.
work=$(mktemp -d)
pids=()
bench_cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap bench_cleanup EXIT

# A TCP port free on loopback now (Debian's python3).
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_demo_server SCRIPT_NAME PORT [oee serve options…]: `$oee serve --demo` on 127.0.0.1:PORT with
# a fresh admin token (exported as OEE_ADMIN_TOKEN) and its log in $work/serve.log; returns once the
# demo has caught up with the present, with the process id in `server_pid`; exits when it does not.
start_demo_server() {
  local name=$1 port=$2
  shift 2
  export OEE_ADMIN_TOKEN="bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  "$oee" serve --demo --data-dir "$work/data" --listen "127.0.0.1:$port" --threads 2 "$@" >"$work/serve.log" 2>&1 &
  server_pid=$!
  pids+=("$server_pid")
  for _ in $(seq 600); do grep -qs "caught up" "$work/serve.log" && break; sleep 0.1; done
  grep -q "caught up" "$work/serve.log" || { echo "$name: the demo did not start" >&2; cat "$work/serve.log" >&2; exit 1; }
}
