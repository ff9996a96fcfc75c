#!/usr/bin/env bash
# Verification gates for the Rust side of triton-shm:
#
#   miri      the pure code (names, journal parsing, status codes, the panic
#             boundary, the C ABI's name and option exports, the registry's
#             bookkeeping through a fake backend) under the interpreter, which
#             catches undefined behaviour; tests that make system calls are
#             marked ignored under miri and counted as such
#   props     the property tests (tests/props.rs), including the one that
#             checks the posix naming policy against glibc's real shm_open
#   fuzz      a bounded run of each libFuzzer target in fuzz/
#   apple     clippy -D warnings for aarch64- and x86_64-apple-darwin: the
#             macOS code paths type-check (no macOS linker here, so no build)
#
# Installs what it needs and says so on stderr: the nightly toolchain with
# miri and rust-src, cargo-fuzz, the Apple targets' standard libraries, and
# clippy. Prints each gate's summary and exits non-zero if any gate failed.
# Run from anywhere.
#
# FUZZ_SECONDS  seconds per fuzz target (default 30, at most 60).
set -uo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS=${FUZZ_SECONDS:-30}
if ! [[ $FUZZ_SECONDS =~ ^[0-9]+$ ]] || ((FUZZ_SECONDS < 1 || FUZZ_SECONDS > 60)); then
    echo "FUZZ_SECONDS must be 1 to 60, not '$FUZZ_SECONDS'" >&2
    exit 2
fi
APPLE_TARGETS=(aarch64-apple-darwin x86_64-apple-darwin)
LOGS=$(mktemp -d "${TMPDIR:-/tmp}/gates-rust.XXXXXX")

say() { printf 'gates-rust: %s\n' "$*" >&2; }
step() { printf '\n==> %s\n' "$*"; }

# --- tools --------------------------------------------------------------------

ensure_tools() {
    if ! rustup run nightly rustc --version >/dev/null 2>&1; then
        say "installing the nightly toolchain (miri and cargo-fuzz need it)"
        rustup toolchain install nightly --profile minimal || return 1
    fi
    local have
    have=$(rustup component list --toolchain nightly --installed) || return 1
    for component in miri rust-src; do
        if ! grep -q "^$component" <<<"$have"; then
            say "adding $component to nightly"
            rustup component add "$component" --toolchain nightly || return 1
        fi
    done
    if ! cargo clippy --version >/dev/null 2>&1; then
        say "adding clippy to the default toolchain"
        rustup component add clippy || return 1
    fi
    have=$(rustup target list --installed) || return 1
    for target in "${APPLE_TARGETS[@]}"; do
        if ! grep -qx "$target" <<<"$have"; then
            say "adding the $target standard library (for clippy)"
            rustup target add "$target" || return 1
        fi
    done
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
    cargo +nightly miri test --locked --lib --tests 2>&1 | tee "$LOGS/miri.log"
    local rc=${PIPESTATUS[0]}
    SUMMARY[miri]="$(test_counts "$LOGS/miri.log") (ignored: tests that make system calls)"
    return "$rc"
}

gate_props() {
    cargo test --locked --test props 2>&1 | tee "$LOGS/props.log"
    local rc=${PIPESTATUS[0]}
    SUMMARY[props]=$(test_counts "$LOGS/props.log")
    return "$rc"
}

gate_fuzz() {
    local rc=0 target dict log runs
    SUMMARY[fuzz]=""
    for target in names journal_parse; do
        case $target in
            names) dict=fuzz/dict/names.dict ;;
            journal_parse) dict=fuzz/dict/journal.dict ;;
        esac
        log="$LOGS/fuzz-$target.log"
        # Corpora grow in fuzz/corpus/<target> (ignored by git) from run to run.
        (cd fuzz && cargo +nightly fuzz run "$target" -- \
            -max_total_time="$FUZZ_SECONDS" -dict="../$dict" -print_final_stats=1) >"$log" 2>&1
        local status=$?
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
        grep -E '^(Done [0-9]+ runs|stat::)' "$log"
        if ((status != 0)); then
            rc=1
            tail -n 40 "$log"
            SUMMARY[fuzz]+="$target FAILED (log: $log); "
        else
            SUMMARY[fuzz]+="$target ${runs:-?} runs in ${FUZZ_SECONDS}s; "
        fi
    done
    return "$rc"
}

gate_apple() {
    local rc=0 target features
    SUMMARY[apple]=""
    for target in "${APPLE_TARGETS[@]}"; do
        # The default build, then with crash-points (the xnu-model feature
        # only exists on Linux; on Apple the real OS is what it models).
        for features in "" "crash-points"; do
            if cargo clippy --locked --all-targets --target "$target" \
                ${features:+--features "$features"} -- -D warnings; then
                SUMMARY[apple]+="$target${features:+ +$features} clean; "
            else
                rc=1
                SUMMARY[apple]+="$target${features:+ +$features} FAILED; "
            fi
        done
    done
    return "$rc"
}

# --- run ----------------------------------------------------------------------

declare -A SUMMARY SECONDS_TAKEN RESULT
GATES=(miri props fuzz apple)
failed=0

start=$SECONDS
if ! ensure_tools; then
    echo "gates-rust: could not install the tools the gates need" >&2
    exit 1
fi
tools_seconds=$((SECONDS - start))

for gate in "${GATES[@]}"; do
    step "gate: $gate"
    start=$SECONDS
    if "gate_$gate"; then
        RESULT[$gate]=ok
    else
        RESULT[$gate]=FAILED
        failed=1
    fi
    SECONDS_TAKEN[$gate]=$((SECONDS - start))
done

step "summary (tools: ${tools_seconds}s; logs in $LOGS)"
for gate in "${GATES[@]}"; do
    printf '%-6s %-6s %4ss  %s\n' "$gate" "${RESULT[$gate]}" "${SECONDS_TAKEN[$gate]}" "${SUMMARY[$gate]:-}"
done
if ((failed)); then
    echo "gates-rust: FAILED"
    exit 1
fi
echo "gates-rust: all gates passed"
