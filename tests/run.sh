#!/usr/bin/env bash
# The one test command: installs what is missing, then builds and runs every
# test twice (MinSizeRel with -Werror in build/, Debug with ASan+UBSan in
# build-asan/), and checks the systemd unit's hardening score.
# .ci/run runs this unchanged. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

jobs=${NURSERY_JOBS:-2}
max_exposure=2.0
started=$SECONDS

# ccache keyed on paths relative to the checkout, so that a fresh clone in
# another folder reuses what an earlier build compiled.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root}
export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-true}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1}

log_dir=$(mktemp -d)
trap 'rm -rf "$log_dir"' EXIT

elapsed() { echo "$((SECONDS - started)) s"; }

# build DIR LABEL CMAKE_ARGS...
build() {
  local dir=$1 label=$2
  shift 2
  echo "==> configuring $dir ($label)"
  cmake -S "$root" -B "$root/$dir" -G Ninja -DNURSERY_TESTS=ON "$@" >"$log_dir/$dir-configure.log" ||
    { cat "$log_dir/$dir-configure.log"; return 1; }
  echo "==> building $dir ($label) with $jobs jobs [$(elapsed)]"
  cmake --build "$root/$dir" -j "$jobs"
}

# run_tests DIR LABEL: runs ctest and records "passed failed" in $log_dir/DIR.count
run_tests() {
  local dir=$1 label=$2 status=0
  echo "==> testing $dir ($label) [$(elapsed)]"
  ctest --test-dir "$root/$dir" --output-on-failure --no-tests=error -j "$jobs" |
    tee "$log_dir/$dir-ctest.log" || status=$?
  local total failed
  total=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\2/p' \
    "$log_dir/$dir-ctest.log" | tail -n 1)
  failed=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\1/p' \
    "$log_dir/$dir-ctest.log" | tail -n 1)
  echo "$((${total:-0} - ${failed:-0})) ${failed:-0}" >"$log_dir/$dir.count"
  if ((status != 0)); then
    echo "==> FAILED: tests in $dir ($label)" >&2
    return "$status"
  fi
}

echo "==> installing dependencies"
bash tests/install-deps.sh

build build "MinSizeRel, -Werror" -DCMAKE_BUILD_TYPE=MinSizeRel -DNURSERY_WERROR=ON
run_tests build "MinSizeRel, -Werror"

build build-asan "Debug, ASan+UBSan, -Werror" -DCMAKE_BUILD_TYPE=Debug -DNURSERY_SANITIZE=ON \
  -DNURSERY_WERROR=ON
run_tests build-asan "Debug, ASan+UBSan, -Werror"

echo "==> scoring systemd/nurseryd.service (must be at most $max_exposure) [$(elapsed)]"
security=$(systemd-analyze security --offline=true systemd/nurseryd.service 2>&1) || {
  echo "$security" >&2
  echo "==> FAILED: systemd-analyze security could not score the unit" >&2
  exit 1
}
exposure=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9]*\.[0-9]\).*/\1/p' \
  <<<"$security" | tail -n 1)
if [[ -z "$exposure" ]]; then
  echo "$security" >&2
  echo "==> FAILED: no 'Overall exposure level' in systemd-analyze's output" >&2
  exit 1
fi
if awk -v e="$exposure" -v m="$max_exposure" 'BEGIN { exit !(e > m) }'; then
  echo "$security" | grep '✗' >&2 || true
  echo "==> FAILED: nurseryd.service exposure $exposure is above $max_exposure" >&2
  exit 1
fi
echo "==> nurseryd.service exposure $exposure (at most $max_exposure)"

read -r release_passed release_failed <"$log_dir/build.count"
read -r asan_passed asan_failed <"$log_dir/build-asan.count"
echo "==> all checks passed in $(elapsed): $release_passed tests (MinSizeRel)," \
  "$asan_passed tests (ASan+UBSan), unit exposure $exposure"
echo "summary: $((release_passed + asan_passed)) passed, $((release_failed + asan_failed)) failed"
