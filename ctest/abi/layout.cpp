// The pinned ABI, checked by a C++ compiler (layout.h: compiling is the
// check), plus what only C++ can say: the structs are standard-layout and
// trivially copyable, and the enums have uint32_t underneath, as C's
// typedefs have.
#include <triton_shm.h>

#include <cstdio>
#include <cstring>
#include <type_traits>

#include "layout.h"

template <typename T>
constexpr bool plain_struct() {
  return std::is_standard_layout<T>::value && std::is_trivially_copyable<T>::value;
}
static_assert(plain_struct<triton_shm_options>(), "options");
static_assert(plain_struct<triton_shm_stats>(), "stats");
static_assert(plain_struct<triton_shm_cleanup_report>(), "cleanup report");
static_assert(plain_struct<triton_shm_reap_report>(), "reap report");
static_assert(std::is_same<std::underlying_type<triton_shm_status>::type, uint32_t>::value,
              "status is a uint32_t");
static_assert(std::is_same<std::underlying_type<triton_shm_log_level>::type, uint32_t>::value,
              "log level is a uint32_t");

int main() {
  if (std::strcmp(triton_shm_version(), TRITON_SHM_VERSION_STRING) != 0) {
    std::fprintf(stderr, "loaded library %s, header %s\n", triton_shm_version(),
                 TRITON_SHM_VERSION_STRING);
    return 1;
  }
  std::printf("layout of %s pinned (C++)\n", TRITON_SHM_VERSION_STRING);
  return 0;
}
