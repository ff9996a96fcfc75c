/*
 * A failing shm_unlink: OS_ERROR with the errno, the entry kept for a retry,
 * and cleanup-all reporting the failure. The failure is provoked by putting a
 * directory where the object would be, which needs Linux's /dev/shm; where
 * there is none the test is skipped (exit code 77).
 */
#include "check.h"

#define SKIP 77

int main(void) {
  triton_shm_registry *reg =
      check_registry_new(TRITON_SHM_NAMING_POSIX, TRITON_SHM_UNLINK_OWNED_ONLY);
  char key[64], path[128], message[512];
  triton_shm_cleanup_report report;
  bool tracked = false;
  int err;

  shm_test_name(key, sizeof key, "o", "dir");
  snprintf(path, sizeof path, "/dev/shm%s", key);
  if (mkdir(path, 0700) != 0) {
    fprintf(stderr, "skipped: cannot create %s (%s)\n", path, strerror(errno));
    triton_shm_registry_free(reg);
    return SKIP;
  }

  CHECK_OK(triton_shm_registry_register(reg, key, true));
  CHECK_STATUS(triton_shm_registry_unlink(reg, key), TRITON_SHM_OS_ERROR);
  err = triton_shm_last_errno();
  CHECK(err != 0 && err != ENOENT);
  CHECK_OK(triton_shm_last_error_message(message, sizeof message, NULL));
  if (strstr(message, key) == NULL || strstr(message, strerror(err)) == NULL) {
    fprintf(stderr, "the message should name '%s' and say \"%s\": \"%s\"\n", key,
            strerror(err), message);
    check_failures++;
  }
  /* The failed entry stays tracked for a retry. */
  CHECK_OK(triton_shm_registry_contains(reg, key, &tracked));
  CHECK(tracked);

  memset(&report, 0xff, sizeof report);
  CHECK_STATUS(triton_shm_registry_cleanup_all(reg, &report), TRITON_SHM_OS_ERROR);
  CHECK_SIZE(report.failed, 1);
  CHECK_SIZE(report.unlinked, 0);
  CHECK_OK(triton_shm_registry_contains(reg, key, &tracked));
  CHECK(tracked);

  /* Once the obstacle is gone, the retry drops the entry. */
  REQUIRE(rmdir(path) == 0);
  memset(&report, 0xff, sizeof report);
  CHECK_OK(triton_shm_registry_cleanup_all(reg, &report));
  CHECK_SIZE(report.failed, 0);
  CHECK_SIZE(report.already_gone, 1);
  CHECK_OK(triton_shm_registry_contains(reg, key, &tracked));
  CHECK(!tracked);
  triton_shm_registry_free(reg);
  CHECK_DONE();
}
