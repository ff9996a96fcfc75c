/*
 * Linked against the static library (TritonShm::triton_shm_static): the
 * seed's path of normalise, register and cleanup-all works without
 * libtriton_shm's shared object. check_no_shared_dependency.cmake checks
 * that this executable really does not load it.
 */
#include "check.h"

int main(void) {
  char normalized[64];
  char name[64];
  triton_shm_cleanup_report report;

  CHECK_STR(triton_shm_version(), TRITON_SHM_VERSION_STRING);
  CHECK_OK(triton_shm_normalize_name("/path/with/slashes", normalized, sizeof normalized, NULL));
  CHECK_STR(normalized, "/path_with_slashes");

  shm_test_name(name, sizeof name, "s", "static");
  REQUIRE(shm_test_create(name, 4096) == 0);
  CHECK_OK(triton_shm_register_region(name));
  memset(&report, 0xff, sizeof report);
  CHECK_OK(triton_shm_cleanup_all(&report));
  CHECK_SIZE(report.unlinked, 1);
  CHECK(!shm_test_exists(name));
  shm_test_remove(name);
  CHECK_DONE();
}
