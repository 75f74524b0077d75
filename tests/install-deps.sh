#!/usr/bin/env bash
# Installs the Debian 12 / Raspberry Pi OS Bookworm packages nursery-hub needs
# to build, test and run its demo. Idempotent: when every package is already
# installed it touches neither apt nor the network, so repeated runs are fast.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config
  # libraries (see shared docs: stack.md)
  libboost-dev libpaho-mqttpp-dev libpaho-mqtt-dev libssl-dev
  libsdbus-c++-dev libsystemd-dev libsqlitecpp-dev libsqlite3-dev
  libgtest-dev libgmock-dev libtomlplusplus-dev nlohmann-json3-dev
  libspdlog-dev libfmt-dev libhowardhinnant-date-dev tzdata
  # brokers and buses for integration tests
  mosquitto mosquitto-clients python3-dbusmock dbus
  # the MQTT test client and the benchmark's floor responder (libmosquitto)
  libmosquitto-dev
  # systemd-analyze (unit scoring), sqlite3 (integrity checks), ps/pgrep
  systemd sqlite3 procps
)

echo "==> checking ${#packages[@]} Debian packages"
missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
  if [[ "$status" != "installed" ]]; then
    missing+=("$package")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "==> all packages already installed"
  exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "error: missing packages (${missing[*]}) and not root, and sudo is not installed" >&2
  exit 1
fi

echo "==> missing: ${missing[*]}"
echo "==> apt-get update"
"${as_root[@]}" apt-get update
echo "==> apt-get install (${#missing[@]} packages)"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y --no-install-recommends "${missing[@]}"
echo "==> dependencies installed"
