/*
 * The C ABI's error protocol: NULL for every pointer argument, status names,
 * the thread's last error message and errno, options validation, and the
 * version. Outputs must be written only on success.
 */
#include "check.h"

#include <stdint.h>

#define UNTOUCHED_SIZE ((size_t)4242)

static triton_shm_registry *const kUntouchedRegistry = (triton_shm_registry *)&check_failures;

static void null_pointer_arguments_are_refused(void) {
  triton_shm_registry *reg = check_registry_new(TRITON_SHM_NAMING_POSIX, 0);
  triton_shm_registry *out_reg = kUntouchedRegistry;
  triton_shm_options opts;
  char buf[64];
  size_t n = UNTOUCHED_SIZE;
  bool flag = true;

  /* triton_shm_last_error_message: buf is required, out_written is not. */
  CHECK_STATUS(triton_shm_last_error_message(NULL, sizeof buf, &n), TRITON_SHM_NULL_ARGUMENT);
  CHECK_SIZE(n, UNTOUCHED_SIZE);

  /* The name functions: name and out are required. */
  CHECK_STATUS(triton_shm_normalize_name(NULL, buf, sizeof buf, &n), TRITON_SHM_NULL_ARGUMENT);
  CHECK_LAST_ERROR_CONTAINS("name");
  CHECK_STATUS(triton_shm_normalize_name("/x", NULL, sizeof buf, &n), TRITON_SHM_NULL_ARGUMENT);
  CHECK_LAST_ERROR_CONTAINS("out");
  CHECK_STATUS(triton_shm_system_name(NULL, buf, sizeof buf, &n), TRITON_SHM_NULL_ARGUMENT);
  CHECK_STATUS(triton_shm_system_name("/x", NULL, sizeof buf, &n), TRITON_SHM_NULL_ARGUMENT);
  CHECK_STATUS(triton_shm_registry_system_name(NULL, "/x", buf, sizeof buf, &n),
               TRITON_SHM_NULL_ARGUMENT);
  CHECK_LAST_ERROR_CONTAINS("reg");
  CHECK_STATUS(triton_shm_registry_system_name(reg, NULL, buf, sizeof buf, &n),
               TRITON_SHM_NULL_ARGUMENT);
  CHECK_STATUS(triton_shm_registry_system_name(reg, "/x", NULL, sizeof buf, &n),
               TRITON_SHM_NULL_ARGUMENT);
  CHECK_SIZE(n, UNTOUCHED_SIZE);
  /* NULL wins over an invalid name: the pointer is checked first. */
  CHECK_STATUS(triton_shm_normalize_name("", NULL, 0, NULL), TRITON_SHM_NULL_ARGUMENT);
  CHECK_OK(triton_shm_normalize_name("/x", buf, sizeof buf, NULL));

  CHECK_STATUS(triton_shm_options_init(NULL, sizeof(triton_shm_options)), TRITON_SHM_NULL_ARGUMENT);

  CHECK_STATUS(triton_shm_register_region(NULL), TRITON_SHM_NULL_ARGUMENT);
  CHECK_STATUS(triton_shm_unlink_region(NULL), TRITON_SHM_NULL_ARGUMENT);
  CHECK_OK(triton_shm_cleanup_all(NULL)); /* the report is optional */

  CHECK_STATUS(triton_shm_registry_new(NULL, NULL), TRITON_SHM_NULL_ARGUMENT);
  REQUIRE_OK(TRITON_SHM_OPTIONS_INIT(&opts));
  CHECK_STATUS(triton_shm_registry_new(&opts, NULL), TRITON_SHM_NULL_ARGUMENT);

  CHECK_STATUS(triton_shm_registry_register(NULL, "/x", true), TRITON_SHM_NULL_ARGUMENT);
  CHECK_STATUS(triton_shm_registry_register(reg, NULL, true), TRITON_SHM_NULL_ARGUMENT);
  CHECK_STATUS(triton_shm_registry_unlink(NULL, "/x"), TRITON_SHM_NULL_ARGUMENT);
  CHECK_STATUS(triton_shm_registry_unlink(reg, NULL), TRITON_SHM_NULL_ARGUMENT);
  CHECK_STATUS(triton_shm_registry_cleanup_all(NULL, NULL), TRITON_SHM_NULL_ARGUMENT);
  CHECK_STATUS(triton_shm_registry_count(NULL, &n), TRITON_SHM_NULL_ARGUMENT);
  CHECK_SIZE(n, UNTOUCHED_SIZE);
  CHECK_STATUS(triton_shm_registry_count(reg, NULL), TRITON_SHM_NULL_ARGUMENT);
  CHECK_STATUS(triton_shm_registry_contains(NULL, "/x", &flag), TRITON_SHM_NULL_ARGUMENT);
  CHECK_STATUS(triton_shm_registry_contains(reg, NULL, &flag), TRITON_SHM_NULL_ARGUMENT);
  CHECK_STATUS(triton_shm_registry_contains(reg, "/x", NULL), TRITON_SHM_NULL_ARGUMENT);
  CHECK(flag == true);

  /* NULL is the documented "defaults" for options and "silence" for logging. */
  CHECK_OK(triton_shm_registry_new(NULL, &out_reg));
  CHECK(out_reg != kUntouchedRegistry && out_reg != NULL);
  triton_shm_registry_free(out_reg);
  CHECK_OK(triton_shm_set_log_callback(NULL, NULL));

  /* Nothing above was registered. */
  CHECK_OK(triton_shm_registry_count(reg, &n));
  CHECK_SIZE(n, 0);
  triton_shm_registry_free(reg);
}

static void every_status_has_its_name(void) {
  static const struct {
    triton_shm_status status;
    const char *name;
  } all[] = {
      {TRITON_SHM_OK, "TRITON_SHM_OK"},
      {TRITON_SHM_NULL_ARGUMENT, "TRITON_SHM_NULL_ARGUMENT"},
      {TRITON_SHM_INVALID_ARGUMENT, "TRITON_SHM_INVALID_ARGUMENT"},
      {TRITON_SHM_INVALID_NAME, "TRITON_SHM_INVALID_NAME"},
      {TRITON_SHM_NAME_TOO_LONG, "TRITON_SHM_NAME_TOO_LONG"},
      {TRITON_SHM_BUFFER_TOO_SMALL, "TRITON_SHM_BUFFER_TOO_SMALL"},
      {TRITON_SHM_OUT_OF_BOUNDS, "TRITON_SHM_OUT_OF_BOUNDS"},
      {TRITON_SHM_RESERVED_NAME, "TRITON_SHM_RESERVED_NAME"},
      {TRITON_SHM_NOT_FOUND, "TRITON_SHM_NOT_FOUND"},
      {TRITON_SHM_NAME_COLLISION, "TRITON_SHM_NAME_COLLISION"},
      {TRITON_SHM_ALREADY_EXISTS, "TRITON_SHM_ALREADY_EXISTS"},
      {TRITON_SHM_OS_ERROR, "TRITON_SHM_OS_ERROR"},
      {TRITON_SHM_PERMISSION_DENIED, "TRITON_SHM_PERMISSION_DENIED"},
      {TRITON_SHM_INTERNAL, "TRITON_SHM_INTERNAL"},
  };
  static const uint32_t unknown[] = {1, 99, 199, 299, 399, 899, 901, 1000, UINT32_MAX};
  size_t i;
  uint32_t v;
  for (i = 0; i < sizeof all / sizeof all[0]; i++) {
    CHECK_STR(triton_shm_status_name(all[i].status), all[i].name);
  }
  /* The values are part of the ABI and never renumbered. */
  CHECK(TRITON_SHM_OK == 0);
  CHECK(TRITON_SHM_NULL_ARGUMENT == 100);
  CHECK(TRITON_SHM_NOT_FOUND == 200);
  CHECK(TRITON_SHM_OS_ERROR == 300);
  CHECK(TRITON_SHM_INTERNAL == 900);
  for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
    CHECK_STR(triton_shm_status_name(unknown[i]), "TRITON_SHM_UNKNOWN_STATUS");
  }
  /* The table above is complete: the library names no other value. */
  for (v = 0; v <= 1000; v++) {
    const char *name = triton_shm_status_name(v);
    int known = 0;
    for (i = 0; i < sizeof all / sizeof all[0]; i++) known |= (uint32_t)all[i].status == v;
    if (!known && strcmp(name, "TRITON_SHM_UNKNOWN_STATUS") != 0) {
      fprintf(stderr, "%s:%d: status %u is named %s but missing from this test\n", __FILE__,
              __LINE__, (unsigned)v, name);
      check_failures++;
    }
  }
}

static void last_error_describes_the_last_call_of_this_thread(void) {
  char buf[512];
  char small[4];
  size_t n = 0;
  size_t len = 0;
  triton_shm_registry *reg = check_registry_new(TRITON_SHM_NAMING_DARWIN, 0);

  /* A failure sets a message naming the key; no system call, so errno 0. */
  CHECK_STATUS(triton_shm_registry_register(reg, "/this_name_is_far_too_long_for_darwin", true),
               TRITON_SHM_NAME_TOO_LONG);
  CHECK_OK(triton_shm_last_error_message(buf, sizeof buf, &len));
  CHECK(len > 0 && len == strlen(buf));
  CHECK(strstr(buf, "/this_name_is_far_too_long_for_darwin") != NULL);
  CHECK(triton_shm_last_errno() == 0);

  /* Reading does not clear it; a buffer too small reports the size needed,
   * and a retry sees the same text. */
  memset(small, 'Q', sizeof small);
  CHECK_STATUS(triton_shm_last_error_message(small, sizeof small, &n),
               TRITON_SHM_BUFFER_TOO_SMALL);
  CHECK_SIZE(n, len);
  {
    char again[512];
    CHECK_OK(triton_shm_last_error_message(again, sizeof again, &n));
    CHECK_STR(again, buf);
  }
  CHECK_OK(triton_shm_last_error_message(buf, len + 1, &n)); /* exact size */
  CHECK_SIZE(n, len);

  /* Another failure replaces it. */
  CHECK_STATUS(triton_shm_registry_unlink(reg, "/never_registered"), TRITON_SHM_NOT_FOUND);
  CHECK_OK(triton_shm_last_error_message(buf, sizeof buf, NULL));
  CHECK(strstr(buf, "/never_registered") != NULL);
  CHECK(strstr(buf, "far_too_long") == NULL);

  /* Any status-returning call that succeeds clears it. */
  CHECK_OK(triton_shm_normalize_name("/ok", buf, sizeof buf, NULL));
  n = 99;
  CHECK_OK(triton_shm_last_error_message(buf, sizeof buf, &n));
  CHECK_SIZE(n, 0);
  CHECK_STR(buf, "");
  CHECK(triton_shm_last_errno() == 0);

  /* Value-returning calls (names, version) leave it alone. */
  CHECK_STATUS(triton_shm_registry_unlink(reg, "/never_registered"), TRITON_SHM_NOT_FOUND);
  (void)triton_shm_status_name(TRITON_SHM_OK);
  (void)triton_shm_version();
  (void)triton_shm_last_errno();
  CHECK_LAST_ERROR_CONTAINS("/never_registered");
  triton_shm_registry_free(reg);
}

/* A fixed buffer too small for the message still holds a string: the
 * message's beginning, NUL-terminated, never uninitialised bytes a host
 * would pass on. */
static void a_buffer_too_small_receives_the_message_truncated(void) {
  char full[1024];
  char small[16];
  char key[252];
  size_t len = 0;
  size_t n = 0;
  triton_shm_registry *reg = check_registry_new(TRITON_SHM_NAMING_DARWIN, 0);

  CHECK_STATUS(triton_shm_registry_register(reg, "/this_name_is_far_too_long_for_darwin", true),
               TRITON_SHM_NAME_TOO_LONG);
  CHECK_OK(triton_shm_last_error_message(full, sizeof full, &len));
  REQUIRE(len > sizeof small);

  memset(small, 'Q', sizeof small);
  CHECK_STATUS(triton_shm_last_error_message(small, sizeof small, &n), TRITON_SHM_BUFFER_TOO_SMALL);
  CHECK_SIZE(n, len);
  CHECK(small[sizeof small - 1] == '\0');
  CHECK_SIZE(strlen(small), sizeof small - 1);
  CHECK(strncmp(small, full, sizeof small - 1) == 0);

  /* One byte: room for the NUL alone. Zero bytes: nothing is written. */
  small[0] = 'Q';
  CHECK_STATUS(triton_shm_last_error_message(small, 1, &n), TRITON_SHM_BUFFER_TOO_SMALL);
  CHECK(small[0] == '\0');
  small[0] = 'Q';
  CHECK_STATUS(triton_shm_last_error_message(small, 0, &n), TRITON_SHM_BUFFER_TOO_SMALL);
  CHECK(small[0] == 'Q');
  triton_shm_registry_free(reg);

  /* A valid 250-byte posix key makes a message longer than 512 bytes (it
   * names the key twice); a 512-byte buffer gets its first 511 bytes. */
  reg = check_registry_new(TRITON_SHM_NAMING_POSIX, 0);
  key[0] = '/';
  memset(key + 1, 'k', 250);
  key[251] = '\0';
  CHECK_STATUS(triton_shm_registry_unlink(reg, key), TRITON_SHM_NOT_FOUND);
  {
    char why[512];
    triton_shm_status s = triton_shm_last_error_message(why, sizeof why, &n);
    if (s == TRITON_SHM_BUFFER_TOO_SMALL) {
      CHECK(n >= sizeof why);
      CHECK_SIZE(strlen(why), sizeof why - 1);
    } else {
      CHECK(s == TRITON_SHM_OK);
      CHECK_SIZE(strlen(why), n);
    }
    CHECK(why[0] != '\0');
  }
  triton_shm_registry_free(reg);
}

/* A failed system call names its errno and the errno's text, once. */
static void the_errno_text_appears_once(void) {
  char buf[512];
  char name[64];
  triton_shm_region *region = NULL;
  triton_shm_registry *reg = check_registry_new(TRITON_SHM_NAMING_POSIX, 0);
  snprintf(name, sizeof name, "/triton_shm_errors_missing_%ld", (long)getpid());
  CHECK_STATUS(triton_shm_region_open(reg, name, 0, 8, 0, &region), TRITON_SHM_NOT_FOUND);
  CHECK_OK(triton_shm_last_error_message(buf, sizeof buf, NULL));
  CHECK(strstr(buf, "errno 2 (No such file or directory)") != NULL);
  CHECK(strstr(buf, "os error") == NULL);
  CHECK(region == NULL);
  triton_shm_registry_free(reg);
}

/* The environment reaches options only where the host asks for it, and it
 * can never make a registry unlink what it did not create. */
static void the_environment_is_read_only_when_the_host_opts_in(void) {
  triton_shm_options opts;
  triton_shm_registry *reg = NULL;

  REQUIRE(setenv("TRITON_SHM_UNLINK_POLICY", "all", 1) == 0);
  REQUIRE(setenv("TRITON_SHM_NAMING", "darwin", 1) == 0);
  CHECK_OK(TRITON_SHM_OPTIONS_INIT(&opts));
  CHECK(opts.unlink_policy == TRITON_SHM_UNLINK_OWNED_ONLY);
  CHECK(opts.naming_policy == TRITON_SHM_NAMING_PLATFORM);
  /* Nor do the defaults behind a NULL options pointer read it. */
  CHECK_OK(triton_shm_registry_new(NULL, &reg));
  triton_shm_registry_free(reg);

  /* Opting in: `all` is refused with a message that says why. */
  memset(&opts, 0xee, sizeof opts);
  CHECK_STATUS(triton_shm_options_from_env(&opts, sizeof opts), TRITON_SHM_INVALID_ARGUMENT);
  CHECK_LAST_ERROR_CONTAINS("TRITON_SHM_UNLINK_POLICY");
  CHECK(opts.naming_policy == 0xeeeeeeeeu); /* not written on failure */

  REQUIRE(setenv("TRITON_SHM_UNLINK_POLICY", "never", 1) == 0);
  CHECK_OK(triton_shm_options_from_env(&opts, sizeof opts));
  CHECK(opts.unlink_policy == TRITON_SHM_UNLINK_NEVER);
  CHECK(opts.naming_policy == TRITON_SHM_NAMING_DARWIN);
  CHECK_SIZE(opts.struct_size, sizeof opts);

  /* A bad value is an error where the host opted in, and nothing else. */
  REQUIRE(setenv("TRITON_SHM_NAMING", "windows", 1) == 0);
  CHECK_STATUS(triton_shm_options_from_env(&opts, sizeof opts), TRITON_SHM_INVALID_ARGUMENT);
  CHECK_LAST_ERROR_CONTAINS("TRITON_SHM_NAMING='windows'");
  CHECK_OK(TRITON_SHM_OPTIONS_INIT(&opts));
  reg = NULL;
  CHECK_OK(triton_shm_registry_new(&opts, &reg));
  triton_shm_registry_free(reg);

  /* The state directory from the environment outlives the call. */
  REQUIRE(unsetenv("TRITON_SHM_NAMING") == 0);
  REQUIRE(unsetenv("TRITON_SHM_UNLINK_POLICY") == 0);
  REQUIRE(setenv("TRITON_SHM_STATE_DIR", "/nonexistent/triton-shm-test-dir", 1) == 0);
  CHECK_OK(triton_shm_options_from_env(&opts, sizeof opts));
  REQUIRE(unsetenv("TRITON_SHM_STATE_DIR") == 0);
  REQUIRE(opts.state_dir != NULL);
  CHECK_STR(opts.state_dir, "/nonexistent/triton-shm-test-dir");
  CHECK_OK(TRITON_SHM_OPTIONS_INIT(&opts));
  CHECK(opts.state_dir == NULL);
}

static void options_are_validated(void) {
  triton_shm_options opts;
  triton_shm_registry *reg = kUntouchedRegistry;

  memset(&opts, 0xee, sizeof opts);
  CHECK_OK(TRITON_SHM_OPTIONS_INIT(&opts));
  CHECK_SIZE(opts.struct_size, sizeof opts);
  CHECK(opts.naming_policy == TRITON_SHM_NAMING_PLATFORM);
  CHECK(opts.unlink_policy == TRITON_SHM_UNLINK_OWNED_ONLY);

  /* struct_size: a struct the library cannot read is refused, and *out is
   * not written. */
  opts.struct_size = 0;
  CHECK_STATUS(triton_shm_registry_new(&opts, &reg), TRITON_SHM_INVALID_ARGUMENT);
  CHECK_LAST_ERROR_CONTAINS("struct_size");
  opts.struct_size = sizeof opts - 1;
  CHECK_STATUS(triton_shm_registry_new(&opts, &reg), TRITON_SHM_INVALID_ARGUMENT);
  opts.struct_size = sizeof opts + 1;
  CHECK_STATUS(triton_shm_registry_new(&opts, &reg), TRITON_SHM_INVALID_ARGUMENT);
  opts.struct_size = (size_t)-1;
  CHECK_STATUS(triton_shm_registry_new(&opts, &reg), TRITON_SHM_INVALID_ARGUMENT);
  CHECK(reg == kUntouchedRegistry);

  /* Unknown policy values. */
  CHECK_OK(TRITON_SHM_OPTIONS_INIT(&opts));
  /* Values far from the defined ones, so that policies added later do not
   * turn them valid. */
  opts.naming_policy = 1000;
  CHECK_STATUS(triton_shm_registry_new(&opts, &reg), TRITON_SHM_INVALID_ARGUMENT);
  CHECK_LAST_ERROR_CONTAINS("naming_policy");
  opts.naming_policy = UINT32_MAX;
  CHECK_STATUS(triton_shm_registry_new(&opts, &reg), TRITON_SHM_INVALID_ARGUMENT);
  CHECK_OK(TRITON_SHM_OPTIONS_INIT(&opts));
  opts.unlink_policy = 1000;
  CHECK_STATUS(triton_shm_registry_new(&opts, &reg), TRITON_SHM_INVALID_ARGUMENT);
  CHECK_LAST_ERROR_CONTAINS("unlink_policy");
  opts.unlink_policy = UINT32_MAX;
  CHECK_STATUS(triton_shm_registry_new(&opts, &reg), TRITON_SHM_INVALID_ARGUMENT);
  CHECK(reg == kUntouchedRegistry);

  /* Every known combination is accepted. */
  {
    static const uint32_t namings[] = {TRITON_SHM_NAMING_PLATFORM, TRITON_SHM_NAMING_DARWIN,
                                       TRITON_SHM_NAMING_POSIX};
    static const uint32_t unlinks[] = {TRITON_SHM_UNLINK_OWNED_ONLY, TRITON_SHM_UNLINK_ALL};
    size_t i, j;
    for (i = 0; i < 3; i++) {
      for (j = 0; j < 2; j++) {
        CHECK_OK(TRITON_SHM_OPTIONS_INIT(&opts));
        opts.naming_policy = namings[i];
        opts.unlink_policy = unlinks[j];
        reg = NULL;
        CHECK_OK(triton_shm_registry_new(&opts, &reg));
        CHECK(reg != NULL);
        triton_shm_registry_free(reg);
      }
    }
  }
}

static void version_matches_the_header(void) {
  char from_macros[32];
  const char *version = triton_shm_version();
  REQUIRE(version != NULL);
  CHECK_STR(version, TRITON_SHM_VERSION_STRING);
  snprintf(from_macros, sizeof from_macros, "%d.%d.%d", TRITON_SHM_VERSION_MAJOR,
           TRITON_SHM_VERSION_MINOR, TRITON_SHM_VERSION_PATCH);
  CHECK_STR(from_macros, TRITON_SHM_VERSION_STRING);
  CHECK(version == triton_shm_version()); /* static, never freed */
}

int main(void) {
  null_pointer_arguments_are_refused();
  every_status_has_its_name();
  last_error_describes_the_last_call_of_this_thread();
  a_buffer_too_small_receives_the_message_truncated();
  the_errno_text_appears_once();
  the_environment_is_read_only_when_the_host_opts_in();
  options_are_validated();
  version_matches_the_header();
  CHECK_DONE();
}
