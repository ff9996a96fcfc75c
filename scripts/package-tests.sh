#!/bin/sh
# Tests of the CMake package itself (cmake/tests): add_subdirectory,
# FetchContent, find_package against an installed prefix, a moved prefix,
# SONAME (install name) links, version checks, the installed demo, rebuild
# on a source change. Every build shares the cargo target dir of the other
# test scripts (build/cargo-target). Run from anywhere.
set -u
script=scripts/package-tests.sh
# shellcheck source=lib/harness.sh
. "$(dirname "$0")/lib/harness.sh"
ensure_cmake
build="$repo/build/package-tests"
"$cmake" -S "$repo/cmake/tests" -B "$build" -DTRITON_SHM_SOURCE_DIR="$repo" \
  -DTRITON_SHM_TEST_CARGO_TARGET_DIR="$cargo_target" || die "configure $build failed"
"$cmake" --build "$build" || die "build $build failed"
run_ctest package "$build"
finish_harness package
