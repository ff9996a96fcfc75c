#!/bin/sh
# Verification gates for the Rust side of triton-shm:
#
#   miri      the pure code (names, journal parsing, status codes, the panic
#             boundary, the C ABI's name and option exports, the registry's
#             bookkeeping through a fake backend) under the interpreter, which
#             catches undefined behaviour; tests that make system calls are
#             marked ignored under miri and counted as such
#   fuzz      a bounded run of each libFuzzer target in fuzz/
#   apple     clippy -D warnings for aarch64- and x86_64-apple-darwin: the
#             macOS code paths type-check (scripts/gate-macho.sh links them)
#
# The property tests (tests/props.rs) run once, in the test command's
# `cargo test`. Installs what it needs and says so on stderr: the nightly
# toolchain with miri and rust-src, cargo-fuzz, the Apple targets' standard
# libraries, and clippy. Prints each gate's summary and exits non-zero if any
# gate failed. Run from anywhere.
#
# FUZZ_SECONDS  seconds per fuzz target (default 30, at most 60).
# shellcheck disable=SC2317 # the gate_* functions are called as "gate_$gate"
set -u
script=scripts/gates-rust.sh
# shellcheck source=lib/harness.sh
. "$(dirname "$0")/lib/harness.sh"
cd "$repo" || exit 1

FUZZ_SECONDS=${FUZZ_SECONDS:-30}
case $FUZZ_SECONDS in
  '' | *[!0-9]*) die "FUZZ_SECONDS must be 1 to 60, not '$FUZZ_SECONDS'" ;;
esac
if [ "$FUZZ_SECONDS" -lt 1 ] || [ "$FUZZ_SECONDS" -gt 60 ]; then
  die "FUZZ_SECONDS must be 1 to 60, not '$FUZZ_SECONDS'"
fi
apple_targets="aarch64-apple-darwin x86_64-apple-darwin"
logs=$(mktemp -d "${TMPDIR:-/tmp}/gates-rust.XXXXXX")

# --- tools --------------------------------------------------------------------

ensure_tools() {
  if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    say "installing the nightly toolchain (miri and cargo-fuzz need it)"
    rustup toolchain install nightly --profile minimal || return 1
  fi
  have=$(rustup component list --toolchain nightly --installed) || return 1
  for component in miri rust-src; do
    if ! printf '%s\n' "$have" | grep -q "^$component"; then
      say "adding $component to nightly"
      rustup component add "$component" --toolchain nightly || return 1
    fi
  done
  if ! cargo clippy --version >/dev/null 2>&1; then
    say "adding clippy to the default toolchain"
    rustup component add clippy || return 1
  fi
  # shellcheck disable=SC2086 # one word per target
  ensure_rust_targets $apple_targets || return 1
  if ! cargo fuzz --version >/dev/null 2>&1; then
    say "installing cargo-fuzz"
    cargo install cargo-fuzz --locked || return 1
  fi
}

# --- gates --------------------------------------------------------------------

# Sum the "test result" lines of a cargo test log: "N passed, M ignored".
test_counts() {
  awk '/^test result:/ {
          for (i = 1; i <= NF; i++) {
              if ($(i + 1) ~ /^passed/) p += $i
              if ($(i + 1) ~ /^failed/) f += $i
              if ($(i + 1) ~ /^ignored/) g += $i
          }
       }
       END { printf "%d passed, %d failed, %d ignored", p, f, g }' "$1"
}

gate_miri() {
  # --lib --tests: unit and integration tests, not the doctests (the
  # crate-level example opens a registry with a journal on disk, which miri
  # cannot do in isolation). No MIRIFLAGS: isolation stays on, so a test
  # that touches the OS without being marked fails loudly.
  run_logged "$logs/miri.log" cargo +nightly miri test --locked --lib --tests
  rc=$?
  summary="$(test_counts "$logs/miri.log") (ignored: tests that make system calls)"
  return "$rc"
}

gate_fuzz() {
  rc=0
  summary=
  for target in names journal_parse; do
    case $target in
      names) dict=fuzz/dict/names.dict ;;
      journal_parse) dict=fuzz/dict/journal.dict ;;
    esac
    log="$logs/fuzz-$target.log"
    # Corpora grow in fuzz/corpus/<target> (ignored by git) from run to run.
    (cd fuzz && cargo +nightly fuzz run "$target" -- \
      -max_total_time="$FUZZ_SECONDS" -dict="../$dict" -print_final_stats=1) >"$log" 2>&1
    status=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    grep -E '^(Done [0-9]+ runs|stat::)' "$log"
    if [ "$status" -ne 0 ]; then
      rc=1
      tail -n 40 "$log"
      summary="$summary$target FAILED (log: $log); "
    else
      summary="$summary$target ${runs:-?} runs in ${FUZZ_SECONDS}s; "
    fi
  done
  return "$rc"
}

gate_apple() {
  rc=0
  summary=
  for target in $apple_targets; do
    # The default build, then with crash-points (the xnu-model feature
    # only exists on Linux; on Apple the real OS is what it models).
    for features in "" crash-points; do
      if cargo clippy --locked --all-targets --target "$target" \
        ${features:+--features "$features"} -- -D warnings; then
        summary="$summary$target${features:+ +$features} clean; "
      else
        rc=1
        summary="$summary$target${features:+ +$features} FAILED; "
      fi
    done
  done
  return "$rc"
}

# --- run ----------------------------------------------------------------------

ensure_tools || die "could not install the tools the gates need"
step "tools ready in $(($(date +%s) - harness_start))s (logs in $logs)"

for gate in miri fuzz apple; do
  step "gate: $gate"
  started=$(date +%s)
  summary=
  "gate_$gate"
  status=$?
  record "$gate" "$status" "$([ "$status" -eq 0 ] && echo ok || echo FAILED) in $(($(date +%s) - started))s: $summary"
done

finish_harness miri fuzz apple
