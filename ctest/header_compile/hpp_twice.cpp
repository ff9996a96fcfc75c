// triton_shm.hpp twice, after the C header, in one unit.
#include <triton_shm.h>
#include <triton_shm.hpp>
#include <triton_shm.hpp>

bool header_compile_probe();
bool header_compile_probe() {
  auto [status, name] = triton_shm::NormalizeName("/a/b");
  return status.ok() && name == "/a_b";
}
