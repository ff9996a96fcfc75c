/* triton_shm.h twice in one unit: the include guard must hold. */
#include <triton_shm.h>
#include <triton_shm.h>

triton_shm_status header_compile_probe(triton_shm_cleanup_report *report);
triton_shm_status header_compile_probe(triton_shm_cleanup_report *report) {
  return triton_shm_cleanup_all(report);
}
