#!/bin/sh
# The linker of the shared library on Linux, which cmake/cargo-build.sh
# passes to rustc (-C linker=cmake/link-versioned.sh) for the host's target.
#
# rustc hands the linker a version script of its own, one anonymous node
# with the crate's exported functions, and GNU ld refuses a second script
# beside an anonymous one (lld keeps the first). This script drops rustc's
# and passes cmake/triton_shm.map instead, which exports the same
# functions under named version nodes (TRITON_SHM_0, ...) and keeps every
# other symbol local; then it runs the C compiler driver rustc would have
# run (TRITON_SHM_LINK_CC, default cc) with the rest of the arguments
# unchanged. scripts/check-exports.sh checks the result.
set -u
map="$(cd "$(dirname "$0")" && pwd)/triton_shm.map"
for arg do
  shift
  case $arg in
    -Wl,--version-script=*) ;;
    *) set -- "$@" "$arg" ;;
  esac
done
exec "${TRITON_SHM_LINK_CC:-cc}" "$@" "-Wl,--version-script=$map"
