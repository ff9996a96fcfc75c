#!/usr/bin/env bash
# Interop with the real Triton Python client: a virtual environment with
# tritonclient and numpy from PyPI (build/interop-venv), the release library,
# and interop/tritonclient_interop.py, which drives both through the C ABI.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=build/interop-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import tritonclient.utils.shared_memory, numpy' 2>/dev/null; then
  echo "interop: creating $venv with tritonclient and numpy from PyPI" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r interop/requirements.txt
fi
cargo build --locked --release --lib
exec "$venv/bin/python" interop/tritonclient_interop.py target/release/libtriton_shm.so
