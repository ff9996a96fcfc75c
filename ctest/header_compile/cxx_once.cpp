// triton_shm.h on its own, compiled as C++.
#include <triton_shm.h>

triton_shm_status header_compile_probe(triton_shm_options* opts);
triton_shm_status header_compile_probe(triton_shm_options* opts) {
  triton_shm_log_callback callback = nullptr;
  (void)callback;
  return TRITON_SHM_OPTIONS_INIT(opts);
}
