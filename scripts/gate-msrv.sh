#!/bin/sh
# The minimum supported Rust version is true: the committed Cargo.lock builds
# the library, and builds every test with every feature, on the toolchain named
# by `rust-version` in Cargo.toml. Installs that toolchain with rustup
# (--profile minimal) when it is missing, and says so. Builds into
# target/msrv (or $TRITON_SHM_MSRV_TARGET_DIR) so that the usual target
# directory keeps the current toolchain's artefacts. Run from anywhere.
set -eu
cd "$(dirname "$0")/.."

fail() { printf 'gate-msrv: %s\n' "$*" >&2; exit 1; }

# rust-version from the [package] table (not from a dependency's table).
msrv=$(awk '
  /^[ \t]*\[/ { in_package = ($0 ~ /^[ \t]*\[package\][ \t]*(#.*)?$/); next }
  in_package && /^[ \t]*rust-version[ \t]*=/ {
    sub(/^[^=]*=[ \t]*"/, ""); sub(/".*$/, ""); print; exit
  }' Cargo.toml)
# Digits and dots, at least one dot, none leading, trailing or doubled.
case $msrv in
  '' | *[!0-9.]* | .* | *. | *..*) msrv_ok=no ;;
  *.*) msrv_ok=yes ;;
  *) msrv_ok=no ;;
esac
[ "$msrv_ok" = yes ] ||
  fail "no rust-version = \"X.Y\" in the [package] table of Cargo.toml (found '$msrv')"

command -v rustup >/dev/null 2>&1 ||
  fail "rustup not found; it installs the Rust $msrv toolchain this gate needs (https://rustup.rs)"

# Installed toolchains are listed as e.g. "1.82-x86_64-unknown-linux-gnu".
if ! rustup toolchain list | awk -v v="$msrv" '
    { if ($1 == v || index($1, v "-") == 1) found = 1 }
    END { exit !found }'; then
  echo "gate-msrv: Rust $msrv is not installed; installing it with rustup (--profile minimal)"
  rustup toolchain install "$msrv" --profile minimal --no-self-update ||
    fail "could not install Rust $msrv"
fi

target_dir=${TRITON_SHM_MSRV_TARGET_DIR:-target/msrv}
status=0
run() {
  printf '\n==> %s\n' "$*"
  if ! "$@"; then
    echo "gate-msrv: FAILED: $*" >&2
    status=1
  fi
}
run cargo "+$msrv" build --locked --target-dir "$target_dir"
run cargo "+$msrv" test --no-run --locked --all-features --target-dir "$target_dir"

echo
if [ "$status" -ne 0 ]; then
  echo "gate-msrv: Rust $msrv cannot build this checkout with the committed Cargo.lock" >&2
  echo "gate-msrv: regenerate it with \`cargo update\` (.cargo/config.toml keeps it within rust-version)" >&2
  exit 1
fi
echo "gate-msrv: Rust $msrv ($(rustc "+$msrv" --version)) builds the library and every test with --locked"
