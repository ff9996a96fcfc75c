#!/bin/sh
# Regenerate include/triton_shm.h from the Rust sources (build.rs runs the
# pinned cbindgen when the cargo feature generate-header is on), or with
# --verify only check that the committed header is current. Run from
# anywhere.
set -eu
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--verify" ]; then
  exec cargo test --locked --features generate-header --test header committed_header_matches_the_code
fi
TRITON_SHM_BLESS=1 cargo test --locked --features generate-header --test header committed_header_matches_the_code
echo "include/triton_shm.h regenerated"
