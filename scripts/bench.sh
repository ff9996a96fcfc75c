#!/usr/bin/env bash
# Build the benchmarks in release through the CMake package (into
# build/bench) and run them; the table of results goes to stdout.
#
#   scripts/bench.sh            # full run, a few minutes
#   scripts/bench.sh --quick    # fewer rounds: a smoke test, not a measurement
#   scripts/bench.sh --only 1,3 # some benchmarks only
#
# Rows 1-6 are the library's (triton_shm_bench); rows 7-8 the Triton
# manager's (triton_manager_bench: the drop-in against upstream's manager,
# given TRITON_SHM_BENCH_UPSTREAM_MANAGER=<server checkout>/src/shared_memory_manager.cc);
# row 9 one reap of dead owners' records while live processes run
# (triton_shm_reap_bench, goal under 100 ms for 1000 records and 200
# processes, and its growth with both).
#
# Environment: CMAKE (a cmake to use), CC and CXX (the C and C++ compilers,
# default: what CMake finds), TRITON_SHM_BENCH_UPSTREAM_MANAGER (above). Run from anywhere.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cmake=$("$repo/scripts/ensure-cmake.sh" | tail -n 1)
build="$repo/build/bench"

# Upstream's src/shared_memory_manager.cc (a server checkout's), the
# baseline of the Triton manager rows (7, 8); without it those rows give the
# drop-in's times alone.
upstream=${TRITON_SHM_BENCH_UPSTREAM_MANAGER:-}
"$cmake" -S "$repo/benches" -B "$build" -DCMAKE_BUILD_TYPE=Release \
  -DTRITON_SHM_BENCH_UPSTREAM_MANAGER="$upstream" >&2
"$cmake" --build "$build" --parallel 2 >&2

if [ -r /proc/cpuinfo ]; then
  cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
else
  cpu=$(sysctl -n machdep.cpu.brand_string 2>/dev/null || uname -m)
fi
echo "machine: $(getconf _NPROCESSORS_ONLN) CPUs, $cpu, $(uname -s) $(uname -r)" >&2
"$build/triton_shm_bench" "$@"
echo
"$build/triton_shm_reap_bench" "$@"
echo
exec "$build/triton_manager_bench" "$@"
