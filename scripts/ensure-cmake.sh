#!/bin/sh
# Print the path of a cmake >= 3.18 to use, as the last line on stdout,
# installing one when needed and saying so on stderr (ensure_cmake in
# scripts/lib/harness.sh). Run from anywhere.
#
#   cmake=$(scripts/ensure-cmake.sh | tail -n 1)
set -u
script=scripts/ensure-cmake.sh
# shellcheck source=lib/harness.sh
. "$(dirname "$0")/lib/harness.sh"
ensure_cmake
echo "$cmake"
