#!/usr/bin/env bash
# Compile shared_memory_manager.cc against upstream Triton's real headers
# with the flags Triton builds tritonserver with, once with logging on and
# once off. Fetches nothing: give it checkouts you already have.
#
#   check-upstream-headers.sh UPSTREAM_DIR [CXX] [TRITON_SHM_INCLUDE_DIRS] [RAPIDJSON_INCLUDE]
#
# UPSTREAM_DIR holds server/ (src/shared_memory_manager.h, src/common.h),
# core/ (include/triton/core/tritonserver.h) and common/
# (include/triton/common/{triton_json,logging}.h) of
# github.com/triton-inference-server. TRITON_SHM_INCLUDE_DIRS (';'-separated)
# defaults to this repository's include/. rapidjson (which triton_json.h
# includes) must be a system header unless RAPIDJSON_INCLUDE names it.
# With CUDA_INCLUDE set in the environment (a directory holding cuda.h and
# cuda_runtime_api.h), it also compiles with TRITON_ENABLE_GPU=1.
# Exits 77 (skipped, with a message) when UPSTREAM_DIR lacks those files.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
upstream=${1:?usage: check-upstream-headers.sh UPSTREAM_DIR [CXX] [TRITON_SHM_INCLUDE_DIRS] [RAPIDJSON_INCLUDE]}
cxx=${2:-c++}
shm_includes=${3:-$here/../../include}
rapidjson=${4:-}

for f in server/src/shared_memory_manager.h server/src/common.h \
         core/include/triton/core/tritonserver.h \
         common/include/triton/common/triton_json.h common/include/triton/common/logging.h; do
  if [ ! -f "$upstream/$f" ]; then
    echo "check-upstream-headers: skipped: $upstream/$f is missing (needs checkouts of Triton's server, core and common)"
    exit 77
  fi
done

includes=(-I"$upstream/server/src" -I"$upstream/core/include" -I"$upstream/common/include")
IFS=';' read -r -a shm_dirs <<<"$shm_includes"
for d in "${shm_dirs[@]}"; do
  [ -n "$d" ] && includes+=(-I"$d")
done
[ -n "$rapidjson" ] && includes+=(-I"$rapidjson")

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
status=0
variants=("-DTRITON_ENABLE_LOGGING=1" "")
if [ -n "${CUDA_INCLUDE:-}" ]; then
  variants+=("-DTRITON_ENABLE_LOGGING=1 -DTRITON_ENABLE_GPU=1 -I$CUDA_INCLUDE")
else
  echo "check-upstream-headers: TRITON_ENABLE_GPU not checked (set CUDA_INCLUDE to CUDA's headers)"
fi
for defines in "${variants[@]}"; do
  # shellcheck disable=SC2206 # the variant's words are separate arguments
  extra=($defines)
  cmd=("$cxx" -std=c++17 -Wall -Wextra -Wno-unused-parameter -Wno-deprecated-declarations -Werror
       "${extra[@]}" "${includes[@]}" -c "$here/shared_memory_manager.cc" -o "$out/shared_memory_manager.o")
  echo "+ ${cmd[*]}"
  if "${cmd[@]}"; then
    echo "check-upstream-headers: compiled (${defines:-logging off})"
  else
    echo "check-upstream-headers: FAILED (${defines:-logging off})"
    status=1
  fi
done
exit $status
