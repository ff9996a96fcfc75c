/*
 * Assertions and shared-memory helpers for the C tests.
 *
 * Include this header first: it selects POSIX.1-2008 before any system
 * header is read, so the tests build as strict C99/C11.
 *
 * A failed check prints file:line, the expression, and for statuses the
 * status names and the library's last error message, then the test goes on;
 * CHECK_DONE() turns the failure count into the exit code. A test that must
 * not continue after a failure uses REQUIRE / REQUIRE_STATUS.
 */
#ifndef TRITON_SHM_CTEST_CHECK_H
#define TRITON_SHM_CTEST_CHECK_H

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <triton_shm.h>

/* Failures so far in this program. */
static int check_failures = 0;

/* This thread's last error message, or a note that it could not be read. */
static inline const char *check_last_error(char *buf, size_t len) {
  if (triton_shm_last_error_message(buf, len, NULL) != TRITON_SHM_OK) {
    snprintf(buf, len, "(last error message longer than %zu bytes)", len);
  }
  return buf;
}

static inline void check_fail(const char *file, int line, const char *what) {
  fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
  check_failures++;
}

static inline void check_fail_status(const char *file, int line, const char *call,
                                     triton_shm_status got, triton_shm_status expected) {
  char message[1024];
  check_last_error(message, sizeof message);
  fprintf(stderr,
          "%s:%d: %s\n  returned %s (%u), expected %s (%u)\n  last error: \"%s\"\n",
          file, line, call, triton_shm_status_name(got), (unsigned)got,
          triton_shm_status_name(expected), (unsigned)expected, message);
  check_failures++;
}

static inline void check_fail_str(const char *file, int line, const char *what,
                                  const char *got, const char *expected) {
  fprintf(stderr, "%s:%d: check failed: %s\n  got:      \"%s\"\n  expected: \"%s\"\n",
          file, line, what, got, expected);
  check_failures++;
}

static inline void check_fail_size(const char *file, int line, const char *what,
                                   size_t got, size_t expected) {
  fprintf(stderr, "%s:%d: check failed: %s\n  got %zu, expected %zu\n", file, line,
          what, got, expected);
  check_failures++;
}

/* Evaluate `cond`; record a failure if it is false. */
#define CHECK(cond)                                   \
  do {                                                \
    if (!(cond)) check_fail(__FILE__, __LINE__, #cond); \
  } while (0)

/* Like CHECK, but end the program at once on failure. */
#define REQUIRE(cond)                                 \
  do {                                                \
    if (!(cond)) {                                    \
      check_fail(__FILE__, __LINE__, #cond);          \
      exit(EXIT_FAILURE);                             \
    }                                                 \
  } while (0)

/* Evaluate `call` once and compare its status with `expected`. */
#define CHECK_STATUS(call, expected)                                         \
  do {                                                                       \
    triton_shm_status check_got_ = (call);                                   \
    triton_shm_status check_want_ = (expected);                              \
    if (check_got_ != check_want_)                                           \
      check_fail_status(__FILE__, __LINE__, #call, check_got_, check_want_); \
  } while (0)

#define REQUIRE_STATUS(call, expected)                                       \
  do {                                                                       \
    triton_shm_status check_got_ = (call);                                   \
    triton_shm_status check_want_ = (expected);                              \
    if (check_got_ != check_want_) {                                         \
      check_fail_status(__FILE__, __LINE__, #call, check_got_, check_want_); \
      exit(EXIT_FAILURE);                                                    \
    }                                                                        \
  } while (0)

#define CHECK_OK(call) CHECK_STATUS(call, TRITON_SHM_OK)
#define REQUIRE_OK(call) REQUIRE_STATUS(call, TRITON_SHM_OK)

/* Compare two NUL-terminated strings. */
#define CHECK_STR(got, expected)                                          \
  do {                                                                    \
    const char *check_g_ = (got);                                         \
    const char *check_e_ = (expected);                                    \
    if (strcmp(check_g_, check_e_) != 0)                                  \
      check_fail_str(__FILE__, __LINE__, #got " == " #expected, check_g_, \
                     check_e_);                                           \
  } while (0)

#define CHECK_SIZE(got, expected)                                             \
  do {                                                                        \
    size_t check_g_ = (size_t)(got);                                          \
    size_t check_e_ = (size_t)(expected);                                     \
    if (check_g_ != check_e_)                                                 \
      check_fail_size(__FILE__, __LINE__, #got " == " #expected, check_g_,    \
                      check_e_);                                              \
  } while (0)

/* The last error message must contain `needle`. */
#define CHECK_LAST_ERROR_CONTAINS(needle)                                    \
  do {                                                                       \
    char check_msg_[1024];                                                   \
    check_last_error(check_msg_, sizeof check_msg_);                         \
    if (strstr(check_msg_, (needle)) == NULL)                                \
      check_fail_str(__FILE__, __LINE__, "last error contains " #needle,     \
                     check_msg_, (needle));                                  \
  } while (0)

/* End main(): report and turn the failure count into the exit status. */
#define CHECK_DONE()                                                  \
  do {                                                                \
    if (check_failures != 0) {                                        \
      fprintf(stderr, "%d check(s) failed\n", check_failures);        \
      return EXIT_FAILURE;                                            \
    }                                                                 \
    return EXIT_SUCCESS;                                              \
  } while (0)

/* ---- real shared-memory objects -------------------------------------- */

/* Write "/<prefix><pid>_<tag>" into `buf`: unique per test process, and short
 * enough for the darwin limit when `tag` is short. */
static inline const char *shm_test_name(char *buf, size_t len, const char *prefix,
                                        const char *tag) {
  snprintf(buf, len, "/%s%ld_%s", prefix, (long)getpid(), tag);
  return buf;
}

/* Create the object `name` (which must not exist) with `size` bytes. */
static inline int shm_test_create(const char *name, size_t size) {
  int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
  if (fd < 0) {
    fprintf(stderr, "shm_open(\"%s\", O_CREAT|O_EXCL): %s\n", name, strerror(errno));
    return -1;
  }
  if (size > 0 && ftruncate(fd, (off_t)size) != 0) {
    fprintf(stderr, "ftruncate(\"%s\"): %s\n", name, strerror(errno));
    close(fd);
    shm_unlink(name);
    return -1;
  }
  close(fd);
  return 0;
}

/* Whether the object `name` exists, asked through shm_open itself rather than
 * by looking in /dev/shm, which macOS does not have. */
static inline int shm_test_exists(const char *name) {
  int fd = shm_open(name, O_RDONLY, 0);
  if (fd >= 0) {
    close(fd);
    return 1;
  }
  return 0;
}

/* Remove `name` if it exists; an object already gone is fine. */
static inline void shm_test_remove(const char *name) {
  if (shm_unlink(name) != 0 && errno != ENOENT) {
    fprintf(stderr, "shm_unlink(\"%s\"): %s\n", name, strerror(errno));
  }
}

/* A registry with the given policies; ends the test if it cannot be made. */
static inline triton_shm_registry *check_registry_new(uint32_t naming, uint32_t unlink) {
  triton_shm_options opts;
  triton_shm_registry *reg = NULL;
  REQUIRE_OK(TRITON_SHM_OPTIONS_INIT(&opts));
  opts.naming_policy = naming;
  opts.unlink_policy = unlink;
  REQUIRE_OK(triton_shm_registry_new(&opts, &reg));
  REQUIRE(reg != NULL);
  return reg;
}

#endif /* TRITON_SHM_CTEST_CHECK_H */
