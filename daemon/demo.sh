#!/usr/bin/env bash
# The demo: installs what is missing, builds nurseryd, and plays the example
# config's default bedtime routine on simulated devices, 60 times faster than
# real time (about 45 minutes of routine in under a minute). Every device
# change is printed as it happens; the run is stored in a fresh directory.
#   DEMO_DIR=DIR       keep the state there instead of a new temporary directory
#   NURSERY_TIME_SCALE=N  play N times faster (default 60)
#   --scheduled        instead of starting the routine at once, set a schedule
#                      for two (hub) minutes ahead with nurseryctl, show what
#                      `nurseryctl next` says, and watch the bedtime start by itself
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=${NURSERY_JOBS:-2}
time_scale=${NURSERY_TIME_SCALE:-60}
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD}
export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-true}

echo "==> installing dependencies"
bash tests/install-deps.sh

# The same options as tests/run.sh, so switching between the two commands
# does not rebuild everything.
echo "==> configuring build/ (MinSizeRel)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=MinSizeRel -DNURSERY_WERROR=ON \
  -DNURSERY_TESTS=ON >/dev/null
echo "==> building nurseryd and nurseryctl with $jobs jobs"
cmake --build build -j "$jobs" --target nurseryd nurseryctl

demo_dir=${DEMO_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/nurseryd-demo.XXXXXX")}
mkdir -p "$demo_dir"

if [[ ${1:-} == --scheduled ]]; then
  ctl() { build/web/nurseryctl --socket "$demo_dir/control.sock" "$@"; }
  echo "==> starting nurseryd at ${time_scale}x; a schedule will start the bedtime by itself"
  build/daemon/nurseryd --config config/nurseryd.toml --state-dir "$demo_dir" \
    --runtime-dir "$demo_dir" --time-scale "$time_scale" &
  daemon=$!
  trap 'kill "$daemon" 2>/dev/null || true' EXIT
  for _ in $(seq 100); do ctl status >/dev/null 2>&1 && break; sleep 0.1; done
  # Two minutes ahead on the hub's clock, in its time zone.
  at=$(ctl --json status | python3 -c '
import json, sys, datetime, zoneinfo
s = json.load(sys.stdin)["hub"]
now = datetime.datetime.fromisoformat(s["now"].replace("Z", "+00:00"))
print((now + datetime.timedelta(minutes=2)).astimezone(zoneinfo.ZoneInfo(s["time_zone"])).strftime("%H:%M"))')
  echo
  echo "\$ nurseryctl schedule set demo routine=bedtime days=daily at=$at"
  ctl schedule set demo routine=bedtime days=daily at="$at"
  echo "\$ nurseryctl status"
  ctl status
  # Wait for the scheduled run to start and end (the bedtime is about 45 minutes).
  started=""
  for _ in $(seq 1200); do
    state=$(ctl --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["rooms"][0]["routine"]["state"])')
    if [[ $state != idle && -z $started ]]; then
      started=1
      echo "==> the schedule started it:"
      ctl status
    fi
    [[ -n $started && $state == idle ]] && break
    sleep 0.1
  done
  echo "\$ nurseryctl runs --limit 1"
  ctl runs --limit 1
  kill -TERM "$daemon"
  wait "$daemon" || true
  trap - EXIT
  echo "==> state kept in $demo_dir"
  [[ -n $started ]] || { echo "==> FAILED: the scheduled bedtime did not start" >&2; exit 1; }
  exit 0
fi

echo "==> running the default bedtime routine at ${time_scale}x on simulated devices"
echo
status=0
build/daemon/nurseryd --config config/nurseryd.toml --state-dir "$demo_dir" \
  --runtime-dir "$demo_dir" --time-scale "$time_scale" --demo || status=$?
echo

echo "==> state kept in $demo_dir"
if ((status != 0)); then
  echo "==> FAILED: nurseryd exited with status $status" >&2
fi
exit "$status"
