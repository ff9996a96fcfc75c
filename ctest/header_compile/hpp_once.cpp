// triton_shm.hpp on its own: it must include everything it needs.
#include <triton_shm.hpp>

std::size_t header_compile_probe();
std::size_t header_compile_probe() {
  auto [status, registry] = triton_shm::Registry::Create();
  return status.ok() ? registry.Count() : 0;
}
