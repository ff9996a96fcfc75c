#!/bin/sh
# How triton-shm is built as it ships: the one place that says so. The CMake
# package (cmake/CMakeLists.txt) and the scripts (build_shipped_library in
# scripts/lib/harness.sh, scripts/gate-macho.sh) all run this script.
#
#   cmake/cargo-build.sh library [OPTIONS] [CARGO ARGS...] [-- RUSTC ARGS...]
#   cmake/cargo-build.sh tool [OPTIONS] [CARGO ARGS...]
#
# library  the shared and static library: `cargo rustc --locked --release
#          --lib --crate-type cdylib,staticlib`. Only those two crate types:
#          Cargo.toml also lists rlib (for the tool, the tests and Rust
#          users), and with the rlib in the same rustc run the shared library
#          is larger. On Linux, for the host's Rust target, the link goes
#          through cmake/link-versioned.sh, which gives the exports their
#          symbol versions (cmake/triton_shm.map).
# tool     the command-line tool: `cargo build --locked --profile tool --bin
#          triton-shm`. The `tool` profile is the release profile with its
#          own output directory, so that building the tool (which builds the
#          library with every crate type of Cargo.toml) does not replace the
#          library built above in a shared target dir (see docs/DESIGN.md).
#
# OPTIONS, before the cargo arguments:
#   --cargo PROGRAM       run PROGRAM rather than `cargo` (e.g. the CMake
#                         package's TRITON_SHM_CARGO, or cargo-zigbuild)
#   --debug               the dev profile instead of release (or tool)
#   --no-versioned-link   keep the linker cargo's configuration gives
#                         (a cross build on a Linux host); the versioned link
#                         is used only on Linux and only without --target
#   --native-static-libs  library only: also print, on standard output and
#                         alone, the system libraries the static library
#                         needs (rustc's `--print native-static-libs`,
#                         which cargo repeats when the build is fresh); the
#                         build's own output goes to standard error
#
# The CARGO ARGS (--target, --target-dir, --features, ...) are passed on as
# they are; --manifest-path is this checkout's Cargo.toml, so the script
# runs from anywhere. The environment is cargo's (MACOSX_DEPLOYMENT_TARGET,
# CARGO_PROFILE_RELEASE_OPT_LEVEL, ...). POSIX sh, for macOS's bash 3.2 too.
set -u
root=$(cd "$(dirname "$0")/.." && pwd) || exit 1

usage() {
  echo "usage: $0 library|tool [--cargo PROGRAM] [--debug] [--no-versioned-link]" \
    "[--native-static-libs] [CARGO ARGS...] [-- RUSTC ARGS...]" >&2
  exit 2
}

[ $# -ge 1 ] || usage
what=$1
shift
case $what in
  library | tool) ;;
  *) usage ;;
esac

cargo=cargo
debug=false
versioned=auto
print_native=false
while [ $# -gt 0 ]; do
  case $1 in
    --cargo)
      [ $# -ge 2 ] || usage
      cargo=$2
      shift 2
      ;;
    --debug)
      debug=true
      shift
      ;;
    --no-versioned-link)
      versioned=no
      shift
      ;;
    --native-static-libs)
      print_native=true
      shift
      ;;
    *) break ;;
  esac
done

if [ "$what" = tool ]; then
  if $print_native; then usage; fi
  if $debug; then profile=; else profile="--profile tool"; fi
  # shellcheck disable=SC2086 # $profile is empty or two words
  exec "$cargo" build --locked $profile --bin triton-shm \
    --manifest-path "$root/Cargo.toml" "$@"
fi

# Does the caller pass rustc arguments (after --), or name a Rust target?
has_rustc_args=false
if [ "$versioned" = auto ]; then
  if [ "$(uname -s)" = Linux ]; then versioned=yes; else versioned=no; fi
fi
for arg do
  case $arg in
    --) has_rustc_args=true ;;
    --target | --target=*) $has_rustc_args || versioned=no ;;
  esac
done
# What this script adds for rustc goes at the end, after the caller's `--`
# or after one of its own.
$has_rustc_args || set -- "$@" --
if [ "$versioned" = yes ]; then
  set -- "$@" -C "linker=$root/cmake/link-versioned.sh"
fi
if $print_native; then
  set -- "$@" --print native-static-libs
fi
if $debug; then
  set -- --manifest-path "$root/Cargo.toml" "$@"
else
  set -- --release --manifest-path "$root/Cargo.toml" "$@"
fi
set -- rustc --locked --lib --crate-type cdylib,staticlib "$@"

if ! $print_native; then
  exec "$cargo" "$@"
fi

# The build's output to standard error as it comes, and to a file, from
# which the note is read once the build has succeeded.
log=$(mktemp "${TMPDIR:-/tmp}/triton-shm-build.XXXXXX") || exit 1
trap 'rm -f "$log" "$log.status"' EXIT
{
  "$cargo" "$@" 2>&1
  echo $? >"$log.status"
} | tee "$log" >&2
status=$(cat "$log.status")
[ "$status" -eq 0 ] || exit "$status"
native=$(sed -n 's/^.*native-static-libs: //p' "$log" | tail -n 1)
if [ -z "$native" ]; then
  echo "$0: the build reported no native-static-libs" >&2
  exit 1
fi
printf '%s\n' "$native"
