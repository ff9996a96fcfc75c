/*
 * The seed design's test program, through the C ABI: normalise the seed's
 * five names, then create, map, write, read back, register and clean up the
 * region /test_shm_region.
 *
 * stdout must equal ctest/expected/seed_output.txt byte for byte (the seed's
 * "Expected Test Output"). Every failure goes to stderr with a non-zero exit;
 * the checks that succeed print nothing, so stdout stays the seed's text.
 */
#include "check.h"

static const char *const kSeedNames[] = {
    "/simple_name",
    "//double_slash",
    "/path/with/slashes",
    "no_leading_slash",
    "///multiple///slashes///",
};

static const char kRegion[] = "/test_shm_region";
static const char kData[] = "Hello from macOS shared memory!";
static const size_t kRegionSize = 4096;

static int fail(const char *what) {
  char message[1024];
  fprintf(stderr, "seed_output: %s (last error: \"%s\")\n", what,
          check_last_error(message, sizeof message));
  return EXIT_FAILURE;
}

static int fail_errno(const char *what) {
  fprintf(stderr, "seed_output: %s: %s\n", what, strerror(errno));
  return EXIT_FAILURE;
}

int main(void) {
  char normalized[256];
  char system_name[256];
  size_t i;
  int fd;
  char *mapped;
  char read_back[sizeof kData];
  triton_shm_cleanup_report report;

  printf("Testing shared memory name normalization for macOS:\n");
  for (i = 0; i < sizeof kSeedNames / sizeof kSeedNames[0]; i++) {
    if (triton_shm_normalize_name(kSeedNames[i], normalized, sizeof normalized, NULL) !=
        TRITON_SHM_OK) {
      return fail("triton_shm_normalize_name failed");
    }
    printf("Original: '%s' -> Normalized: '%s'\n", kSeedNames[i], normalized);
  }

  printf("\nTesting shared memory operations:\n");
  if (triton_shm_system_name(kRegion, system_name, sizeof system_name, NULL) !=
      TRITON_SHM_OK) {
    return fail("triton_shm_system_name failed");
  }
  /* A run that crashed before its cleanup may have left the region behind. */
  if (shm_unlink(system_name) != 0 && errno != ENOENT) {
    return fail_errno("removing a stale region");
  }
  fd = shm_open(system_name, O_RDWR | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return fail_errno("shm_open");
  if (ftruncate(fd, (off_t)kRegionSize) != 0) {
    close(fd);
    shm_unlink(system_name);
    return fail_errno("ftruncate");
  }
  printf("Created shared memory region: %s\n", system_name);

  mapped = mmap(NULL, kRegionSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (mapped == MAP_FAILED) {
    shm_unlink(system_name);
    return fail_errno("mmap");
  }
  printf("Mapped shared memory successfully\n");

  memcpy(mapped, kData, sizeof kData);
  printf("Wrote data: %s\n", kData);
  memcpy(read_back, mapped, sizeof read_back);
  read_back[sizeof read_back - 1] = '\0';
  printf("Read back: %s\n", read_back);
  if (strcmp(read_back, kData) != 0) {
    munmap(mapped, kRegionSize);
    shm_unlink(system_name);
    fprintf(stderr, "seed_output: read back \"%s\", wrote \"%s\"\n", read_back, kData);
    return EXIT_FAILURE;
  }
  munmap(mapped, kRegionSize);

  if (triton_shm_register_region(kRegion) != TRITON_SHM_OK) {
    shm_unlink(system_name);
    return fail("triton_shm_register_region failed");
  }
  memset(&report, 0xff, sizeof report);
  if (triton_shm_cleanup_all(&report) != TRITON_SHM_OK) {
    shm_unlink(system_name);
    return fail("triton_shm_cleanup_all failed");
  }
  if (report.unlinked != 1 || report.already_gone != 0 || report.failed != 0 ||
      report.skipped != 0 || report.released != 0) {
    shm_unlink(system_name);
    fprintf(stderr,
            "seed_output: cleanup report unlinked=%zu already_gone=%zu failed=%zu "
            "skipped=%zu released=%zu, expected exactly one unlinked\n",
            report.unlinked, report.already_gone, report.failed, report.skipped,
            report.released);
    return EXIT_FAILURE;
  }
  printf("Cleanup completed successfully\n");

  /* The region must really be gone, not merely untracked. */
  fd = shm_open(system_name, O_RDONLY, 0);
  if (fd >= 0) {
    close(fd);
    shm_unlink(system_name);
    fprintf(stderr, "seed_output: %s still exists after cleanup\n", system_name);
    return EXIT_FAILURE;
  }
  if (errno != ENOENT) return fail_errno("shm_open after cleanup");
  return fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
