#!/bin/sh
# Runs every test of triton-shm, on Linux and on macOS: the shell scripts'
# own check, the Rust formatting, the Rust suites (with the property tests
# and the header drift check, once each), clippy, rustdoc, the C/C++
# harness under CTest (against the add_subdirectory build and an installed
# prefix), the exported-symbol check, the ABI check against the 0.1.0
# release, the CMake package's own tests, the interop test with the real
# Triton Python client, the native and Rust verification gates, the Mach-O
# gate (macOS builds checked from Linux) and the minimum Rust version. What
# cannot run on the host is skipped with a message naming it.
#
# Installs what it needs and says so: cmake, clang and valgrind, dash, the
# shell linter, libabigail's abidw and abidiff (apt-get as root on Debian or
# Ubuntu; on macOS: Homebrew's cmake and shellcheck, Xcode's clang), the
# Python client and zig into virtual environments, the nightly toolchain
# with miri, cargo-fuzz, the macOS targets, the minimum-version toolchain.
# Every release build of the checkout shares build/cargo-target; the debug
# test builds use target/. Run from anywhere.
set -u
script=scripts/test.sh
# shellcheck source=lib/harness.sh
. "$(dirname "$0")/lib/harness.sh"
# shellcheck source=lib/cuda_runtime.sh
. "$(dirname "$0")/lib/cuda_runtime.sh"
cd "$repo" || exit 1

timings=

# stage TITLE COMMAND...: run one stage; stop at the first that fails.
stage() {
  _title=$1
  shift
  step "$_title"
  _started=$(date +%s)
  if ! "$@"; then
    echo
    echo "$script: FAILED in stage: $_title"
    exit 1
  fi
  timings="$timings$(printf '%5ss  %s' "$(($(date +%s) - _started))" "$_title")
"
}

rust_tests() {
  # Includes tests/header.rs's drift check (the generate-header feature)
  # and tests/props.rs: neither runs anywhere else in this command.
  cargo test --locked --all-features --all-targets &&
    cargo test --locked --all-features --doc
}

clippy_both() {
  cargo clippy --locked --all-targets --all-features -- -D warnings &&
    cargo clippy --locked --all-targets -- -D warnings
}

# The Rust documentation, private items included, with every intra-doc link
# resolved: a link to an item that is gone is a false statement.
rustdoc_links() {
  RUSTDOCFLAGS="-D warnings" cargo doc --locked --no-deps --all-features \
    --document-private-items
}

# The benchmarks compile (they run with scripts/bench.sh, not here), the
# Triton manager's CUDA row too where there is a CUDA runtime.
benchmarks_build() {
  ensure_cmake
  _cuda=$(cuda_runtime_for_tests "$repo/build/cuda-runtime") || _cuda=
  configure_build benchmarks "$repo/benches" "$repo/build/bench-build" \
    ${_cuda:+"-DTRITON_SHM_BENCH_CUDA_ROOT=$_cuda"}
}

# The library as it ships (scripts/check-exports.sh builds it with the
# package's command into the shared target dir, where the CMake builds left
# it), and its stripped size.
exports_and_size() {
  lib="$cargo_target/release/$(shared_library_name)"
  build_shipped_library --target-dir "$cargo_target" &&
    scripts/check-exports.sh "$lib" || return 1
  # A measurement reported, not a gate: macOS's strip
  # keeps a dylib's exports only with -x.
  stripped="$cargo_target/stripped-$(shared_library_name)"
  strip_flags=
  is_macos && strip_flags=-x
  # shellcheck disable=SC2086 # one flag or none
  if cp "$lib" "$stripped" && strip $strip_flags "$stripped"; then
    echo "shipped shared library, stripped: $(wc -c <"$stripped" | tr -d ' ') bytes"
  else
    echo "could not strip a copy of $lib: size not measured"
  fi
  rm -f "$stripped"
}

stage "shell scripts: POSIX sh (dash -n) and shellcheck" scripts/check-shell.sh
stage "Rust formatting (cargo fmt --check, the crate and the fuzz targets)" scripts/gate-fmt.sh
stage "cargo test, all features (unit, integration, property tests, header drift check, doc tests)" rust_tests
stage "cargo clippy -D warnings (all features, then none)" clippy_both
stage "rustdoc -D warnings (private items too: every intra-doc link resolves)" rustdoc_links
stage "C/C++ harness under CTest (add_subdirectory build, then installed package)" scripts/ctest.sh
stage "the benchmarks build (with the CUDA row where a CUDA runtime is; not run)" benchmarks_build
stage "exported symbols match the header" exports_and_size
stage "ABI check against 0.1.0 (abidiff of the header's C ABI, with its control)" scripts/check-abi.sh
stage "CMake package tests (add_subdirectory, FetchContent, find_package, relocation)" scripts/package-tests.sh
stage "interop with the real Triton Python client (tritonclient from PyPI)" \
  scripts/interop.sh "$cargo_target/release/$(shared_library_name)"
stage "native gates: the CTest harness under ASan+UBSan (clang) and valgrind" scripts/gates-native.sh
stage "Rust gates: miri on the pure code, fuzz smoke runs, clippy for the macOS targets" scripts/gates-rust.sh
stage "Mach-O gate: both macOS targets built with zig and checked" scripts/gate-macho.sh
stage "minimum Rust version: the library and every test build with rust-version" scripts/gate-msrv.sh

echo
echo "stage times:"
printf '%s' "$timings"
echo "all test stages passed in $(($(date +%s) - harness_start))s"
