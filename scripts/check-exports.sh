#!/usr/bin/env bash
# The shared library exports exactly the functions the header declares, and
# nothing of Rust's own. Usage: scripts/check-exports.sh [path/to/libtriton_shm.so]
set -euo pipefail
cd "$(dirname "$0")/.."
lib=${1:-target/release/libtriton_shm.so}
if [ ! -f "$lib" ]; then
  cargo build --locked --release --lib >&2
fi
exported=$(nm -D --defined-only "$lib" | awk '$2 == "T" { print $3 }' | sort)
others=$(nm -D --defined-only "$lib" | awk '$2 != "T" { print $3 }' | sort)
declared=$(grep -oE '\btriton_shm_[a-z0-9_]+\(' include/triton_shm.h | tr -d '(' | sort -u)
status=0
if [ -n "$others" ]; then
  echo "check-exports: non-function symbols exported by $lib:"; echo "$others"; status=1
fi
if [ "$exported" != "$declared" ]; then
  echo "check-exports: exported functions and header declarations differ (< library, > header):"
  diff <(echo "$exported") <(echo "$declared") || true
  status=1
fi
if echo "$exported" | grep -qv '^triton_shm_'; then
  echo "check-exports: symbols without the triton_shm_ prefix are exported"; status=1
fi
[ "$status" = 0 ] && echo "check-exports: $(echo "$exported" | wc -l) functions, header and library agree"
exit "$status"
