#!/usr/bin/env bash
# The native-code gates: the C/C++ harness (ctest/) must run clean under
#
#   1. AddressSanitizer (with LeakSanitizer) and UBSan, built with clang:
#      build/gates-asan, the package as add_subdirectory, every finding fatal;
#      the harness itself checks that the runtimes are linked into the test
#      programs and that a heap overflow, a leak and a signed overflow are
#      reported (so the gate is able to fail);
#   2. valgrind memcheck, built with GCC: build/gates-valgrind, through
#      `ctest -T memcheck`; any error or block definitely lost is a defect,
#      and a deliberately leaking control must be reported as one.
#
# Installs what it needs when run as root on Debian or Ubuntu (clang,
# valgrind, the clang sanitizer runtimes, g++) and says so on stderr; cmake
# comes from scripts/ensure-cmake.sh. Shares build/cargo-target with
# scripts/ctest.sh, so the crate is compiled once per profile. Prints each
# gate's CTest summary and a final line; exits non-zero on any failure.
#
#   scripts/gates-native.sh
#
# GATES_BUILD_TYPE (default RelWithDebInfo: the release crate, test programs
# with debug info) and CTEST_PARALLEL_LEVEL (default 2) may be set.
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib/harness-summary.sh
. "$repo/scripts/lib/harness-summary.sh"
build="$repo/build"
build_type=${GATES_BUILD_TYPE:-RelWithDebInfo}
jobs=${CTEST_PARALLEL_LEVEL:-2}
cargo_target="$build/cargo-target"

step() { printf '\n==> %s\n' "$*"; }
say() { echo "gates-native: $*" >&2; }
die() {
  say "$*"
  exit 1
}

# --- Tools ----------------------------------------------------------------------

# True if clang can build and run a program with ASan and UBSan (the runtimes
# come in a separate package on Debian and Ubuntu).
clang_sanitizers_work() {
  local dir
  command -v clang >/dev/null 2>&1 && command -v clang++ >/dev/null 2>&1 || return 1
  dir=$(mktemp -d) || return 1
  printf 'int main(void) { return 0; }\n' >"$dir/probe.c"
  if clang -fsanitize=address,undefined "$dir/probe.c" -o "$dir/probe" >/dev/null 2>&1 &&
     ASAN_OPTIONS=detect_leaks=0 "$dir/probe" >/dev/null 2>&1; then
    rm -rf "$dir"
    return 0
  fi
  rm -rf "$dir"
  return 1
}

missing=()
clang_sanitizers_work || missing+=(clang)
command -v valgrind >/dev/null 2>&1 || missing+=(valgrind)
{ command -v gcc >/dev/null 2>&1 && command -v g++ >/dev/null 2>&1; } || missing+=(g++)
command -v nm >/dev/null 2>&1 || missing+=(binutils)

if [ ${#missing[@]} -gt 0 ]; then
  say "missing or not working: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    die "install clang (with its sanitizer runtimes), valgrind, g++ and binutils, then run again"
  fi
  packages=(clang valgrind g++ binutils)
  say "installing ${packages[*]} with apt-get (running as root)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 || die "apt-get update failed"
  apt-get install -y -qq "${packages[@]}" >&2 || die "apt-get install ${packages[*]} failed"
  # The sanitizer runtimes of the installed clang: libclang-rt-N-dev on
  # recent releases; older ones ship them with clang itself.
  if ! clang_sanitizers_work; then
    major=$(clang -dumpversion 2>/dev/null | cut -d. -f1)
    say "installing libclang-rt-$major-dev with apt-get (clang's sanitizer runtimes)"
    apt-get install -y -qq "libclang-rt-$major-dev" >&2 ||
      die "apt-get install libclang-rt-$major-dev failed"
  fi
  clang_sanitizers_work || die "clang cannot build a program with -fsanitize=address,undefined"
fi

cmake=$("$repo/scripts/ensure-cmake.sh" | tail -n 1) || die "scripts/ensure-cmake.sh found no cmake"
ctest="$(dirname "$cmake")/ctest"
[ -x "$ctest" ] || ctest=$(command -v ctest) || die "no ctest next to $cmake or on PATH"
echo "using $cmake ($("$cmake" --version | head -n 1)), $(clang --version | head -n 1),"
echo "  $(gcc --version | head -n 1), $(valgrind --version)"

# --- Helpers ----------------------------------------------------------------------

declare -A summary
declare -A result

# configure_build DIR [cmake args...]: 0 on success. The harness consumes the
# package as a subdirectory, built with the xnu-model feature so that the
# region tests also run on the model of macOS (as in scripts/ctest.sh).
configure_build() {
  local dir=$1
  shift
  step "configure $dir"
  "$cmake" -S "$repo/ctest" -B "$dir" -DCMAKE_BUILD_TYPE="$build_type" \
    -DTRITON_SHM_CONSUME=subdirectory -DTRITON_SHM_CARGO_FEATURES=xnu-model \
    -DTRITON_SHM_CARGO_TARGET_DIR="$cargo_target" "$@" || return 1
  step "build $dir"
  "$cmake" --build "$dir" --parallel "$jobs" || return 1
}

# The lines of a CTest log from "% tests passed" to the end.
ctest_summary() { sed -n '/tests passed/,$p' "$1"; }

# What the bad-input corpus reported (its count and known issues), from
# CTest's log of the run in $1 (LastTest*.log, or LastDynamicAnalysis*.log
# under memcheck).
bad_input_count() {
  grep -h -E '^(bad inputs|known issue):' "$1"/Testing/Temporary/Last*.log 2>/dev/null
}

# Sum of the defect counts in the memcheck report of the run in $1.
memcheck_defects() {
  local tag
  tag=$(head -n 1 "$1/Testing/TAG" 2>/dev/null) || {
    echo "no report"
    return
  }
  grep -o '<Defect type="[^"]*">[0-9]*</Defect>' "$1/Testing/$tag/DynamicAnalysis.xml" 2>/dev/null |
    sed 's/.*>\([0-9]*\)<.*/\1/' | awk '{ n += $1 } END { print n + 0 }'
}

start=$(date +%s)

# --- Gate 1: ASan + LSan + UBSan (clang) ---------------------------------------------

asan="$build/gates-asan"
if configure_build "$asan" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
     -DTRITON_SHM_SANITIZE=ON; then
  step "ctest under ASan, LSan and UBSan in $asan"
  rm -rf "$asan/Testing"
  # Also set on every test by ctest/CMakeLists.txt; here for the record.
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
  (cd "$asan" && "$ctest" --output-on-failure --parallel "$jobs") 2>&1 | tee "$asan/gate.log"
  result[sanitizers]=${PIPESTATUS[0]}
  unset ASAN_OPTIONS UBSAN_OPTIONS
  summary[sanitizers]="$(ctest_summary "$asan/gate.log")
$(bad_input_count "$asan")"
else
  result[sanitizers]=1
  summary[sanitizers]="configure or build failed"
fi

# --- Gate 2: valgrind memcheck (GCC) ----------------------------------------------------

vg="$build/gates-valgrind"
if configure_build "$vg" -DCMAKE_C_COMPILER=gcc -DCMAKE_CXX_COMPILER=g++ \
     -DTRITON_SHM_MEMCHECK=ON; then
  step "ctest -T memcheck in $vg (all tests but no_memcheck and the control)"
  rm -rf "$vg/Testing"
  (cd "$vg" && "$ctest" -T memcheck -LE 'no_memcheck|memcheck_control' \
     --output-on-failure --parallel "$jobs") 2>&1 | tee "$vg/gate.log"
  rc=${PIPESTATUS[0]}
  defects=$(memcheck_defects "$vg")
  counted=$(bad_input_count "$vg")
  echo "memcheck defects: $defects"
  result[valgrind]=$rc
  [ "$defects" = "0" ] || result[valgrind]=1

  # The controls: the same memcheck run over a leaking program and one that
  # reads past a heap block must fail both and count a defect for each, or a
  # clean run above proves nothing.
  step "ctest -T memcheck controls: a leak and an invalid read must be reported"
  rm -rf "$vg/Testing"
  (cd "$vg" && "$ctest" -T memcheck -L memcheck_control --output-on-failure) \
    >"$vg/gate-control.log" 2>&1
  control_rc=$?
  control_defects=$(memcheck_defects "$vg")
  if [ "$control_rc" -ne 0 ] && grep -q '^0% tests passed, 2 tests failed out of 2' "$vg/gate-control.log" &&
     [ "$control_defects" -ge 2 ] 2>/dev/null; then
    control="controls: the leak and the invalid read were reported ($control_defects defects, both tests failed)"
  else
    control="controls FAILED: the leak and the invalid read were not both reported (ctest exit $control_rc, defects: $control_defects)"
    cat "$vg/gate-control.log"
    result[valgrind]=1
  fi
  echo "$control"
  summary[valgrind]="$(ctest_summary "$vg/gate.log")
memcheck defects: $defects
$counted
$control"
else
  result[valgrind]=1
  summary[valgrind]="configure or build failed"
fi

# --- Summary ------------------------------------------------------------------------------

finish_harness scripts/gates-native.sh "$start" sanitizers valgrind
