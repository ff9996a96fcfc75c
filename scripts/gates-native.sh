#!/bin/sh
# The native-code gates: the C/C++ harness (ctest/) must run clean under
#
#   1. AddressSanitizer and UBSan, built with clang: build/gates-asan, the
#      package as add_subdirectory, every finding fatal; with LeakSanitizer
#      on Linux (macOS has none: skipped there, and said so). The harness
#      itself checks that the runtimes are linked into the test programs and
#      that a heap overflow, a signed overflow and (Linux) a leak are
#      reported, so that the gate is able to fail;
#   2. valgrind memcheck, built with GCC (Linux only; valgrind does not run
#      on current macOS: skipped there, and said so): build/gates-valgrind,
#      through `ctest -T memcheck`; any error or block definitely lost is a
#      defect, and a deliberately leaking control must be reported as one.
#
# Installs what it needs when run as root on Debian or Ubuntu (clang,
# valgrind, the clang sanitizer runtimes, g++) and says so on stderr; on
# macOS Xcode's clang is used. cmake comes from ensure_cmake
# (scripts/lib/harness.sh). Shares build/cargo-target with scripts/ctest.sh.
# Prints each gate's CTest summary and a final line; exits non-zero on any
# failure.
#
#   scripts/gates-native.sh
#
# GATES_BUILD_TYPE (default RelWithDebInfo: the release crate, test programs
# with debug info) and CTEST_PARALLEL_LEVEL (default 2) may be set.
set -u
script=scripts/gates-native.sh
# shellcheck source=lib/harness.sh
. "$(dirname "$0")/lib/harness.sh"
# shellcheck source=lib/cuda_runtime.sh
. "$(dirname "$0")/lib/cuda_runtime.sh"
build="$repo/build"
build_type=${GATES_BUILD_TYPE:-RelWithDebInfo}

# --- Tools ----------------------------------------------------------------------

# True if clang can build and run a program with ASan and UBSan (the runtimes
# come in a separate package on Debian and Ubuntu).
clang_sanitizers_work() {
  command -v clang >/dev/null 2>&1 && command -v clang++ >/dev/null 2>&1 || return 1
  probe=$(mktemp -d) || return 1
  printf 'int main(void) { return 0; }\n' >"$probe/probe.c"
  if clang -fsanitize=address,undefined "$probe/probe.c" -o "$probe/probe" >/dev/null 2>&1 &&
    ASAN_OPTIONS=detect_leaks=0 "$probe/probe" >/dev/null 2>&1; then
    rm -rf "$probe"
    return 0
  fi
  rm -rf "$probe"
  return 1
}

missing=
clang_sanitizers_work || missing="$missing clang"
if ! is_macos; then
  command -v valgrind >/dev/null 2>&1 || missing="$missing valgrind"
  { command -v gcc >/dev/null 2>&1 && command -v g++ >/dev/null 2>&1; } || missing="$missing g++"
  command -v nm >/dev/null 2>&1 || missing="$missing binutils"
fi
if [ -n "$missing" ]; then
  say "missing or not working:$missing"
  if is_macos; then
    die "install Xcode's command line tools (xcode-select --install) for clang with its sanitizers"
  fi
  # shellcheck disable=SC2086 # one word per package
  install_debian_packages $missing ||
    die "install$missing (clang with its sanitizer runtimes), then run again"
  # The sanitizer runtimes of the installed clang: libclang-rt-N-dev on
  # recent releases; older ones ship them with clang itself.
  if ! clang_sanitizers_work; then
    major=$(clang -dumpversion 2>/dev/null | cut -d. -f1)
    install_debian_packages "libclang-rt-$major-dev" ||
      die "apt-get install libclang-rt-$major-dev failed"
  fi
  clang_sanitizers_work || die "clang cannot build a program with -fsanitize=address,undefined"
fi

ensure_cmake
echo "using $cmake ($("$cmake" --version | head -n 1)), $(clang --version | head -n 1)"
is_macos || echo "  $(gcc --version | head -n 1), $(valgrind --version)"

# --- Helpers ----------------------------------------------------------------------

# The harness with the package as a subdirectory, built with the xnu-model
# feature on Linux so that the region tests also run on the model of macOS
# (as in scripts/ctest.sh).
features=
is_macos || features=-DTRITON_SHM_CARGO_FEATURES=xnu-model
# With a CUDA runtime's headers (as in scripts/ctest.sh), the drop-in's CUDA
# scenarios against the CUDA stand-in run under both gates too.
cuda_root=$(cuda_runtime_for_tests "$build/cuda-runtime") || cuda_root=

# What the bad-input corpus reported (its count and known issues), from
# CTest's log of the run in $1 (LastTest*.log, or LastDynamicAnalysis*.log
# under memcheck).
bad_input_count() {
  grep -h -E '^(bad inputs|known issue):' "$1"/Testing/Temporary/Last*.log 2>/dev/null
}

# Sum of the defect counts in the memcheck report of the run in $1.
memcheck_defects() {
  tag=$(head -n 1 "$1/Testing/TAG" 2>/dev/null) || {
    echo "no report"
    return
  }
  grep -o '<Defect type="[^"]*">[0-9]*</Defect>' "$1/Testing/$tag/DynamicAnalysis.xml" 2>/dev/null |
    sed 's/.*>\([0-9]*\)<.*/\1/' | awk '{ n += $1 } END { print n + 0 }'
}

# --- Gate 1: ASan + UBSan (+ LSan on Linux) with clang ---------------------------------

asan="$build/gates-asan"
if is_macos; then
  skip "LeakSanitizer and its control" "Apple's clang has no LeakSanitizer"
fi
# shellcheck disable=SC2086 # $features is one argument or none
if configure_build sanitizers "$repo/ctest" "$asan" -DTRITON_SHM_CONSUME=subdirectory $features \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DTRITON_SHM_SANITIZE=ON \
  ${cuda_root:+"-DTRITON_SHM_CUDA_ROOT=$cuda_root"}; then
  rm -rf "$asan/Testing"
  # The options are set on every test by ctest/CMakeLists.txt.
  run_ctest sanitizers "$asan"
  record sanitizers "$(cat "$asan/ctest-output.log.status")" \
    "$(ctest_summary "$asan/ctest-output.log")
$(bad_input_count "$asan")"
else
  record sanitizers 1 "configure or build failed"
fi

# --- Gate 2: valgrind memcheck (GCC), Linux only ----------------------------------------

if is_macos; then
  skip "the valgrind memcheck gate" "valgrind does not run on current macOS"
  finish_harness sanitizers
fi

vg="$build/gates-valgrind"
# shellcheck disable=SC2086 # $features is one argument or none
if configure_build valgrind "$repo/ctest" "$vg" -DTRITON_SHM_CONSUME=subdirectory $features \
  -DCMAKE_C_COMPILER=gcc -DCMAKE_CXX_COMPILER=g++ -DTRITON_SHM_MEMCHECK=ON \
  ${cuda_root:+"-DTRITON_SHM_CUDA_ROOT=$cuda_root"}; then
  step "ctest -T memcheck in $vg (all tests but no_memcheck and the control)"
  rm -rf "$vg/Testing"
  # run_logged runs it in a subshell: the cd stays there.
  # shellcheck disable=SC2317 # called through run_logged
  memcheck_all() {
    cd "$vg" && "$ctest" -T memcheck -LE 'no_memcheck|memcheck_control' \
      --output-on-failure --parallel "$jobs"
  }
  run_logged "$vg/gate.log" memcheck_all
  rc=$?
  defects=$(memcheck_defects "$vg")
  counted=$(bad_input_count "$vg")
  echo "memcheck defects: $defects"
  [ "$defects" = "0" ] || rc=1

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
    rc=1
  fi
  echo "$control"
  record valgrind "$rc" "$(ctest_summary "$vg/gate.log")
memcheck defects: $defects
$counted
$control"
else
  record valgrind 1 "configure or build failed"
fi

finish_harness sanitizers valgrind
