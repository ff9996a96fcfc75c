#!/usr/bin/env bash
# Runs every test of triton-shm: the Rust suites, clippy, the header drift
# check, the exported-symbol check, the C/C++ harness under CTest (against
# the add_subdirectory build and an installed prefix), the CMake package's
# own tests, the interop test with the real Triton Python client, and the
# verification gates (sanitizers, valgrind, miri, fuzzing, macOS clippy).
# Installs what it needs (cmake through scripts/ensure-cmake.sh, the Python
# client into a virtual environment, clang and valgrind, the nightly
# toolchain with miri, cargo-fuzz, the macOS targets) and says so. Run from
# anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "cargo test, with the XNU model (unit, integration, header drift and compile checks)"
cargo test --locked --all-features --all-targets
cargo test --locked --all-features --doc

step "cargo clippy -D warnings (with and without the XNU model)"
cargo clippy --locked --all-targets --all-features -- -D warnings
cargo clippy --locked --all-targets -- -D warnings

step "header drift check"
scripts/header.sh --verify

step "exported symbols match the header"
cargo build --locked --release --lib
scripts/check-exports.sh target/release/libtriton_shm.so

step "C/C++ harness under CTest (add_subdirectory build, then installed package)"
scripts/ctest.sh

step "CMake package tests (add_subdirectory, FetchContent, find_package, relocation)"
scripts/package-tests.sh

step "interop with the real Triton Python client (tritonclient from PyPI)"
scripts/interop.sh

step "native gates: the CTest harness under ASan+UBSan (clang) and under valgrind"
scripts/gates-native.sh

step "Rust gates: miri on the pure code, fuzz smoke runs, clippy for the macOS targets"
scripts/gates-rust.sh

echo
echo "all test stages passed"
