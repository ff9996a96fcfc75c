/*
 * Names through the C ABI: the seed's normalisation, both naming policies'
 * limits and refusals, byte strings that are not UTF-8, and the caller-buffer
 * protocol (exact size works, one byte short reports the size needed and
 * leaves the buffer alone).
 */
#include "check.h"

#define SENTINEL 0x5a

/* `len` bytes of `c`, NUL-terminated, into `buf`. */
static char *repeat(char *buf, size_t at, char c, size_t len) {
  memset(buf + at, c, len);
  buf[at + len] = '\0';
  return buf;
}

static void seed_examples_normalise_exactly(void) {
  static const char *const cases[][2] = {
      {"/simple_name", "/simple_name"},
      {"//double_slash", "/double_slash"},
      {"/path/with/slashes", "/path_with_slashes"},
      {"no_leading_slash", "/no_leading_slash"},
      {"///multiple///slashes///", "/multiple___slashes___"},
  };
  size_t i;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char out[64];
    size_t written = 0;
    CHECK_OK(triton_shm_normalize_name(cases[i][0], out, sizeof out, &written));
    CHECK_STR(out, cases[i][1]);
    CHECK_SIZE(written, strlen(cases[i][1]));
  }
}

static void empty_names_are_invalid_everywhere(void) {
  static const char *const empties[] = {"", "/", "///"};
  triton_shm_registry *darwin = check_registry_new(TRITON_SHM_NAMING_DARWIN, 0);
  triton_shm_registry *posix = check_registry_new(TRITON_SHM_NAMING_POSIX, 0);
  size_t i;
  for (i = 0; i < 3; i++) {
    char out[16];
    size_t written = 777;
    memset(out, SENTINEL, sizeof out);
    CHECK_STATUS(triton_shm_normalize_name(empties[i], out, sizeof out, &written),
                 TRITON_SHM_INVALID_NAME);
    CHECK(out[0] == SENTINEL); /* never the name "/" */
    CHECK_SIZE(written, 777);  /* outputs are written only on success */
    CHECK_STATUS(triton_shm_system_name(empties[i], out, sizeof out, NULL),
                 TRITON_SHM_INVALID_NAME);
    CHECK_STATUS(triton_shm_registry_system_name(darwin, empties[i], out, sizeof out, NULL),
                 TRITON_SHM_INVALID_NAME);
    CHECK_STATUS(triton_shm_registry_system_name(posix, empties[i], out, sizeof out, NULL),
                 TRITON_SHM_INVALID_NAME);
    CHECK_STATUS(triton_shm_registry_register(darwin, empties[i], true),
                 TRITON_SHM_INVALID_NAME);
    CHECK_STATUS(triton_shm_registry_register(posix, empties[i], true),
                 TRITON_SHM_INVALID_NAME);
    CHECK_STATUS(triton_shm_register_region(empties[i]), TRITON_SHM_INVALID_NAME);
    CHECK_STATUS(triton_shm_registry_unlink(posix, empties[i]), TRITON_SHM_INVALID_NAME);
  }
  triton_shm_registry_free(darwin);
  triton_shm_registry_free(posix);
}

static void darwin_limit_is_31_bytes_of_normalised_name(void) {
  triton_shm_registry *reg = check_registry_new(TRITON_SHM_NAMING_DARWIN, 0);
  char name[64];
  char out[64];
  size_t written = 0;

  name[0] = '/';
  repeat(name, 1, 'x', TRITON_SHM_DARWIN_NAME_MAX - 1); /* 31 bytes */
  CHECK_OK(triton_shm_registry_system_name(reg, name, out, sizeof out, &written));
  CHECK_SIZE(written, TRITON_SHM_DARWIN_NAME_MAX);
  CHECK_STR(out, name);
  CHECK_OK(triton_shm_registry_register(reg, name, false));

  repeat(name, 1, 'x', TRITON_SHM_DARWIN_NAME_MAX); /* 32 bytes */
  written = 777;
  CHECK_STATUS(triton_shm_registry_system_name(reg, name, out, sizeof out, &written),
               TRITON_SHM_NAME_TOO_LONG);
  CHECK_SIZE(written, 777);
  CHECK_STATUS(triton_shm_registry_register(reg, name, false), TRITON_SHM_NAME_TOO_LONG);

  /* The limit counts the normalised name: extra leading slashes collapse,
   * and a missing one is added. */
  strcpy(name, "////");
  repeat(name, 4, 'x', TRITON_SHM_DARWIN_NAME_MAX - 1);
  CHECK_OK(triton_shm_registry_system_name(reg, name, out, sizeof out, &written));
  CHECK_SIZE(written, TRITON_SHM_DARWIN_NAME_MAX);
  repeat(name, 0, 'x', TRITON_SHM_DARWIN_NAME_MAX - 1);
  CHECK_OK(triton_shm_registry_system_name(reg, name, out, sizeof out, &written));
  CHECK_SIZE(written, TRITON_SHM_DARWIN_NAME_MAX);
  repeat(name, 0, 'x', TRITON_SHM_DARWIN_NAME_MAX);
  CHECK_STATUS(triton_shm_registry_system_name(reg, name, out, sizeof out, NULL),
               TRITON_SHM_NAME_TOO_LONG);

  /* Inner slashes are fine under darwin: they become '_'. */
  CHECK_OK(triton_shm_registry_system_name(reg, "/a/b/c", out, sizeof out, NULL));
  CHECK_STR(out, "/a_b_c");
  triton_shm_registry_free(reg);
}

static void posix_limit_is_255_bytes_after_the_slashes(void) {
  triton_shm_registry *reg = check_registry_new(TRITON_SHM_NAMING_POSIX, 0);
  char name[300];
  char out[300];
  size_t written = 0;

  name[0] = '/';
  repeat(name, 1, 'y', TRITON_SHM_POSIX_NAME_MAX);
  CHECK_OK(triton_shm_registry_system_name(reg, name, out, sizeof out, &written));
  CHECK_SIZE(written, TRITON_SHM_POSIX_NAME_MAX + 1);
  CHECK_STR(out, name);
  CHECK_OK(triton_shm_registry_register(reg, name, false));

  strcpy(name, "//");
  repeat(name, 2, 'y', TRITON_SHM_POSIX_NAME_MAX);
  CHECK_OK(triton_shm_registry_system_name(reg, name, out, sizeof out, NULL));
  CHECK_STR(out, name); /* posix hands the key over as given */

  name[0] = '/';
  repeat(name, 1, 'y', TRITON_SHM_POSIX_NAME_MAX + 1);
  CHECK_STATUS(triton_shm_registry_system_name(reg, name, out, sizeof out, NULL),
               TRITON_SHM_NAME_TOO_LONG);
  CHECK_STATUS(triton_shm_registry_register(reg, name, false), TRITON_SHM_NAME_TOO_LONG);
  triton_shm_registry_free(reg);
}

static void posix_refuses_inner_slashes(void) {
  triton_shm_registry *reg = check_registry_new(TRITON_SHM_NAMING_POSIX, 0);
  char out[64];
  CHECK_STATUS(triton_shm_registry_system_name(reg, "/path/with/slash", out, sizeof out, NULL),
               TRITON_SHM_INVALID_NAME);
  CHECK_LAST_ERROR_CONTAINS("/path/with/slash");
  CHECK_STATUS(triton_shm_registry_system_name(reg, "x/", out, sizeof out, NULL),
               TRITON_SHM_INVALID_NAME);
  CHECK_STATUS(triton_shm_registry_register(reg, "/a/b", true), TRITON_SHM_INVALID_NAME);
  triton_shm_registry_free(reg);
}

static void normalisation_alone_has_no_length_limit(void) {
  char name[400];
  char out[400];
  size_t written = 0;
  name[0] = '/';
  repeat(name, 1, 'z', 350);
  CHECK_OK(triton_shm_normalize_name(name, out, sizeof out, &written));
  CHECK_SIZE(written, 351);
}

static void non_utf8_bytes_are_valid_names(void) {
  triton_shm_registry *darwin = check_registry_new(TRITON_SHM_NAMING_DARWIN, 0);
  triton_shm_registry *posix = check_registry_new(TRITON_SHM_NAMING_POSIX, 0);
  char out[64];
  char key[64];
  CHECK_OK(triton_shm_normalize_name("/caf\xe9/\xff", out, sizeof out, NULL));
  CHECK_STR(out, "/caf\xe9_\xff");
  CHECK_OK(triton_shm_registry_system_name(darwin, "/caf\xe9/\xff", out, sizeof out, NULL));
  CHECK_STR(out, "/caf\xe9_\xff");
  CHECK_OK(triton_shm_registry_system_name(posix, "/\xc3\x28\xfe", out, sizeof out, NULL));
  CHECK_STR(out, "/\xc3\x28\xfe");

  /* A real object with such a name: registered, then unlinked by name. */
  shm_test_name(key, sizeof key, "n", "\xe9\xff");
  REQUIRE(shm_test_create(key, 0) == 0);
  CHECK_OK(triton_shm_registry_register(posix, key, true));
  CHECK_OK(triton_shm_registry_unlink(posix, key));
  CHECK(!shm_test_exists(key));
  shm_test_remove(key);
  triton_shm_registry_free(darwin);
  triton_shm_registry_free(posix);
}

/* The buffer protocol, for each function that writes a name. */
typedef triton_shm_status (*name_fn)(const char *, char *, size_t, size_t *);

static triton_shm_status darwin_system_name(const char *name, char *out, size_t len,
                                            size_t *written) {
  static triton_shm_registry *reg = NULL;
  if (reg == NULL) reg = check_registry_new(TRITON_SHM_NAMING_DARWIN, 0);
  return triton_shm_registry_system_name(reg, name, out, len, written);
}

static void buffers_exact_size_works_one_short_is_refused(name_fn fn, const char *fn_name) {
  static const char key[] = "//some_region";
  char expected[64];
  char out[64];
  size_t needed = 0;
  size_t written = 0;
  size_t i;
  int untouched = 1;
  int failures_before = check_failures;
  REQUIRE_OK(fn(key, expected, sizeof expected, &needed));

  /* One byte short: BUFFER_TOO_SMALL, the length needed, the buffer as it was. */
  memset(out, SENTINEL, sizeof out);
  written = 0;
  CHECK_STATUS(fn(key, out, needed, &written), TRITON_SHM_BUFFER_TOO_SMALL);
  CHECK_SIZE(written, needed);
  for (i = 0; i < sizeof out; i++) untouched &= out[i] == SENTINEL;
  CHECK(untouched);
  CHECK_LAST_ERROR_CONTAINS("needs");

  /* Zero bytes: the same refusal. */
  CHECK_STATUS(fn(key, out, 0, &written), TRITON_SHM_BUFFER_TOO_SMALL);
  CHECK_SIZE(written, needed);
  CHECK(out[0] == SENTINEL);

  /* Exactly the result and its NUL: written, NUL-terminated, nothing past it. */
  written = 0;
  CHECK_OK(fn(key, out, needed + 1, &written));
  CHECK_SIZE(written, needed);
  CHECK_STR(out, expected);
  CHECK(out[needed] == '\0');
  CHECK(out[needed + 1] == SENTINEL);

  /* out_written is optional. */
  CHECK_OK(fn(key, out, needed + 1, NULL));
  CHECK_STATUS(fn(key, out, needed, NULL), TRITON_SHM_BUFFER_TOO_SMALL);
  if (check_failures != failures_before) {
    fprintf(stderr, "  (the failures above are in the buffer protocol of %s)\n", fn_name);
  }
}

static void default_system_name_follows_the_platform(void) {
  /* The default registry and TRITON_SHM_NAMING_PLATFORM pick the platform's
   * policy: darwin on Apple systems, posix elsewhere. */
#if defined(__APPLE__)
  const uint32_t platform = TRITON_SHM_NAMING_DARWIN;
#else
  const uint32_t platform = TRITON_SHM_NAMING_POSIX;
#endif
  triton_shm_registry *explicit_policy = check_registry_new(platform, 0);
  triton_shm_registry *by_platform = check_registry_new(TRITON_SHM_NAMING_PLATFORM, 0);
  static const char *const keys[] = {"//py_client_key", "plain", "/a/b", "/ok"};
  size_t i;
  for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    char a[64] = "", b[64] = "", c[64] = "";
    triton_shm_status sa = triton_shm_system_name(keys[i], a, sizeof a, NULL);
    triton_shm_status sb =
        triton_shm_registry_system_name(explicit_policy, keys[i], b, sizeof b, NULL);
    triton_shm_status sc =
        triton_shm_registry_system_name(by_platform, keys[i], c, sizeof c, NULL);
    CHECK_STATUS(sa, sb);
    CHECK_STATUS(sc, sb);
    CHECK_STR(a, b);
    CHECK_STR(c, b);
  }
  triton_shm_registry_free(explicit_policy);
  triton_shm_registry_free(by_platform);
}

int main(void) {
  seed_examples_normalise_exactly();
  empty_names_are_invalid_everywhere();
  darwin_limit_is_31_bytes_of_normalised_name();
  posix_limit_is_255_bytes_after_the_slashes();
  posix_refuses_inner_slashes();
  normalisation_alone_has_no_length_limit();
  non_utf8_bytes_are_valid_names();
  buffers_exact_size_works_one_short_is_refused(triton_shm_normalize_name,
                                                "triton_shm_normalize_name");
  buffers_exact_size_works_one_short_is_refused(triton_shm_system_name,
                                                "triton_shm_system_name");
  buffers_exact_size_works_one_short_is_refused(darwin_system_name,
                                                "triton_shm_registry_system_name");
  default_system_name_follows_the_platform();
  CHECK_DONE();
}
