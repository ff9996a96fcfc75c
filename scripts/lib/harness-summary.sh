# Shared by scripts/ctest.sh and scripts/gates-native.sh (sourced, not run):
# print each configuration's summary, fail on anything the tests left in
# /dev/shm, and print the closing line.
#
#   finish_harness SCRIPT_NAME START_EPOCH NAME...
#
# Needs the associative arrays `summary` and `result`, keyed by NAME. The
# tests name their objects <letter><pid>_<tag>; the seed's region is
# /test_shm_region. Exits with the combined status.
finish_harness() {
  local script=$1 start=$2 name leftover="" status=0
  shift 2
  if [ -d /dev/shm ]; then
    leftover=$(find /dev/shm -maxdepth 1 -newermt "@$start" \
      \( -name test_shm_region -o -regex '/dev/shm/[a-z][0-9]+_.*' \) 2>/dev/null)
  fi
  for name in "$@"; do
    printf '\n==> summary (%s)\n' "$name"
    echo "${summary[$name]}"
    [ "${result[$name]}" -eq 0 ] || status=1
  done
  if [ -n "$leftover" ]; then
    echo "left behind in /dev/shm: $leftover" >&2
    status=1
  fi
  echo
  echo "$script: $([ $status -eq 0 ] && echo passed || echo FAILED) in $(($(date +%s) - start))s"
  exit $status
}
