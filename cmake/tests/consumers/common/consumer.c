/* A small program that uses triton-shm the way a C or C++ host would. It is
 * built against each way the CMake package can be consumed; the tests run it
 * and look for its last line. It creates no shared-memory object. */
#include "triton_shm.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef CONSUMER_KIND
#error "CONSUMER_KIND must name the build (shared or static)"
#endif

#ifdef CONSUMER_WITH_CXX
/* Defined in consumer_cxx.cpp: the version as seen from C++. */
const char *consumer_cxx_version(void);
#endif

static int fail(const char *what, triton_shm_status status)
{
    char message[512];
    if (triton_shm_last_error_message(message, sizeof message, NULL) != TRITON_SHM_OK) {
        strcpy(message, "(message longer than the buffer)");
    }
    fprintf(stderr, "consumer " CONSUMER_KIND ": %s: %s: %s\n", what,
            triton_shm_status_name(status), message);
    return 1;
}

static int mismatch(const char *what, const char *got, const char *want)
{
    fprintf(stderr, "consumer " CONSUMER_KIND ": %s: got '%s', want '%s'\n", what, got, want);
    return 1;
}

int main(void)
{
    triton_shm_status status;

    if (strcmp(triton_shm_version(), TRITON_SHM_VERSION_STRING) != 0) {
        return mismatch("library version against header", triton_shm_version(),
                        TRITON_SHM_VERSION_STRING);
    }
#ifdef CONSUMER_WITH_CXX
    if (strcmp(consumer_cxx_version(), TRITON_SHM_VERSION_STRING) != 0) {
        return mismatch("version seen from C++", consumer_cxx_version(), TRITON_SHM_VERSION_STRING);
    }
#endif

    char normalized[64];
    size_t written = 0;
    status = triton_shm_normalize_name("/path/with/slashes", normalized, sizeof normalized, &written);
    if (status != TRITON_SHM_OK) {
        return fail("triton_shm_normalize_name", status);
    }
    if (strcmp(normalized, "/path_with_slashes") != 0 || written != strlen(normalized)) {
        return mismatch("normalised name", normalized, "/path_with_slashes");
    }

    /* Track a region that was never created: cleanup finds it already gone. */
    triton_shm_options options;
    status = TRITON_SHM_OPTIONS_INIT(&options);
    if (status != TRITON_SHM_OK) {
        return fail("triton_shm_options_init", status);
    }
    triton_shm_registry *registry = NULL;
    status = triton_shm_registry_new(&options, &registry);
    if (status != TRITON_SHM_OK) {
        return fail("triton_shm_registry_new", status);
    }
    char name[64];
    snprintf(name, sizeof name, "/triton_shm_consumer_absent_%ld", (long)getpid());
    status = triton_shm_registry_register(registry, name, true);
    if (status != TRITON_SHM_OK) {
        triton_shm_registry_free(registry);
        return fail("triton_shm_registry_register", status);
    }
    triton_shm_cleanup_report report;
    status = triton_shm_registry_cleanup_all(registry, &report);
    triton_shm_registry_free(registry);
    if (status != TRITON_SHM_OK) {
        return fail("triton_shm_registry_cleanup_all", status);
    }
    if (report.already_gone != 1 || report.unlinked != 0 || report.failed != 0) {
        fprintf(stderr, "consumer " CONSUMER_KIND ": cleanup report: already_gone=%zu unlinked=%zu "
                "failed=%zu, want 1, 0, 0\n", report.already_gone, report.unlinked, report.failed);
        return 1;
    }

    printf("consumer " CONSUMER_KIND ": triton-shm %s OK\n", triton_shm_version());
    return 0;
}
