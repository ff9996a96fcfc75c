#!/bin/sh
# Interop with the real Triton Python client: a virtual environment with
# tritonclient and numpy from PyPI (build/interop-venv), the library as it
# ships (cmake/cargo-build.sh library, the CMake package's command, in the
# shared build/cargo-target, so after the CMake package's build nothing is
# compiled), and interop/tritonclient_interop.py, which drives both through
# the C ABI.
#
#   scripts/interop.sh [LIBRARY]
set -u
script=scripts/interop.sh
# shellcheck source=lib/harness.sh
. "$(dirname "$0")/lib/harness.sh"
cd "$repo" || exit 1
venv=build/interop-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import tritonclient.utils.shared_memory, numpy' 2>/dev/null; then
  say "creating $venv with tritonclient and numpy from PyPI"
  python3 -m venv "$venv" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r interop/requirements.txt ||
    die "pip could not install interop/requirements.txt"
fi
lib=${1:-}
if [ -z "$lib" ]; then
  build_shipped_library --target-dir "$cargo_target" ||
    die "cargo could not build the library"
  lib="$cargo_target/release/$(shared_library_name)"
fi
exec "$venv/bin/python" interop/tritonclient_interop.py "$lib"
