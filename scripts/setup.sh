#!/usr/bin/env bash
# Installs everything the project needs on a fresh Debian 12 machine. Idempotent: a second run
# installs nothing and takes a second or two.
set -euo pipefail
# Node.js 20 with its npm ships on the machine (Debian's npm package conflicts with it).
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

debian_packages=(
  # build
  build-essential g++ cmake ninja-build pkg-config ccache clang libclang-rt-14-dev libfuzzer-14-dev
  # libraries
  libboost-dev libyaml-cpp-dev nlohmann-json3-dev libsimdjson-dev libsqlite3-dev sqlite3
  libspdlog-dev libfmt-dev libcli11-dev libssl-dev libsodium-dev libmosquitto-dev libpq-dev
  libmodbus-dev libhowardhinnant-date-dev tzdata libprotobuf-dev protobuf-compiler
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  mosquitto mosquitto-clients nats-server postgresql-15 postgresql-15-auto-failover python3-pymodbus python3-serial python3-serial-asyncio  # pymodbus 3.0 server imports serial
  chromium nginx wrk curl procps psmisc testssl.sh
)

missing=()
for p in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo_cmd=(); [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  echo "setup: installing Debian packages: ${missing[*]}"
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts these services on install; the project starts its own on loopback when needed.
  for svc in mosquitto nginx postgresql; do
    "${sudo_cmd[@]}" systemctl disable --now "$svc" >/dev/null 2>&1 || "${sudo_cmd[@]}" service "$svc" stop >/dev/null 2>&1 || true
  done
fi

# npm packages (test peers, browser driver, dashboard libraries), pinned by package-lock.json.
if [[ -f "$here/package.json" ]]; then
  stamp="$here/node_modules/.setup-stamp"
  if [[ ! -f "$stamp" || "$here/package-lock.json" -nt "$stamp" ]]; then
    echo "setup: installing npm packages"
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
    touch "$stamp"
  fi
fi
