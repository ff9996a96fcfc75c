#!/bin/sh
# The scripts are POSIX sh, so that they run alike under macOS's bash 3.2,
# dash and any other sh: every script under scripts/, cmake/, .ci/ and
# integration/triton-server/ must pass `dash -n` (parses as POSIX sh;
# bash-only scripts are named and checked by bash -n) and shellcheck.
# Installs dash and shellcheck with apt-get as root on Debian or Ubuntu and
# says so; elsewhere (macOS: brew install shellcheck dash) it names what is
# missing.
set -u
script=scripts/check-shell.sh
# shellcheck source=lib/harness.sh
. "$(dirname "$0")/lib/harness.sh"
cd "$repo" || exit 1

missing=
command -v dash >/dev/null 2>&1 || missing="$missing dash"
command -v shellcheck >/dev/null 2>&1 || missing="$missing shellcheck"
if [ -n "$missing" ]; then
  # shellcheck disable=SC2086 # one word per package
  install_debian_packages $missing ||
    die "install$missing (macOS: brew install$missing), then run again"
fi
echo "using $(shellcheck --version | sed -n 's/^version: /shellcheck /p'), dash"

status=0
count=0
for file in scripts/*.sh scripts/lib/*.sh cmake/*.sh integration/triton-server/*.sh \
  integration/triton-server/tests/*.sh .ci/run; do
  [ -f "$file" ] || continue
  count=$((count + 1))
  case $(head -n 1 "$file") in
    *bash*) parser=bash ;;
    *) parser=dash ;;
  esac
  if ! "$parser" -n "$file"; then
    echo "$script: $file does not parse with $parser -n"
    status=1
  fi
  if ! shellcheck -x -P SCRIPTDIR "$file"; then
    status=1
  fi
done
if [ "$status" -eq 0 ]; then
  echo "$script: $count scripts pass dash -n (or bash -n where they say bash) and shellcheck"
else
  echo "$script: FAILED"
fi
exit "$status"
