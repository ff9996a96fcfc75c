# shellcheck shell=sh
# A CUDA runtime without a CUDA toolkit: libcudart and its headers from
# NVIDIA's PyPI wheels nvidia-cuda-runtime and nvidia-cuda-crt, unpacked as
# zip files (no pip install, no virtual environment). The drop-in's CUDA
# scenarios and the benchmarks' CUDA row build against it. Sourced (POSIX
# sh) by scripts/ctest.sh, scripts/gates-native.sh, scripts/test.sh and
# integration/triton-server/tests/run-cuda.sh.
#
#   cuda_wheels_download DIR   pip download both wheels into DIR
#   cuda_wheels_unpack DIR     unpack DIR's wheels into DIR/cuda-VERSION
#                              (once) and print the runtime's root, the
#                              directory with include/ and lib/
#   cuda_runtime_for_tests DIR print the root of the CUDA runtime the tests
#                              build against: $TRITON_SHM_CUDA_ROOT, else
#                              /usr/local/cuda when it has the headers (a
#                              toolkit matches its machine's driver), else
#                              the wheels, downloaded into DIR once; says
#                              which on stderr. Needs harness.sh (say,
#                              skip, is_macos): on macOS, or when nothing is
#                              found, it says why and returns 1.
#
# Each returns non-zero on failure and prints nothing to stdout then.

cuda_wheel_version=13.5.37

cuda_wheels_download() {
  mkdir -p "$1" || return 1
  python3 -m pip download --quiet --disable-pip-version-check --no-deps \
    --only-binary=:all: -d "$1" \
    "nvidia-cuda-runtime==$cuda_wheel_version" "nvidia-cuda-crt==$cuda_wheel_version" >&2
}

cuda_wheels_unpack() {
  _cuda_unpacked=$1/cuda-$cuda_wheel_version
  if [ ! -d "$_cuda_unpacked/nvidia" ]; then
    rm -rf "$_cuda_unpacked.partial"
    mkdir -p "$_cuda_unpacked.partial" || return 1
    for _cuda_wheel in "$1/nvidia_cuda_runtime-$cuda_wheel_version"-*.whl \
      "$1/nvidia_cuda_crt-$cuda_wheel_version"-*.whl; do
      # An unmatched pattern stays as it is and names no file.
      [ -f "$_cuda_wheel" ] || return 1
      python3 -m zipfile -e "$_cuda_wheel" "$_cuda_unpacked.partial" || return 1
    done
    rm -rf "$_cuda_unpacked"
    mv "$_cuda_unpacked.partial" "$_cuda_unpacked" || return 1
  fi
  _cuda_include=$(find "$_cuda_unpacked/nvidia" -maxdepth 2 -name include -type d | head -n 1)
  [ -n "$_cuda_include" ] && [ -f "$_cuda_include/cuda_runtime_api.h" ] || return 1
  echo "${_cuda_include%/include}"
}

cuda_runtime_for_tests() {
  _cuda_what="the drop-in's CUDA scenarios and the CUDA benchmark row"
  if [ -n "${TRITON_SHM_CUDA_ROOT:-}" ]; then
    say "CUDA runtime: $TRITON_SHM_CUDA_ROOT (TRITON_SHM_CUDA_ROOT)"
    echo "$TRITON_SHM_CUDA_ROOT"
  elif is_macos; then
    skip "$_cuda_what" "CUDA has no macOS runtime" >&2
    return 1
  elif [ -f /usr/local/cuda/include/cuda_runtime_api.h ] && [ -f /usr/local/cuda/include/cuda.h ]; then
    say "CUDA runtime: /usr/local/cuda (the machine's CUDA toolkit)"
    echo /usr/local/cuda
  elif _cuda_root=$(cuda_wheels_unpack "$1" 2>/dev/null) ||
    { say "downloading NVIDIA's CUDA runtime wheels ($cuda_wheel_version) into $1" &&
      cuda_wheels_download "$1" && _cuda_root=$(cuda_wheels_unpack "$1"); }; then
    say "CUDA runtime: $_cuda_root (NVIDIA's wheels from PyPI)"
    echo "$_cuda_root"
  else
    skip "$_cuda_what" "no CUDA runtime: TRITON_SHM_CUDA_ROOT is not set, /usr/local/cuda has no headers and pip could not fetch nvidia-cuda-runtime and nvidia-cuda-crt $cuda_wheel_version" >&2
    return 1
  fi
}
