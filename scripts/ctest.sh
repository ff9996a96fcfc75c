#!/bin/sh
# Run the C/C++ test harness (ctest/) against the CMake package both ways a
# host can consume it:
#
#   1. add_subdirectory(cmake/)        build/ctest-subdir
#   2. installed, then find_package    build/ctest-pkg -> build/ctest-prefix,
#                                      tests in build/ctest-installed
#
# Every build shares one cargo target dir (build/cargo-target). Both
# configurations also build the drop-in's CUDA scenarios (CTest
# triton_manager_cuda, skipped where there is no GPU, and
# triton_manager_cuda_standin) against the CUDA runtime
# $TRITON_SHM_CUDA_ROOT names or, on Linux, /usr/local/cuda, or else the one
# of NVIDIA's PyPI wheels, downloaded once into build/cuda-runtime. Prints
# both CTest summaries and exits non-zero if either configuration fails.
# Run from anywhere:
#
#   scripts/ctest.sh
#
# CMAKE_BUILD_TYPE (default Release, as Triton builds) picks the cargo
# profile; CTEST_PARALLEL_LEVEL (default 2) the number of tests at once.
set -u
script=scripts/ctest.sh
# shellcheck source=lib/harness.sh
. "$(dirname "$0")/lib/harness.sh"
# shellcheck source=lib/cuda_runtime.sh
. "$(dirname "$0")/lib/cuda_runtime.sh"
build="$repo/build"
build_type=${CMAKE_BUILD_TYPE:-Release}

ensure_cmake
echo "using $cmake and $ctest ($("$cmake" --version | head -n 1))"

# The CUDA runtime the CUDA scenarios build against, if any.
cuda_root=$(cuda_runtime_for_tests "$build/cuda-runtime") || cuda_root=

# 1. The package as a subdirectory of the test project, built with the
# xnu-model feature on Linux so that the region tests also run on the model
# of macOS (TRITON_SHM_BACKEND=xnu-model). On macOS the real OS is what the
# model models. The installed package below is built as it ships.
features=
if ! is_macos; then
  features=-DTRITON_SHM_CARGO_FEATURES=xnu-model
fi
if configure_build subdirectory "$repo/ctest" "$build/ctest-subdir" \
  -DTRITON_SHM_CONSUME=subdirectory $features \
  ${cuda_root:+"-DTRITON_SHM_CUDA_ROOT=$cuda_root"}; then
  run_ctest subdirectory "$build/ctest-subdir"
else
  record subdirectory 1 "configure or build failed"
fi

# 2. The package installed into a fresh prefix, found with find_package. A
# fresh test build dir, so that no cached TritonShm_DIR points elsewhere.
prefix="$build/ctest-prefix"
rm -rf "$prefix" "$build/ctest-installed"
if configure_build package "$repo/cmake" "$build/ctest-pkg" -DCMAKE_INSTALL_PREFIX="$prefix" &&
  { step "install into $prefix"; "$cmake" --install "$build/ctest-pkg" --prefix "$prefix"; } &&
  configure_build installed "$repo/ctest" "$build/ctest-installed" \
    -DTRITON_SHM_CONSUME=installed -DCMAKE_PREFIX_PATH="$prefix" \
    ${cuda_root:+"-DTRITON_SHM_CUDA_ROOT=$cuda_root"}; then
  run_ctest installed "$build/ctest-installed"
else
  record installed 1 "package, install, configure or build failed"
fi

finish_harness subdirectory installed
