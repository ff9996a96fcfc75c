/*
 * The region lifecycle through the library alone (no direct shm_* calls), so
 * that it runs on whichever backend TRITON_SHM_BACKEND selects: the real OS,
 * or, in a library built with the xnu-model feature, the model of macOS. The
 * client is a second registry, as a second process would be.
 */
#include "check.h"

#define NAME_LEN 64

static int on_model(void) {
  const char *backend = getenv("TRITON_SHM_BACKEND");
  return backend != NULL && strcmp(backend, "xnu-model") == 0;
}

/* A multiple of every page size (4 KiB Linux and Intel Macs, 16 KiB Apple
   Silicon), so that the size the kernel reports is the size asked for. */
#define REGION_SIZE (64 * 1024)

static void client_and_server_share_a_region(void) {
  triton_shm_registry *client = check_registry_new(TRITON_SHM_NAMING_DARWIN, 0);
  triton_shm_registry *server = check_registry_new(TRITON_SHM_NAMING_DARWIN, 0);
  triton_shm_region *owned = NULL, *mapped = NULL, *refused = (triton_shm_region *)&check_failures;
  char key[NAME_LEN], system[NAME_LEN];
  unsigned char *data;
  size_t i;
  /* Inner slashes: the darwin policy normalises them. */
  snprintf(key, sizeof key, "/p%ld/in/0", (long)getpid());

  REQUIRE_OK(triton_shm_region_create(client, key, REGION_SIZE, 0, &owned));
  CHECK_OK(triton_shm_region_system_name(owned, system, sizeof system, NULL));
  CHECK(strchr(system + 1, '/') == NULL);
  data = triton_shm_region_data(owned);
  for (i = 0; i < REGION_SIZE; i++) data[i] = (unsigned char)(i % 251);

  /* The server maps it at an unaligned offset and sees the client's bytes. */
  REQUIRE_OK(triton_shm_region_open(server, key, 4097, 100, 0, &mapped));
  data = triton_shm_region_data(mapped);
  for (i = 0; i < 100; i++) CHECK(data[i] == (unsigned char)((4097 + i) % 251));
  CHECK_OK(triton_shm_region_close(mapped));

  /* Closing the server's mapping leaves the client's region in place. */
  REQUIRE_OK(triton_shm_region_open(server, key, 0, 1, 0, &mapped));
  CHECK_OK(triton_shm_region_close(mapped));

  /* Creating it again is refused and leaves it alone. */
  CHECK_STATUS(triton_shm_region_create(server, key, 64, 0, &refused), TRITON_SHM_ALREADY_EXISTS);
  CHECK(refused == (triton_shm_region *)&check_failures);

  /* Past the end: a multiple of every page size ends where it was asked to,
     on Linux and macOS alike. */
  CHECK_STATUS(triton_shm_region_open(server, key, REGION_SIZE, 1, 0, &refused),
               TRITON_SHM_OUT_OF_BOUNDS);
  CHECK(refused == (triton_shm_region *)&check_failures);

  /* On macOS an unaligned size ends at the creator's page: 16 KiB on the
     model (Apple Silicon), 4 KiB on an Intel Mac, the size itself on Linux. */
  if (on_model()) {
    triton_shm_region *small = NULL;
    char small_key[NAME_LEN];
    snprintf(small_key, sizeof small_key, "/p%ld_small", (long)getpid());
    REQUIRE_OK(triton_shm_region_create(client, small_key, 3 * 4096, 0, &small));
    REQUIRE_OK(triton_shm_region_open(server, small_key, 3 * 4096, 16384 - 3 * 4096, 0, &mapped));
    CHECK_OK(triton_shm_region_close(mapped));
    CHECK_STATUS(triton_shm_region_open(server, small_key, 16384, 1, 0, &refused),
                 TRITON_SHM_OUT_OF_BOUNDS);
    CHECK_OK(triton_shm_region_close(small));
  }

  /* The creator's close unlinks it. */
  CHECK_OK(triton_shm_region_close(owned));
  CHECK_STATUS(triton_shm_region_open(server, key, 0, 1, 0, &refused), TRITON_SHM_NOT_FOUND);
  triton_shm_registry_free(server);
  triton_shm_registry_free(client);
}

static void macos_name_rules_hold_on_every_backend(void) {
  triton_shm_registry *reg = check_registry_new(TRITON_SHM_NAMING_DARWIN, 0);
  triton_shm_region *region = NULL;
  char at_limit[40], over[40];
  /* 31 bytes with the slash is the longest macOS name. */
  snprintf(at_limit, sizeof at_limit, "/%030ld", (long)getpid());
  snprintf(over, sizeof over, "/%031ld", (long)getpid());
  REQUIRE_OK(triton_shm_region_create(reg, at_limit, 100, 0, &region));
  CHECK_OK(triton_shm_region_close(region));
  CHECK_STATUS(triton_shm_region_create(reg, over, 100, 0, &region), TRITON_SHM_NAME_TOO_LONG);
  CHECK_STATUS(triton_shm_region_create(reg, "//triton_python_backend_shm_region_1", 1, 0, &region),
               TRITON_SHM_RESERVED_NAME);
  triton_shm_registry_free(reg);
}

int main(void) {
  printf("backend: %s\n", on_model() ? "xnu-model" : "system");
  client_and_server_share_a_region();
  macos_name_rules_hold_on_every_backend();
  CHECK_DONE();
}
