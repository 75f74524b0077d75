#!/usr/bin/env bash
# The demo: installs what is missing, builds nurseryd, and plays the example
# config's default bedtime routine on simulated devices, 60 times faster than
# real time (about 45 minutes of routine in under a minute). Every device
# change is printed as it happens; the run is stored in a fresh directory.
#   DEMO_DIR=DIR       keep the state there instead of a new temporary directory
#   NURSERY_TIME_SCALE=N  play N times faster (default 60)
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
