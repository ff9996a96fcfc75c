#!/bin/sh
# The Rust sources are formatted as `cargo fmt` formats them (rustfmt's
# defaults; the project has no rustfmt.toml): the crate with its tests,
# benches and tool, and the fuzz targets, which are a workspace of their own.
# Changes nothing; prints the diff and fails when something is not formatted.
# `cargo fmt --all` (and `cargo fmt` in fuzz/) applies the formatting.
# Run from anywhere.
set -eu
cd "$(dirname "$0")/.."

if ! cargo fmt --version >/dev/null 2>&1; then
  echo "gate-fmt: rustfmt is not installed; installing it with rustup"
  rustup component add rustfmt
fi

status=0
echo "==> cargo fmt --all -- --check"
cargo fmt --all -- --check || status=1
# Without --all: in fuzz/ that would also check the parent crate (a path
# dependency) a second time.
echo "==> cargo fmt --manifest-path fuzz/Cargo.toml -- --check"
cargo fmt --manifest-path fuzz/Cargo.toml -- --check || status=1

if [ "$status" -ne 0 ]; then
  echo "gate-fmt: FAILED: the files above are not formatted; run \`cargo fmt --all\` and \`cargo fmt --manifest-path fuzz/Cargo.toml\`" >&2
  exit 1
fi
echo "gate-fmt: the crate and the fuzz targets are formatted"
