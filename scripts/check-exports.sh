#!/bin/sh
# The shared library exports exactly the functions the header declares, and
# nothing of Rust's own. ELF (.so) and Mach-O (.dylib, whose symbols carry a
# leading underscore) alike. On ELF, each function also carries the symbol
# version cmake/triton_shm.map gives it.
#
#   scripts/check-exports.sh [--allow-extra WHY] [LIBRARY]
#
# LIBRARY defaults to the shipped build in target/release (built when
# missing). NM (default nm; llvm-nm reads both formats) lists the symbols.
# --allow-extra WHY reports exported symbols the header does not declare
# instead of failing on them, with WHY in the message (scripts/gate-macho.sh:
# zig's linker ignores the exported-symbols list).
#
# The version map itself is checked on every host: its global names are
# exactly the header's functions, and its first node, TRITON_SHM_0, holds
# exactly the functions of 0.1.0 (ctest/abi/triton_shm_0_1_0.h), which
# programs of that release, linked before there were versions, bind to.
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
map=cmake/triton_shm.map
if [ ! -f "$lib" ]; then
  build_shipped_library --target-dir target >&2 || exit 1
fi

# The functions a header declares (the 0.1.0 header names one in a macro).
functions_of() { grep -oE '\btriton_shm_[a-z0-9_]+\(' "$1" | tr -d '(' | sort -u; }
# "NODE NAME" for each global name of the version map.
map_entries() {
  sed 's,/\*.*\*/,,' "$map" | awk '
    /^[A-Za-z_][A-Za-z0-9_.]* *\{/ { node = $1; global = 0; next }
    /global:/ { global = 1; next }
    /local:/ { global = 0; next }
    /^\}/ { node = ""; next }
    node != "" && global && /;/ { name = $1; sub(/;$/, "", name); print node, name }
  ' | sort -k 2
}
declared=$(functions_of include/triton_shm.h)
status=0

# --- The version map ----------------------------------------------------------------

entries=$(map_entries)
mapped=$(printf '%s\n' "$entries" | awk '{ print $2 }' | sort)
first=$(printf '%s\n' "$entries" | awk '$1 == "TRITON_SHM_0" { print $2 }' | sort)
released=$(functions_of ctest/abi/triton_shm_0_1_0.h)
if [ "$mapped" != "$declared" ]; then
  echo "$script: $map and include/triton_shm.h name different functions:"
  printf '%s\n' "$mapped" >"${TMPDIR:-/tmp}/check-exports.$$.map"
  printf '%s\n' "$declared" | diff "${TMPDIR:-/tmp}/check-exports.$$.map" - | sed -n 's/^[<>]/ &/p'
  rm -f "${TMPDIR:-/tmp}/check-exports.$$.map"
  status=1
fi
if [ "$first" != "$released" ]; then
  echo "$script: $map's node TRITON_SHM_0 is not exactly the functions of 0.1.0"
  status=1
fi

# --- The library --------------------------------------------------------------------

# "TYPE NAME VERSION" for each defined, exported symbol, without Mach-O's
# underscore; VERSION is ELF's (name@@VERSION), "-" when there is none.
case $lib in
  *.dylib)
    symbols=$("$nm" -g -U "$lib" | awk 'NF >= 3 { name = $3; sub(/^_/, "", name); print $2, name, "-" }')
    versioned=
    ;;
  *)
    symbols=$("$nm" -D --defined-only "$lib" | awk 'NF >= 3 {
      name = $3; version = "-"
      at = index(name, "@")
      if (at > 0) { version = substr(name, at); sub(/^@+/, "", version); name = substr(name, 1, at - 1) }
      print $2, name, version
    }')
    versioned=yes
    ;;
esac
[ -n "$symbols" ] || die "$nm listed no exported symbols in $lib"

nodes=$(printf '%s\n' "$entries" | awk '{ print $1 }' | sort -u)
ours=$(printf '%s\n' "$symbols" | awk '$1 == "T" && $2 ~ /^triton_shm_/ { print $2 }' | sort)
# ELF's version definitions show up as absolute symbols named after the nodes.
others=$(printf '%s\n' "$symbols" | awk -v nodes="$nodes" '
  BEGIN { n = split(nodes, list, "\n"); for (i = 1; i <= n; i++) node[list[i]] = 1 }
  !($1 == "T" && $2 ~ /^triton_shm_/) && !($1 == "A" && ($2 in node)) { print $2 }' | sort)

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
if [ -n "$versioned" ]; then
  # Each function under the node the map gives it.
  wrong=$(printf '%s\n' "$symbols" | awk -v entries="$entries" '
    BEGIN {
      n = split(entries, list, "\n")
      for (i = 1; i <= n; i++) { split(list[i], f, " "); want[f[2]] = f[1] }
    }
    $1 == "T" && ($2 in want) && $3 != want[$2] { print "  " $2 ": " $3 ", the map says " want[$2] }')
  if [ -n "$wrong" ]; then
    echo "$script: functions of $lib without the symbol version $map gives them (built without cmake/link-versioned.sh?):"
    printf '%s\n' "$wrong"
    status=1
  fi
fi
if [ "$status" -eq 0 ]; then
  what="header, $map and $lib agree"
  [ -n "$versioned" ] && what="$what, each function under its version node ($(printf '%s' "$nodes" | tr '\n' ' ' | sed 's/ $//'))"
  echo "$script: $(printf '%s\n' "$ours" | wc -l | tr -d ' ') functions, $what"
fi
exit "$status"
