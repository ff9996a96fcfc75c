#!/usr/bin/env bash
# Tests of the CMake package itself (cmake/tests): add_subdirectory,
# FetchContent, find_package against an installed prefix, a moved prefix,
# SONAME links, version checks, the installed demo, rebuild on a source
# change. Gets cmake from scripts/ensure-cmake.sh. Run from anywhere.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cmake=$("$repo/scripts/ensure-cmake.sh" | tail -n 1)
ctest="$(dirname "$cmake")/ctest"
[ -x "$ctest" ] || ctest=$(command -v ctest)
build="$repo/build/package-tests"
"$cmake" -S "$repo/cmake/tests" -B "$build" -DTRITON_SHM_SOURCE_DIR="$repo"
"$cmake" --build "$build"
"$ctest" --test-dir "$build" --output-on-failure
