/*
 * The pinned ABI: the size and every field offset of each public struct, and
 * the value of every public constant and enumerator, as compile-time
 * assertions. layout.c and layout.cpp include it after the header, so that a
 * C and a C++ compiler each check it; the Mach-O gate compiles both for the
 * two Apple targets. Compiling is checking: a changed layout does not build.
 *
 * The numbers are those of the 64-bit targets the project builds (LP64:
 * Linux and macOS on x86_64 and arm64).
 *
 * The rule they enforce (README, "ABI and versioning"): a field is only ever
 * appended to a struct, never inserted, removed, resized or reordered, and a
 * constant never changes its value. Appending a field adds its line here and
 * raises the struct's size; nothing else in this file may change.
 */
#ifndef TRITON_SHM_CTEST_ABI_LAYOUT_H
#define TRITON_SHM_CTEST_ABI_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define LAYOUT_ASSERT(cond) static_assert(cond, #cond)
#else
#define LAYOUT_ASSERT(cond) _Static_assert(cond, #cond)
#endif

#define LAYOUT_FIELD(type, field, offset) LAYOUT_ASSERT(offsetof(type, field) == (offset))

LAYOUT_ASSERT(sizeof(void *) == 8 && sizeof(size_t) == 8);

/* --- Structs ---------------------------------------------------------------- */

/* Input: the library reads the first struct_size bytes. */
LAYOUT_FIELD(triton_shm_options, struct_size, 0);
LAYOUT_FIELD(triton_shm_options, naming_policy, 8);
LAYOUT_FIELD(triton_shm_options, unlink_policy, 12);
LAYOUT_FIELD(triton_shm_options, backend, 16);
LAYOUT_FIELD(triton_shm_options, reserved_prefixes, 24);
LAYOUT_FIELD(triton_shm_options, reserved_prefix_count, 32);
LAYOUT_FIELD(triton_shm_options, journal, 40);
LAYOUT_FIELD(triton_shm_options, reap_on_create, 44);
LAYOUT_FIELD(triton_shm_options, state_dir, 48);
LAYOUT_ASSERT(sizeof(triton_shm_options) == 56);

/* Outputs: the 0.1.0 entry points exchange the first 72, 40 and 48 bytes;
 * the _sized ones the caller's size. */
LAYOUT_FIELD(triton_shm_stats, tracked, 0);
LAYOUT_FIELD(triton_shm_stats, mapped_bytes, 8);
LAYOUT_FIELD(triton_shm_stats, registered, 16);
LAYOUT_FIELD(triton_shm_stats, unlinked, 24);
LAYOUT_FIELD(triton_shm_stats, already_gone, 32);
LAYOUT_FIELD(triton_shm_stats, failed, 40);
LAYOUT_FIELD(triton_shm_stats, collisions_refused, 48);
LAYOUT_FIELD(triton_shm_stats, reserved_refused, 56);
LAYOUT_FIELD(triton_shm_stats, reaped, 64); /* the last field of 0.1.0 */
LAYOUT_FIELD(triton_shm_stats, regions_replaced, 72);
LAYOUT_ASSERT(sizeof(triton_shm_stats) == 80);

LAYOUT_FIELD(triton_shm_cleanup_report, unlinked, 0);
LAYOUT_FIELD(triton_shm_cleanup_report, already_gone, 8);
LAYOUT_FIELD(triton_shm_cleanup_report, failed, 16);
LAYOUT_FIELD(triton_shm_cleanup_report, skipped, 24);
LAYOUT_FIELD(triton_shm_cleanup_report, released, 32); /* the last field of 0.1.0 */
LAYOUT_ASSERT(sizeof(triton_shm_cleanup_report) == 40);

LAYOUT_FIELD(triton_shm_reap_report, journals_reaped, 0);
LAYOUT_FIELD(triton_shm_reap_report, journals_live, 8);
LAYOUT_FIELD(triton_shm_reap_report, journals_skipped, 16);
LAYOUT_FIELD(triton_shm_reap_report, regions_unlinked, 24);
LAYOUT_FIELD(triton_shm_reap_report, regions_already_gone, 32);
LAYOUT_FIELD(triton_shm_reap_report, regions_failed, 40); /* the last field of 0.1.0 */
LAYOUT_FIELD(triton_shm_reap_report, regions_left_alone, 48);
LAYOUT_FIELD(triton_shm_reap_report, regions_deferred, 56);
LAYOUT_FIELD(triton_shm_reap_report, regions_in_use, 64);
LAYOUT_ASSERT(sizeof(triton_shm_reap_report) == 72);

/* A caller-held mapping (0.2): fixed, never grows, passed without a size. */
LAYOUT_FIELD(triton_shm_mapping, data, 0);
LAYOUT_FIELD(triton_shm_mapping, base, 8);
LAYOUT_FIELD(triton_shm_mapping, length, 16);
LAYOUT_ASSERT(sizeof(triton_shm_mapping) == 24);

/* --- Constants ---------------------------------------------------------------- */

LAYOUT_ASSERT(TRITON_SHM_VERSION_MAJOR == 0);

LAYOUT_ASSERT(TRITON_SHM_NAMING_PLATFORM == 0);
LAYOUT_ASSERT(TRITON_SHM_NAMING_DARWIN == 1);
LAYOUT_ASSERT(TRITON_SHM_NAMING_POSIX == 2);
LAYOUT_ASSERT(TRITON_SHM_UNLINK_OWNED_ONLY == 0);
LAYOUT_ASSERT(TRITON_SHM_UNLINK_ALL == 1);
LAYOUT_ASSERT(TRITON_SHM_UNLINK_NEVER == 2);
LAYOUT_ASSERT(TRITON_SHM_BACKEND_FROM_ENV == 0);
LAYOUT_ASSERT(TRITON_SHM_BACKEND_SYSTEM == 1);
LAYOUT_ASSERT(TRITON_SHM_BACKEND_XNU_MODEL == 2);
LAYOUT_ASSERT(TRITON_SHM_OPEN_UNTRACKED == 1);
LAYOUT_ASSERT(TRITON_SHM_DARWIN_NAME_MAX == 31);
LAYOUT_ASSERT(TRITON_SHM_POSIX_NAME_MAX == 255);

LAYOUT_ASSERT(sizeof(triton_shm_status) == 4);
LAYOUT_ASSERT(TRITON_SHM_OK == 0);
LAYOUT_ASSERT(TRITON_SHM_NULL_ARGUMENT == 100);
LAYOUT_ASSERT(TRITON_SHM_INVALID_ARGUMENT == 101);
LAYOUT_ASSERT(TRITON_SHM_INVALID_NAME == 102);
LAYOUT_ASSERT(TRITON_SHM_NAME_TOO_LONG == 103);
LAYOUT_ASSERT(TRITON_SHM_BUFFER_TOO_SMALL == 104);
LAYOUT_ASSERT(TRITON_SHM_OUT_OF_BOUNDS == 105);
LAYOUT_ASSERT(TRITON_SHM_RESERVED_NAME == 106);
LAYOUT_ASSERT(TRITON_SHM_NOT_FOUND == 200);
LAYOUT_ASSERT(TRITON_SHM_NAME_COLLISION == 201);
LAYOUT_ASSERT(TRITON_SHM_ALREADY_EXISTS == 202);
LAYOUT_ASSERT(TRITON_SHM_OS_ERROR == 300);
LAYOUT_ASSERT(TRITON_SHM_PERMISSION_DENIED == 301);
LAYOUT_ASSERT(TRITON_SHM_INTERNAL == 900);

LAYOUT_ASSERT(sizeof(triton_shm_log_level) == 4);
LAYOUT_ASSERT(TRITON_SHM_LOG_LEVEL_ERROR == 1);
LAYOUT_ASSERT(TRITON_SHM_LOG_LEVEL_WARN == 2);
LAYOUT_ASSERT(TRITON_SHM_LOG_LEVEL_INFO == 3);
LAYOUT_ASSERT(TRITON_SHM_LOG_LEVEL_DEBUG == 4);

#endif /* TRITON_SHM_CTEST_ABI_LAYOUT_H */
