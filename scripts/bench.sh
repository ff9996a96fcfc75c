#!/usr/bin/env bash
# Build the benchmarks in release through the CMake package (into
# build/bench) and run them; the table of results goes to stdout.
#
#   scripts/bench.sh            # full run, a few minutes
#   scripts/bench.sh --quick    # fewer rounds: a smoke test, not a measurement
#   scripts/bench.sh --only 1,3 # some benchmarks only
#
# Environment: CMAKE (a cmake to use), CC and CXX (the C and C++ compilers,
# default: what CMake finds). Run from anywhere.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cmake=$("$repo/scripts/ensure-cmake.sh" | tail -n 1)
build="$repo/build/bench"

"$cmake" -S "$repo/benches" -B "$build" -DCMAKE_BUILD_TYPE=Release >&2
"$cmake" --build "$build" --parallel 2 >&2

if [ -r /proc/cpuinfo ]; then
  cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
else
  cpu=$(sysctl -n machdep.cpu.brand_string 2>/dev/null || uname -m)
fi
echo "machine: $(getconf _NPROCESSORS_ONLN) CPUs, $cpu, $(uname -s) $(uname -r)" >&2
exec "$build/triton_shm_bench" "$@"
