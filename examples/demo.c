/* triton-shm demo: what a shared-memory manager does with the library.
 *
 * 1. normalise a name and show the name the platform's policy hands the OS;
 * 2. create a region with shm_open, write a greeting and read it back;
 * 3. register the region with a registry as one this process owns;
 * 4. clean up every region of the registry and show the report;
 * 5. check with shm_open that the region is gone.
 *
 * Every triton-shm status is checked; on failure the library's message is
 * printed and the demo exits with status 1, unlinking its region first. */
#include "triton_shm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define REGION_SIZE 4096

#ifdef __APPLE__
#define PLATFORM_POLICY "darwin"
#else
#define PLATFORM_POLICY "posix"
#endif

/* Print the failed call, its status and this thread's last error message. */
static void report_failure(const char *call, triton_shm_status status)
{
    char message[256];
    size_t needed = 0;
    triton_shm_status got = triton_shm_last_error_message(message, sizeof message, &needed);
    fprintf(stderr, "demo: %s failed with %s", call, triton_shm_status_name(status));
    if (got == TRITON_SHM_OK) {
        fprintf(stderr, ": %s\n", message);
    } else if (got == TRITON_SHM_BUFFER_TOO_SMALL) {
        char *longer = malloc(needed + 1);
        if (longer != NULL && triton_shm_last_error_message(longer, needed + 1, NULL) == TRITON_SHM_OK) {
            fprintf(stderr, ": %s\n", longer);
        } else {
            fprintf(stderr, " (its message could not be read)\n");
        }
        free(longer);
    } else {
        fprintf(stderr, " (its message could not be read: %s)\n", triton_shm_status_name(got));
    }
}

#define CHECK(what, call)                                                                          \
    do {                                                                                           \
        triton_shm_status status_ = (call);                                                        \
        if (status_ != TRITON_SHM_OK) {                                                            \
            report_failure(what, status_);                                                         \
            goto fail;                                                                             \
        }                                                                                          \
    } while (0)

#define CHECK_OS(what, ok)                                                                         \
    do {                                                                                           \
        if (!(ok)) {                                                                               \
            fprintf(stderr, "demo: %s failed: %s\n", what, strerror(errno));                       \
            goto fail;                                                                             \
        }                                                                                          \
    } while (0)

int main(void)
{
    triton_shm_registry *registry = NULL;
    int region_exists = 0;
    int fd = -1;
    void *map = MAP_FAILED;
    char system_name[TRITON_SHM_POSIX_NAME_MAX + 2];

    printf("triton-shm %s (header %s)\n\n", triton_shm_version(), TRITON_SHM_VERSION_STRING);

    /* 1. Names. */
    const char *slashed = "/path/with/slashes";
    char normalized[64];
    CHECK("triton_shm_normalize_name",
          triton_shm_normalize_name(slashed, normalized, sizeof normalized, NULL));
    printf("normalised name     %s -> %s\n", slashed, normalized);

    char name[64];
    snprintf(name, sizeof name, "/triton_shm_demo_%ld", (long)getpid());
    CHECK("triton_shm_system_name",
          triton_shm_system_name(name, system_name, sizeof system_name, NULL));
    printf("system name         %s -> %s (platform policy: %s)\n\n", name, system_name,
           PLATFORM_POLICY);

    /* 2. A region of our own, under the name the library will unlink. */
    fd = shm_open(system_name, O_CREAT | O_EXCL | O_RDWR, 0600);
    CHECK_OS("shm_open(O_CREAT | O_EXCL)", fd >= 0);
    region_exists = 1;
    CHECK_OS("ftruncate", ftruncate(fd, REGION_SIZE) == 0);
    map = mmap(NULL, REGION_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK_OS("mmap", map != MAP_FAILED);
    close(fd);
    fd = -1;
    snprintf((char *)map, REGION_SIZE, "Hello from process %ld through %s", (long)getpid(),
             system_name);
    printf("created region      %s (%d bytes), wrote: %s\n", system_name, REGION_SIZE, (char *)map);
    munmap(map, REGION_SIZE);
    map = MAP_FAILED;

    /* Read it back through a fresh mapping. */
    fd = shm_open(system_name, O_RDONLY, 0);
    CHECK_OS("shm_open(O_RDONLY)", fd >= 0);
    map = mmap(NULL, REGION_SIZE, PROT_READ, MAP_SHARED, fd, 0);
    CHECK_OS("mmap(PROT_READ)", map != MAP_FAILED);
    close(fd);
    fd = -1;
    printf("read back           %s\n\n", (const char *)map);
    munmap(map, REGION_SIZE);
    map = MAP_FAILED;

    /* 3. Track it: this process created it, so it is ours to unlink. */
    triton_shm_options options;
    CHECK("triton_shm_options_init", TRITON_SHM_OPTIONS_INIT(&options));
    CHECK("triton_shm_registry_new", triton_shm_registry_new(&options, &registry));
    CHECK("triton_shm_registry_register", triton_shm_registry_register(registry, name, true));
    size_t count = 0;
    CHECK("triton_shm_registry_count", triton_shm_registry_count(registry, &count));
    printf("registered          %s as owned; the registry tracks %zu region(s)\n", name, count);

    /* 4. Clean up, as a server does at shutdown. The report travels with its
     * size, so this program keeps working with a library whose report has
     * more fields. */
    triton_shm_cleanup_report report;
    CHECK("triton_shm_registry_cleanup_all_sized",
          triton_shm_registry_cleanup_all_sized(registry, &report, sizeof report));
    region_exists = 0;
    CHECK("triton_shm_registry_count", triton_shm_registry_count(registry, &count));
    printf("cleanup report      unlinked %zu, already gone %zu, failed %zu, skipped %zu, "
           "released %zu; %zu region(s) still tracked\n",
           report.unlinked, report.already_gone, report.failed, report.skipped, report.released,
           count);

    /* 5. The object is really gone. */
    fd = shm_open(system_name, O_RDONLY, 0);
    if (fd >= 0) {
        fprintf(stderr, "demo: %s still exists after the cleanup\n", system_name);
        region_exists = 1;
        goto fail;
    }
    if (errno != ENOENT) {
        fprintf(stderr, "demo: shm_open(%s) after the cleanup failed with %s, expected ENOENT\n",
                system_name, strerror(errno));
        goto fail;
    }
    printf("checked             shm_open(%s) fails with ENOENT: the region is gone\n", system_name);

    triton_shm_registry_free(registry);
    printf("\ndemo finished\n");
    return 0;

fail:
    if (map != MAP_FAILED) {
        munmap(map, REGION_SIZE);
    }
    if (fd >= 0) {
        close(fd);
    }
    if (region_exists) {
        shm_unlink(system_name);
    }
    triton_shm_registry_free(registry);
    return 1;
}
