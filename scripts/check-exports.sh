#!/bin/sh
# The shared library exports exactly the functions the header declares, and
# nothing of Rust's own. ELF (.so) and Mach-O (.dylib, whose symbols carry a
# leading underscore) alike.
#
#   scripts/check-exports.sh [--allow-extra WHY] [LIBRARY]
#
# LIBRARY defaults to the shipped build in target/release (built when
# missing). NM (default nm; llvm-nm reads both formats) lists the symbols.
# --allow-extra WHY reports exported symbols the header does not declare
# instead of failing on them, with WHY in the message (scripts/gate-macho.sh:
# zig's linker ignores the exported-symbols list).
set -u
script=scripts/check-exports.sh
# shellcheck source=lib/harness.sh
. "$(dirname "$0")/lib/harness.sh"
cd "$repo" || exit 1

allow_extra=
if [ "${1:-}" = "--allow-extra" ]; then
  allow_extra=${2:?--allow-extra needs a reason}
  shift 2
fi
lib=${1:-target/release/$(shared_library_name)}
nm=${NM:-nm}
if [ ! -f "$lib" ]; then
  cargo rustc --locked --release --lib --crate-type cdylib,staticlib >&2 || exit 1
fi

# "TYPE NAME" for each defined, exported symbol, without Mach-O's underscore.
case $lib in
  *.dylib)
    symbols=$("$nm" -g -U "$lib" | awk 'NF >= 3 { name = $3; sub(/^_/, "", name); print $2, name }')
    ;;
  *)
    symbols=$("$nm" -D --defined-only "$lib" | awk 'NF >= 3 { print $2, $3 }')
    ;;
esac
[ -n "$symbols" ] || die "$nm listed no exported symbols in $lib"

ours=$(printf '%s\n' "$symbols" | awk '$1 == "T" && $2 ~ /^triton_shm_/ { print $2 }' | sort)
others=$(printf '%s\n' "$symbols" | awk '!($1 == "T" && $2 ~ /^triton_shm_/) { print $2 }' | sort)
declared=$(grep -oE '\btriton_shm_[a-z0-9_]+\(' include/triton_shm.h | tr -d '(' | sort -u)
status=0

missing=$(printf '%s\n' "$declared" | grep -vxF "$ours")
undeclared=$(printf '%s\n' "$ours" | grep -vxF "$declared")
if [ -n "$missing" ]; then
  echo "$script: declared in the header but not exported by $lib:"
  echo "$missing"
  status=1
fi
if [ -n "$undeclared" ]; then
  echo "$script: exported by $lib but not declared in the header:"
  echo "$undeclared"
  status=1
fi
if [ -n "$others" ]; then
  count=$(printf '%s\n' "$others" | wc -l | tr -d ' ')
  if [ -n "$allow_extra" ]; then
    echo "$script: $count other symbols exported by $lib, allowed: $allow_extra"
  else
    echo "$script: $count symbols exported by $lib that are not the header's functions:"
    printf '%s\n' "$others" | head -n 20
    status=1
  fi
fi
if [ "$status" -eq 0 ]; then
  echo "$script: $(printf '%s\n' "$ours" | wc -l | tr -d ' ') functions, header and $lib agree"
fi
exit "$status"
