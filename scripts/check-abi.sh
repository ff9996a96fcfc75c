#!/bin/sh
# The ABI check against the last release: the C ABI that include/triton_shm.h
# declares must be compatible with the committed baseline of 0.1.0,
# ctest/abi/triton_shm_0_1_0.abi (libabigail's abidw output).
#
#   scripts/check-abi.sh              compare the current header with 0.1.0
#   scripts/check-abi.sh HEADER       compare HEADER instead
#   scripts/check-abi.sh --baseline   write the baseline again from the
#                                     0.1.0 header (ctest/abi/triton_shm_0_1_0.h)
#
# What abidw reads is the header's ABI, not the Rust library's debug info:
# each function the header declares becomes an empty definition in a C
# file, compiled with -g into a shared object. Its DWARF is then exactly
# what a C program compiled against the header relies on: the C names of the
# structs, their sizes and field offsets, and every function's parameter and
# return types. The Rust library's own DWARF would describe its Rust names
# and the private insides of the opaque handles (triton_shm_registry is a
# Rust struct with a mutex and a map), so any refactoring would read as an
# ABI change. That the library exports exactly the header's functions is
# scripts/check-exports.sh's part; that it writes no more than the 0.1.0
# layout into a 0.1.0 caller's struct is ctest/abi/compat_0_1_0.c's.
#
# Passes when abidiff finds no change beyond what a minor release may make:
# functions added, fields appended at the end of a struct
# (ctest/abi/abidiff.suppr), enumerators added. Fails on a removed
# function, a changed parameter or return type, a field inserted, removed,
# resized or moved. Installs abigail-tools with apt-get (as root on Debian or
# Ubuntu) when abidw is missing; on macOS, which libabigail does not support,
# it is skipped with a message.
set -u
script=scripts/check-abi.sh
# shellcheck source=lib/harness.sh
. "$(dirname "$0")/lib/harness.sh"
cd "$repo" || exit 1

baseline=ctest/abi/triton_shm_0_1_0.abi
suppressions=ctest/abi/abidiff.suppr
released_header=ctest/abi/triton_shm_0_1_0.h

if is_macos; then
  skip "the ABI check (abidiff)" "libabigail reads ELF only; Linux runs it"
  exit 0
fi
if ! command -v abidw >/dev/null 2>&1 || ! command -v abidiff >/dev/null 2>&1; then
  install_debian_packages abigail-tools ||
    die "abidw and abidiff are missing: install libabigail (Debian: apt-get install abigail-tools)"
fi
cc=${CC:-cc}
work=$(mktemp -d "${TMPDIR:-/tmp}/triton-shm-abi.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT

# abi_of HEADER OUT: the abidw corpus of the C ABI HEADER declares.
abi_of() {
  mkdir -p "$work/include"
  cp "$1" "$work/include/triton_shm.h" || return 1
  {
    echo '#include "triton_shm.h"'
    # Each declaration of the extern "C" block (it starts in column 0 with
    # its return type and ends with ");") becomes a definition that traps.
    awk '
      /^extern "C"/ { body = 1; next }
      body && !decl && /^[a-z]/ && !/^typedef/ && /triton_shm_[a-z0-9_]*\(/ { decl = 1 }
      decl {
        if (sub(/\);[ \t]*$/, ") { __builtin_trap(); }")) { print; decl = 0 } else print
      }
    ' "$work/include/triton_shm.h"
  } >"$work/abi.c"
  grep -q '__builtin_trap' "$work/abi.c" || die "no function declarations found in $1"
  "$cc" -std=c11 -g -O0 -fPIC -shared -Wall -Werror -I"$work/include" \
    -fdebug-prefix-map="$work"=. -o "$work/libtriton_shm_abi.so" "$work/abi.c" || return 1
  abidw --no-corpus-path --no-comp-dir-path --no-show-locs \
    --out-file "$2" "$work/libtriton_shm_abi.so" || return 1
  # The baseline was written on x86_64. Every type of the header has the
  # same size and alignment on the other 64-bit targets (fixed-width
  # integers, size_t and pointers of 8 bytes), so the corpus is compared as
  # if it were x86_64's rather than failing on the architecture's name.
  sed "1s/architecture='[^']*'/architecture='elf-amd-x86_64'/" "$2" >"$2.arch" && mv "$2.arch" "$2"
}

if [ "${1:-}" = "--baseline" ]; then
  abi_of "$released_header" "$baseline" || die "abidw failed on $released_header"
  echo "$script: wrote $baseline from $released_header"
  exit 0
fi

header=${1:-include/triton_shm.h}
abi_of "$header" "$work/current.abi" || die "abidw failed on $header"
echo "$script: $header against the 0.1.0 baseline ($baseline), abidiff $(abidiff --version | sed 's/^abidiff: //')"
abidiff --no-added-syms --suppressions "$suppressions" "$baseline" "$work/current.abi"
status=$?
# abidiff's status is a bit field: 1 error, 2 usage, 4 a change,
# 8 an incompatible change. Anything the suppressions leave is a failure.
if [ "$status" -ne 0 ]; then
  echo "$script: FAILED: $header is not compatible with 0.1.0 (abidiff status $status)"
  exit 1
fi
echo "$script: compatible with 0.1.0"
[ $# -eq 0 ] || exit 0

# The control: the same check must refuse a field inserted in the middle of
# a struct, or its pass proves nothing.
sed '/^typedef struct triton_shm_stats {$/a\
  uint64_t inserted_by_the_control;' include/triton_shm.h >"$work/control.h"
grep -q inserted_by_the_control "$work/control.h" || die "the control could not insert a field"
abi_of "$work/control.h" "$work/control.abi" || die "abidw failed on the control header"
if abidiff --no-added-syms --suppressions "$suppressions" "$baseline" "$work/control.abi" >"$work/control.log"; then
  cat "$work/control.log"
  die "the control (a field inserted at the start of triton_shm_stats) passed the check"
fi
echo "$script: the control (a field inserted at the start of triton_shm_stats) fails, as it must"
