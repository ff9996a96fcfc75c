# shellcheck shell=sh
# A CUDA runtime without a CUDA toolkit: libcudart and its headers from
# NVIDIA's PyPI wheels nvidia-cuda-runtime and nvidia-cuda-crt, unpacked as
# zip files (no pip install, no virtual environment). The drop-in's CUDA
# scenarios build against it. Sourced (POSIX sh) by scripts/ctest.sh and
# integration/triton-server/tests/run-cuda.sh.
#
#   cuda_wheels_download DIR   pip download both wheels into DIR
#   cuda_wheels_unpack DIR     unpack DIR's wheels into DIR/cuda-VERSION
#                              (once) and print the runtime's root, the
#                              directory with include/ and lib/
#
# Both return non-zero on failure and print nothing to stdout then.

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
