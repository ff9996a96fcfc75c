# shellcheck shell=sh
# What the scripts under scripts/ share (sourced, not run; POSIX sh, so
# that macOS's bash 3.2 and dash run it alike):
#
#   messages      say, step, die, skip (a skip names what is not run and why)
#   the host      host_os (Linux, Darwin), is_macos, shared_library_name
#   the library   build_shipped_library (the shared and static library as
#                 they ship)
#   tools         ensure_cmake (sets $cmake and $ctest), install_debian_packages,
#                 ensure_rust_targets
#   CMake builds  configure_build NAME SOURCE BUILD_DIR [cmake args...]
#   results       record, run_logged, run_ctest, finish_harness
#
# The sourcing script sets `script` (its name, for messages) first; this file
# sets `repo` (the checkout) and, unless they are set, `jobs`
# (CTEST_PARALLEL_LEVEL, default 2) and `cargo_target` (the one cargo target
# dir every CMake build of the checkout shares: build/cargo-target).

repo=$(cd "$(dirname "$0")/.." && pwd)
jobs=${CTEST_PARALLEL_LEVEL:-2}
cargo_target=${cargo_target:-$repo/build/cargo-target}
host_os=$(uname -s)
harness_start=$(date +%s)

say() { printf '%s: %s\n' "${script:-triton-shm}" "$*" >&2; }
step() { printf '\n==> %s\n' "$*"; }
die() {
  say "$*"
  exit 1
}
# skip WHAT WHY: say that WHAT does not run here, and why.
skip() { printf '%s: skipped on %s: %s (%s)\n' "${script:-triton-shm}" "$host_os" "$1" "$2"; }

is_macos() { [ "$host_os" = Darwin ]; }

# The name cargo gives the shared library on this host.
shared_library_name() {
  if is_macos; then echo libtriton_shm.dylib; else echo libtriton_shm.so; fi
}

# build_shipped_library [CARGO ARGS...]: build the library as the CMake
# package ships it, with the command the package runs (cmake/cargo-build.sh
# library: release, cdylib and staticlib only, on Linux with versioned
# exports).
build_shipped_library() {
  sh "$repo/cmake/cargo-build.sh" library "$@"
}

# --- Tools ------------------------------------------------------------------------

# install_debian_packages PACKAGE...: apt-get install, as root on Debian or
# Ubuntu, saying so; fails (status 1) where that is not possible, e.g. on
# macOS, where the caller names what to install with Homebrew.
install_debian_packages() {
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    return 1
  fi
  say "installing $* with apt-get (running as root)"
  DEBIAN_FRONTEND=noninteractive
  export DEBIAN_FRONTEND
  if [ -z "${harness_apt_updated:-}" ]; then
    apt-get update -qq >&2 || return 1
    harness_apt_updated=1
  fi
  apt-get install -y -qq "$@" >&2
}

# ensure_rust_targets TRIPLE...: add the standard library of each missing
# Rust target with rustup, saying so.
ensure_rust_targets() {
  _installed=$(rustup target list --installed) || return 1
  for _target in "$@"; do
    if ! printf '%s\n' "$_installed" | grep -qx "$_target"; then
      say "adding the $_target standard library with rustup"
      rustup target add "$_target" || return 1
    fi
  done
}

cmake_min_major=3
cmake_min_minor=18

# True if $1 runs and reports a version >= cmake_min_major.cmake_min_minor.
cmake_new_enough() {
  [ -n "$1" ] || return 1
  _version=$("$1" --version 2>/dev/null |
    sed -n '1s/^cmake version \([0-9][0-9]*\.[0-9][0-9]*\).*/\1/p') || return 1
  [ -n "$_version" ] || return 1
  _major=${_version%%.*}
  _minor=${_version#*.}
  [ "$_major" -gt "$cmake_min_major" ] ||
    { [ "$_major" -eq "$cmake_min_major" ] && [ "$_minor" -ge "$cmake_min_minor" ]; }
}

# The cmake pip installed into .tools/cmake (its real executable, which
# needs no PYTHONPATH), if there is one.
cmake_from_tools() {
  for _found in "$repo/.tools/cmake/cmake/data/bin/cmake" \
    "$repo/.tools/cmake/cmake/data/CMake.app/Contents/bin/cmake"; do
    if [ -x "$_found" ]; then
      echo "$_found"
      return 0
    fi
  done
  return 1
}

# Set `cmake` to a cmake >= 3.18 and `ctest` to its ctest. In order: $CMAKE,
# cmake on PATH (Homebrew's on macOS), one installed earlier into .tools/cmake.
# When none is new enough, installs one and says so: with apt-get as root on
# Debian or Ubuntu, otherwise (or when apt's is too old) with pip into
# .tools/cmake.
ensure_cmake() {
  cmake=""
  for _candidate in "${CMAKE:-}" "$(command -v cmake 2>/dev/null || true)" \
    "$(cmake_from_tools || true)"; do
    if cmake_new_enough "$_candidate"; then
      cmake=$_candidate
      break
    fi
  done
  if [ -z "$cmake" ]; then
    if command -v cmake >/dev/null 2>&1; then
      say "$(command -v cmake) is older than $cmake_min_major.$cmake_min_minor"
    else
      say "no cmake on PATH"
    fi
    if install_debian_packages cmake && cmake_new_enough /usr/bin/cmake; then
      cmake=/usr/bin/cmake
    else
      _python=$(command -v python3 || true)
      if [ -z "$_python" ] || ! "$_python" -m pip --version >/dev/null 2>&1; then
        die "no cmake >= $cmake_min_major.$cmake_min_minor: install one (macOS: brew install cmake), or python3 with pip"
      fi
      say "installing cmake with pip into $repo/.tools/cmake"
      rm -rf "$repo/.tools/cmake"
      mkdir -p "$repo/.tools/cmake"
      "$_python" -m pip install --quiet --disable-pip-version-check --target "$repo/.tools/cmake" \
        "cmake>=$cmake_min_major.$cmake_min_minor" >&2 || die "pip could not install cmake"
      cmake=$(cmake_from_tools) || die "pip installed no usable cmake into $repo/.tools/cmake"
    fi
  fi
  ctest="$(dirname "$cmake")/ctest"
  [ -x "$ctest" ] || ctest=$(command -v ctest) || die "no ctest next to $cmake or on PATH"
}

# --- CMake builds -------------------------------------------------------------------

# configure_build NAME SOURCE BUILD_DIR [cmake args...]: configure with
# CMAKE_BUILD_TYPE=$build_type (default Release) and the shared cargo target
# dir, then build. Status 0 on success.
configure_build() {
  _name=$1
  _source=$2
  _dir=$3
  shift 3
  step "configure ($_name): $_source -> $_dir"
  "$cmake" -S "$_source" -B "$_dir" -DCMAKE_BUILD_TYPE="${build_type:-Release}" \
    -DTRITON_SHM_CARGO_TARGET_DIR="$cargo_target" "$@" || return 1
  step "build ($_name)"
  "$cmake" --build "$_dir" --parallel "$jobs" || return 1
}

# --- Results --------------------------------------------------------------------------

harness_results=

# record NAME STATUS SUMMARY: keep a configuration's exit status and summary
# for finish_harness.
record() {
  [ -n "$harness_results" ] ||
    harness_results=$(mktemp -d "${TMPDIR:-/tmp}/triton-shm-results.XXXXXX") || exit 1
  printf '%s\n' "$2" >"$harness_results/$1.status"
  printf '%s\n' "$3" >"$harness_results/$1.summary"
}

# run_logged LOG COMMAND...: run COMMAND, its output to the terminal and to
# LOG; the status is COMMAND's.
run_logged() {
  _log=$1
  shift
  { "$@" 2>&1; echo $? >"$_log.status"; } | tee "$_log"
  return "$(cat "$_log.status")"
}

# The lines of a CTest log from "% tests passed" to the end.
ctest_summary() { sed -n '/tests passed/,$p' "$1"; }

# print_skip_reasons BUILD_DIR: the reason each test CTest reports as
# skipped gave (its output line starting "skipped:"), which CTest itself
# does not show.
print_skip_reasons() {
  _last="$1/Testing/Temporary/LastTest.log"
  [ -f "$_last" ] || return 0
  awk '/^[0-9]+\/[0-9]+ Test: /{test=$3} /^skipped: /{print "skipped test " test ": " substr($0, 10)}' "$_last"
}

# run_ctest NAME BUILD_DIR [ctest args...]: run the tests there and record
# the result and CTest's summary under NAME.
run_ctest() {
  _name=$1
  _dir=$2
  shift 2
  step "ctest ($_name) in $_dir"
  run_logged "$_dir/ctest-output.log" "$ctest" --test-dir "$_dir" --output-on-failure \
    --parallel "$jobs" "$@"
  _status=$?
  record "$_name" "$_status" "$(ctest_summary "$_dir/ctest-output.log")"
  print_skip_reasons "$_dir"
  return "$_status"
}

# finish_harness NAME...: print each recorded summary, fail on anything the
# tests left in /dev/shm since this script started (Linux; macOS has no
# /dev/shm, and says so), print the closing line and exit with the combined
# status. The tests name their objects <letter><pid>_<tag>; the seed's region
# is /test_shm_region.
finish_harness() {
  _status=0
  for _name in "$@"; do
    printf '\n==> summary (%s)\n' "$_name"
    cat "$harness_results/$_name.summary" 2>/dev/null || echo "not run"
    [ "$(cat "$harness_results/$_name.status" 2>/dev/null)" = 0 ] || _status=1
  done
  if [ -d /dev/shm ]; then
    _leftover=$(find /dev/shm -maxdepth 1 -newermt "@$harness_start" \
      \( -name test_shm_region -o -regex '/dev/shm/[a-z][0-9]+_.*' \) 2>/dev/null)
    if [ -n "$_leftover" ]; then
      echo "left behind in /dev/shm: $_leftover" >&2
      _status=1
    fi
  else
    skip "the check for objects left behind" "no /dev/shm lists POSIX shared memory here"
  fi
  echo
  if [ "$_status" -eq 0 ]; then _verdict=passed; else _verdict=FAILED; fi
  echo "${script:-triton-shm}: $_verdict in $(($(date +%s) - harness_start))s"
  exit "$_status"
}
