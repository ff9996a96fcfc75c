#!/bin/sh
# Build and run the drop-in's CUDA scenarios (CTest triton_manager_cuda) and
# the CUDA manager benchmark (row 8c, with rows 7, 8 and 8b) on a machine
# with an NVIDIA GPU and its driver, from a fresh checkout, offline.
#
#   integration/triton-server/tests/run-cuda.sh --prepare   # where there is a network
#   integration/triton-server/tests/run-cuda.sh             # on the GPU machine
#
# --prepare fills the kit directory (TRITON_SHM_CUDA_KIT, default
# <checkout>/cuda-kit, about 20 MB) with what the GPU machine cannot fetch:
#
#   cuda-kit/wheels/nvidia_cuda_runtime-13.5.37-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl
#   cuda-kit/wheels/nvidia_cuda_crt-13.5.37-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl
#       the CUDA runtime (libcudart.so.13) and its headers (cuda.h,
#       cuda_runtime_api.h, crt/), from PyPI (pip download)
#   cuda-kit/cargo-home/registry/{index,cache}
#       the crates of Cargo.lock (cargo fetch --locked), for an offline
#       cargo build of the library
#   cuda-kit/upstream_shared_memory_manager.cc
#       upstream's src/shared_memory_manager.cc, the benchmark's baseline,
#       if TRITON_SHM_BENCH_UPSTREAM_MANAGER names it while preparing
#
# Copy the kit next to the checkout on the GPU machine (or point
# TRITON_SHM_CUDA_KIT at it). A run unpacks the wheels into the kit (no
# pip, no venv), builds into <checkout>/build/cuda-run with cargo offline,
# runs the CTest and the benchmark and prints their results. It needs
# cmake (3.18 or newer), a C++17 compiler, python3 (to unpack the wheels),
# and cargo with the rust-version of Cargo.toml. TRITON_SHM_CUDA_ROOT may
# name a CUDA runtime directory (include/, lib/) to use instead of the
# wheels. On a GPU machine without Rust, TRITON_SHM_PREFIX may name a
# prefix where the library was installed elsewhere (scripts/install.sh
# PREFIX, same processor and a glibc no newer than there): both builds then
# take it with find_package and cargo is not needed.
#
# Exit status: 0 when the CTest passed (or was skipped: no GPU), 1
# otherwise.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
kit=${TRITON_SHM_CUDA_KIT:-$repo/cuda-kit}
build=$repo/build/cuda-run
# shellcheck source=../../../scripts/lib/cuda_runtime.sh
. "$repo/scripts/lib/cuda_runtime.sh"
PATH=$PATH:$HOME/.cargo/bin
export PATH

say() { printf 'run-cuda: %s\n' "$*"; }
die() {
  say "$*" >&2
  exit 1
}

if [ "${1:-}" = --prepare ]; then
  cuda_wheels_download "$kit/wheels" || die "pip could not download the CUDA runtime wheels"
  CARGO_HOME="$kit/cargo-home" cargo fetch --locked --manifest-path "$repo/Cargo.toml"
  rm -rf "$kit/cargo-home/registry/src" # unpacked again where needed
  if [ -n "${TRITON_SHM_BENCH_UPSTREAM_MANAGER:-}" ]; then
    cp "$TRITON_SHM_BENCH_UPSTREAM_MANAGER" "$kit/upstream_shared_memory_manager.cc"
  fi
  say "kit ready in $kit ($(du -sh "$kit" | cut -f1)):"
  ls -1 "$kit" "$kit/wheels"
  exit 0
fi

command -v cmake >/dev/null || die "cmake not found (3.18 or newer is needed)"
prefix=${TRITON_SHM_PREFIX:-}
if [ -n "$prefix" ]; then
  [ -d "$prefix" ] || die "TRITON_SHM_PREFIX=$prefix is not a directory"
  prefix=$(cd "$prefix" && pwd)
  say "the library: installed in $prefix (no cargo build)"
else
  command -v cargo >/dev/null || die "cargo not found (the library is built with it; or set TRITON_SHM_PREFIX)"
fi

# The CUDA runtime: TRITON_SHM_CUDA_ROOT, or the kit's wheels unpacked.
cuda_root=${TRITON_SHM_CUDA_ROOT:-}
if [ -z "$cuda_root" ]; then
  cuda_root=$(cuda_wheels_unpack "$kit/wheels") ||
    die "no CUDA runtime wheels ($cuda_wheel_version) in $kit/wheels: run '$0 --prepare' where there is a network, then copy $kit here"
fi
[ -f "$cuda_root/include/cuda_runtime_api.h" ] || die "no CUDA runtime headers under $cuda_root"
say "CUDA runtime: $cuda_root"

# Cargo offline, from the kit's registry.
if [ -d "$kit/cargo-home/registry" ]; then
  CARGO_HOME=$kit/cargo-home
  CARGO_NET_OFFLINE=true
  export CARGO_HOME CARGO_NET_OFFLINE
  say "cargo: offline, crates from $CARGO_HOME"
fi

if command -v nvidia-smi >/dev/null; then
  nvidia-smi -L || true
else
  say "nvidia-smi not found"
fi

jobs=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
if [ -n "$prefix" ]; then
  common="-DCMAKE_BUILD_TYPE=Release -DTRITON_SHM_CONSUME=installed -DCMAKE_PREFIX_PATH=$prefix"
else
  common="-DCMAKE_BUILD_TYPE=Release -DTRITON_SHM_CARGO_TARGET_DIR=$build/cargo-target"
fi

# The CTest.
# shellcheck disable=SC2086 # $common is several arguments
cmake -S "$repo/ctest" -B "$build/ctest" $common -DTRITON_SHM_CUDA_ROOT="$cuda_root" >/dev/null
cmake --build "$build/ctest" --target manager_scenarios_cuda --parallel "$jobs"
say "the CUDA scenarios, one by one:"
"$build/ctest/triton_server/manager_scenarios_cuda" || true
ctest_status=0
(cd "$build/ctest" && ctest -R '^triton_manager_cuda$' --output-on-failure) || ctest_status=1

# The benchmark: rows 7, 8, 8b and 8c.
upstream=${TRITON_SHM_BENCH_UPSTREAM_MANAGER:-}
if [ -z "$upstream" ] && [ -f "$kit/upstream_shared_memory_manager.cc" ]; then
  upstream=$kit/upstream_shared_memory_manager.cc
fi
# shellcheck disable=SC2086 # $common is several arguments
cmake -S "$repo/benches" -B "$build/bench" $common -DTRITON_SHM_BENCH_CUDA_ROOT="$cuda_root" \
  -DTRITON_SHM_BENCH_UPSTREAM_MANAGER="$upstream" >/dev/null
cmake --build "$build/bench" --target triton_manager_bench --parallel "$jobs"
say "the manager benchmark (baseline: ${upstream:-none}):"
bench_status=0
timeout 300 "$build/bench/triton_manager_bench" --only 7,8 || bench_status=$?
[ "$bench_status" -eq 0 ] || say "the benchmark ended with status $bench_status (124: it ran past 300 s)"

if [ "$ctest_status" -eq 0 ]; then
  say "CTest triton_manager_cuda: passed (or skipped: see above)"
else
  say "CTest triton_manager_cuda: FAILED"
fi
exit "$ctest_status"
