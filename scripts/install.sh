#!/bin/sh
# Build triton-shm with its CMake package (cmake/), install it into PREFIX,
# then build the demo (examples/) against the installed copy with
# find_package and run it. Linux and macOS (Homebrew's cmake, Xcode's clang).
#
#   scripts/install.sh [PREFIX]
#
# PREFIX defaults to dist/ in the repository; a relative PREFIX is taken from
# the current directory. The package is built in build/package (Release) and
# the demo in build/demo. cmake is installed when missing, and said so
# (ensure_cmake in scripts/lib/harness.sh).
set -eu
script=scripts/install.sh
# shellcheck source=lib/harness.sh
. "$(dirname "$0")/lib/harness.sh"
prefix=${1:-$repo/dist}
case $prefix in
  /*) ;;
  *) prefix="$PWD/$prefix" ;;
esac

step "Looking for cmake"
ensure_cmake
echo "using $cmake ($("$cmake" --version | head -n 1))"

package_build="$repo/build/package"
demo_build="$repo/build/demo"

step "Configuring the package in $package_build"
"$cmake" -S "$repo/cmake" -B "$package_build" \
  -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_INSTALL_PREFIX="$prefix"

step "Building (cargo, release)"
"$cmake" --build "$package_build" --parallel "$jobs"

step "Installing into $prefix"
"$cmake" --install "$package_build" --prefix "$prefix"

step "Building the demo against $prefix"
# A fresh build dir, so that find_package cannot reuse a previous prefix.
rm -rf "$demo_build"
"$cmake" -S "$repo/examples" -B "$demo_build" \
  -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix"
"$cmake" --build "$demo_build"

step "Running the demo"
"$demo_build/triton_shm_demo"

libdir=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:[A-Z]*=//p' "$package_build/CMakeCache.txt")
includedir=$(sed -n 's/^CMAKE_INSTALL_INCLUDEDIR:[A-Z]*=//p' "$package_build/CMakeCache.txt")
step "Installed triton-shm into $prefix"
echo "  headers        $prefix/$includedir"
echo "  libraries      $prefix/$libdir"
echo "  CMake package  $prefix/$libdir/cmake/TritonShm"
echo "  pkg-config     $prefix/$libdir/pkgconfig/triton_shm.pc"
echo "Files:"
while IFS= read -r file || [ -n "$file" ]; do
  echo "  $file"
done <"$package_build/install_manifest.txt"
echo
echo "Use it from CMake with -DCMAKE_PREFIX_PATH=$prefix and"
echo "  find_package(TritonShm 0.1 CONFIG REQUIRED)"
echo "  target_link_libraries(app PRIVATE TritonShm::triton_shm)   # or TritonShm::triton_shm_static"
echo "or with pkg-config: PKG_CONFIG_PATH=$prefix/$libdir/pkgconfig pkg-config --cflags --libs triton_shm"
