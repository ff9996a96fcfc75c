/* triton_shm.h on its own, first in the unit. */
#include <triton_shm.h>

/* ISO C forbids an empty unit; use a few declarations so they are checked. */
triton_shm_status header_compile_probe(triton_shm_options *opts);
triton_shm_status header_compile_probe(triton_shm_options *opts) {
  triton_shm_log_callback callback = 0;
  (void)callback;
  return TRITON_SHM_OPTIONS_INIT(opts);
}
