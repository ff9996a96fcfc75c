#!/usr/bin/env bash
# Print the path of a cmake >= 3.18 to use, as the last line on stdout.
#
# Uses, in order: $CMAKE if set, cmake on PATH, one installed earlier in
# <repo>/.tools/cmake. When none is new enough it installs one and says so on
# stderr: as root with apt-get (Debian, Ubuntu), otherwise, or when apt's is
# too old, with pip into <repo>/.tools/cmake. Run from anywhere.
#
#   cmake=$(scripts/ensure-cmake.sh | tail -n 1)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
tools="$repo/.tools/cmake"
min_major=3
min_minor=18

say() { echo "ensure-cmake: $*" >&2; }

# The cmake in pip's --target layout: the real executable, which needs no
# PYTHONPATH (the bin/cmake wrapper does).
tools_cmake() {
  local found
  for found in "$tools"/cmake/data/bin/cmake "$tools"/cmake/data/CMake.app/Contents/bin/cmake; do
    if [ -x "$found" ]; then
      echo "$found"
      return 0
    fi
  done
  return 1
}

# True if $1 runs and reports a version >= min_major.min_minor.
new_enough() {
  local version major minor
  version=$("$1" --version 2>/dev/null | sed -n '1s/^cmake version \([0-9][0-9]*\.[0-9][0-9]*\).*/\1/p') || return 1
  [ -n "$version" ] || return 1
  major=${version%%.*}
  minor=${version#*.}
  [ "$major" -gt "$min_major" ] || { [ "$major" -eq "$min_major" ] && [ "$minor" -ge "$min_minor" ]; }
}

use_if_new_enough() {
  if [ -n "$1" ] && new_enough "$1"; then
    echo "$1"
    exit 0
  fi
}

# Already there: print it and stop.
use_if_new_enough "${CMAKE:-}"
use_if_new_enough "$(command -v cmake 2>/dev/null || true)"
use_if_new_enough "$(tools_cmake || true)"

if [ -n "$(command -v cmake 2>/dev/null || true)" ]; then
  say "$(command -v cmake) is older than $min_major.$min_minor"
else
  say "no cmake on PATH"
fi

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  say "installing cmake with apt-get (running as root)"
  export DEBIAN_FRONTEND=noninteractive
  if apt-get update -qq >&2 && apt-get install -y -qq cmake >&2; then
    use_if_new_enough "$(command -v cmake 2>/dev/null || true)"
    use_if_new_enough /usr/bin/cmake
    say "apt's cmake is older than $min_major.$min_minor; falling back to pip"
  else
    say "apt-get could not install cmake; falling back to pip"
  fi
fi

python=$(command -v python3 || true)
if [ -z "$python" ] || ! "$python" -m pip --version >/dev/null 2>&1; then
  say "cannot install cmake: python3 with pip is needed (or install cmake >= $min_major.$min_minor yourself)"
  exit 1
fi
say "installing cmake with pip into $tools"
rm -rf "$tools"
mkdir -p "$tools"
"$python" -m pip install --quiet --disable-pip-version-check --target "$tools" \
  "cmake>=$min_major.$min_minor" >&2
use_if_new_enough "$(tools_cmake || true)"
say "pip installed cmake into $tools but no usable cmake >= $min_major.$min_minor is there"
exit 1
