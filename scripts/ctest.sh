#!/usr/bin/env bash
# Run the C/C++ test harness (ctest/) against the CMake package both ways a
# host can consume it:
#
#   1. add_subdirectory(cmake/)        build/ctest-subdir
#   2. installed, then find_package    build/ctest-pkg -> build/ctest-prefix,
#                                      tests in build/ctest-installed
#
# Both share one cargo target dir (build/cargo-target), so the crate is
# compiled once. Prints both CTest summaries and exits non-zero if either
# configuration fails. Run from anywhere:
#
#   scripts/ctest.sh
#
# CMAKE_BUILD_TYPE (default Release, as Triton builds) picks the cargo
# profile; CTEST_PARALLEL_LEVEL (default 2) the number of tests at once.
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib/harness-summary.sh
. "$repo/scripts/lib/harness-summary.sh"
build="$repo/build"
build_type=${CMAKE_BUILD_TYPE:-Release}
jobs=${CTEST_PARALLEL_LEVEL:-2}
cargo_target="$build/cargo-target"

step() { printf '\n==> %s\n' "$*"; }
die() {
  echo "ctest.sh: $*" >&2
  exit 1
}

if [ -x "$repo/scripts/ensure-cmake.sh" ]; then
  cmake=$("$repo/scripts/ensure-cmake.sh" | tail -n 1) || die "scripts/ensure-cmake.sh found no cmake"
else
  cmake=$(command -v cmake) || die "no cmake on PATH"
fi
ctest="$(dirname "$cmake")/ctest"
[ -x "$ctest" ] || ctest=$(command -v ctest) || die "no ctest next to $cmake or on PATH"
echo "using $cmake and $ctest ($("$cmake" --version | head -n 1))"

# run_ctest NAME BUILD_DIR: run the tests, keep the summary for the end.
declare -A summary
declare -A result
run_ctest() {
  local name=$1 dir=$2 log="$2/ctest-output.log"
  step "ctest ($name) in $dir"
  "$ctest" --test-dir "$dir" --output-on-failure --parallel "$jobs" 2>&1 | tee "$log"
  result[$name]=${PIPESTATUS[0]}
  # The summary: from the "% tests passed" line to the end.
  summary[$name]=$(sed -n '/tests passed/,$p' "$log")
}

# configure_build NAME SOURCE BUILD_DIR [cmake args...]: 0 on success.
configure_build() {
  local name=$1 source=$2 dir=$3
  shift 3
  step "configure ($name): $source -> $dir"
  "$cmake" -S "$source" -B "$dir" -DCMAKE_BUILD_TYPE="$build_type" \
    -DTRITON_SHM_CARGO_TARGET_DIR="$cargo_target" "$@" || return 1
  step "build ($name)"
  "$cmake" --build "$dir" --parallel "$jobs" || return 1
}

start=$(date +%s)

# 1. The package as a subdirectory of the test project, built with the
# xnu-model feature so that the region tests also run on the model of macOS
# (TRITON_SHM_BACKEND=xnu-model). The installed package below is built as
# it ships, without it.
if configure_build subdirectory "$repo/ctest" "$build/ctest-subdir" \
     -DTRITON_SHM_CONSUME=subdirectory -DTRITON_SHM_CARGO_FEATURES=xnu-model; then
  run_ctest subdirectory "$build/ctest-subdir"
else
  result[subdirectory]=1
  summary[subdirectory]="configure or build failed"
fi

# 2. The package installed into a fresh prefix, found with find_package. A
# fresh test build dir, so that no cached TritonShm_DIR points elsewhere.
prefix="$build/ctest-prefix"
rm -rf "$prefix" "$build/ctest-installed"
if configure_build package "$repo/cmake" "$build/ctest-pkg" \
     -DCMAKE_INSTALL_PREFIX="$prefix" &&
   { step "install into $prefix"; "$cmake" --install "$build/ctest-pkg" --prefix "$prefix"; } &&
   configure_build installed "$repo/ctest" "$build/ctest-installed" \
     -DTRITON_SHM_CONSUME=installed -DCMAKE_PREFIX_PATH="$prefix"; then
  run_ctest installed "$build/ctest-installed"
else
  result[installed]=1
  summary[installed]="package, install, configure or build failed"
fi

finish_harness scripts/ctest.sh "$start" subdirectory installed
