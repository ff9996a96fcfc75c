/*
 * Regions through the C ABI: opening a client's region (not owned), creating
 * one (owned), their properties, bounds, refusals, and what closing does to
 * the object under each ownership.
 */
#include "check.h"

#define NAME_LEN 64
/* A multiple of every page size (4 KiB, 16 KiB on Apple Silicon): macOS
   reports sizes rounded up to a page. */
#define CLIENT_SIZE (64 * 1024)

static triton_shm_region *const kUntouched = (triton_shm_region *)&check_failures;

static void null_arguments_and_bad_values_are_refused(void) {
  triton_shm_registry *reg = check_registry_new(TRITON_SHM_NAMING_POSIX, 0);
  triton_shm_region *region = kUntouched;
  char key[NAME_LEN], buf[NAME_LEN];
  size_t n = 4242;
  shm_test_name(key, sizeof key, "g", "refuse");
  REQUIRE(shm_test_create(key, CLIENT_SIZE) == 0);

  CHECK_STATUS(triton_shm_region_open(NULL, key, 0, 1, 0, &region), TRITON_SHM_NULL_ARGUMENT);
  CHECK_STATUS(triton_shm_region_open(reg, NULL, 0, 1, 0, &region), TRITON_SHM_NULL_ARGUMENT);
  CHECK_STATUS(triton_shm_region_open(reg, key, 0, 1, 0, NULL), TRITON_SHM_NULL_ARGUMENT);
  CHECK_STATUS(triton_shm_region_create(NULL, key, 1, 0, &region), TRITON_SHM_NULL_ARGUMENT);
  CHECK_STATUS(triton_shm_region_create(reg, NULL, 1, 0, &region), TRITON_SHM_NULL_ARGUMENT);
  CHECK_STATUS(triton_shm_region_create(reg, key, 1, 0, NULL), TRITON_SHM_NULL_ARGUMENT);
  CHECK_STATUS(triton_shm_region_system_name(NULL, buf, sizeof buf, &n), TRITON_SHM_NULL_ARGUMENT);
  CHECK_STATUS(triton_shm_region_key(NULL, buf, sizeof buf, &n), TRITON_SHM_NULL_ARGUMENT);
  CHECK(triton_shm_region_data(NULL) == NULL);
  CHECK_SIZE(triton_shm_region_size(NULL), 0);
  CHECK_OK(triton_shm_region_close(NULL));

  CHECK_STATUS(triton_shm_region_open(reg, key, 0, 0, 0, &region), TRITON_SHM_INVALID_ARGUMENT);
  CHECK_STATUS(triton_shm_region_open(reg, key, 0, 1, 2, &region), TRITON_SHM_INVALID_ARGUMENT);
  CHECK_STATUS(triton_shm_region_create(reg, key, 0, 0, &region), TRITON_SHM_INVALID_ARGUMENT);
  CHECK_STATUS(triton_shm_region_open(reg, key, CLIENT_SIZE, 1, 0, &region),
               TRITON_SHM_OUT_OF_BOUNDS);
  CHECK_STATUS(triton_shm_region_open(reg, key, 1, CLIENT_SIZE, 0, &region),
               TRITON_SHM_OUT_OF_BOUNDS);
  CHECK_STATUS(triton_shm_region_open(reg, key, (size_t)-1, 2, 0, &region),
               TRITON_SHM_OUT_OF_BOUNDS);
  CHECK_STATUS(triton_shm_region_open(reg, "///", 0, 1, 0, &region), TRITON_SHM_INVALID_NAME);
  CHECK_STATUS(triton_shm_region_create(reg, key, 64, 0, &region), TRITON_SHM_ALREADY_EXISTS);
  CHECK(shm_test_exists(key)); /* left untouched */
  shm_test_name(buf, sizeof buf, "g", "missing");
  CHECK_STATUS(triton_shm_region_open(reg, buf, 0, 1, 0, &region), TRITON_SHM_NOT_FOUND);
  CHECK_STATUS(triton_shm_region_open(reg, "/triton_python_backend_shm_region_1", 0, 1, 0,
                                      &region),
               TRITON_SHM_RESERVED_NAME);
  CHECK_STATUS(triton_shm_region_open(reg, "//triton_pytorch_backend_shm_region_x", 0, 1, 0,
                                      &region),
               TRITON_SHM_RESERVED_NAME);
  CHECK(region == kUntouched);
  CHECK_SIZE(n, 4242);
  {
    size_t tracked = 99;
    CHECK_OK(triton_shm_registry_count(reg, &tracked));
    CHECK_SIZE(tracked, 0); /* no refusal left an entry behind */
  }
  shm_test_remove(key);
  triton_shm_registry_free(reg);
}

static void an_opened_client_region_is_mapped_and_left_on_close(void) {
  triton_shm_registry *reg = check_registry_new(TRITON_SHM_NAMING_POSIX, 0);
  triton_shm_region *region = NULL;
  char key[NAME_LEN], buf[NAME_LEN];
  unsigned char *data;
  int fd;
  shm_test_name(key, sizeof key, "g", "client");
  REQUIRE(shm_test_create(key, CLIENT_SIZE) == 0);
  fd = shm_open(key, O_RDWR, 0);
  REQUIRE(fd >= 0);
  {
    unsigned char *client = mmap(NULL, CLIENT_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    REQUIRE(client != MAP_FAILED);
    client[101] = 0xab;
    munmap(client, CLIENT_SIZE);
  }

  /* An unaligned offset. */
  REQUIRE_OK(triton_shm_region_open(reg, key, 100, 1000, 0, &region));
  data = triton_shm_region_data(region);
  REQUIRE(data != NULL);
  CHECK(data[1] == 0xab);
  CHECK_SIZE(triton_shm_region_size(region), 1000);
  CHECK_OK(triton_shm_region_key(region, buf, sizeof buf, NULL));
  CHECK_STR(buf, key);
  CHECK_OK(triton_shm_region_system_name(region, buf, sizeof buf, NULL));
  CHECK_STR(buf, key);
  {
    size_t needed = 0;
    char small[4] = {'Q', 'Q', 'Q', 'Q'};
    CHECK_STATUS(triton_shm_region_key(region, small, sizeof small, &needed),
                 TRITON_SHM_BUFFER_TOO_SMALL);
    CHECK_SIZE(needed, strlen(key));
    CHECK(small[0] == 'Q');
  }
  {
    bool tracked = false;
    CHECK_OK(triton_shm_registry_contains(reg, key, &tracked));
    CHECK(tracked);
  }
  CHECK_OK(triton_shm_region_close(region));
  CHECK(shm_test_exists(key)); /* the client's object stays */
  shm_test_remove(key);
  triton_shm_registry_free(reg);
}

static void a_created_region_is_owned_and_unlinked_on_close(void) {
  triton_shm_registry *reg = check_registry_new(TRITON_SHM_NAMING_POSIX, 0);
  triton_shm_region *region = NULL;
  char key[NAME_LEN];
  shm_test_name(key, sizeof key, "g", "own");

  REQUIRE_OK(triton_shm_region_create(reg, key, 4096, 0, &region));
  CHECK(shm_test_exists(key));
  CHECK_SIZE(triton_shm_region_size(region), 4096);
  memcpy(triton_shm_region_data(region), "data", 5);
  CHECK_OK(triton_shm_region_close(region));
  CHECK(!shm_test_exists(key));

  /* Cleanup-all also removes a created region whose handle is still open. */
  REQUIRE_OK(triton_shm_region_create(reg, key, 4096, 0, &region));
  CHECK_OK(triton_shm_registry_cleanup_all(reg, NULL));
  CHECK(!shm_test_exists(key));
  CHECK_OK(triton_shm_region_close(region));
  shm_test_remove(key);
  triton_shm_registry_free(reg);
}

int main(void) {
  null_arguments_and_bad_values_are_refused();
  an_opened_client_region_is_mapped_and_left_on_close();
  a_created_region_is_owned_and_unlinked_on_close();
  CHECK_DONE();
}
