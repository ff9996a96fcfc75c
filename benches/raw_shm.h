/* The raw POSIX calls the library is measured against, in plain C. */
#ifndef TRITON_SHM_BENCH_RAW_SHM_H
#define TRITON_SHM_BENCH_RAW_SHM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Write one byte in every page of [data, data + size). */
void raw_touch_pages(void *data, size_t size, size_t page);

/* The whole life of a region with the bare system calls: shm_open
 * (O_CREAT | O_EXCL), ftruncate, mmap, touch every page, munmap, close,
 * shm_unlink. Returns 0, or the errno of the first call that failed. */
int raw_region_life(const char *name, size_t size, size_t touched, size_t page);

/* raw_region_life plus the system calls of the library's identity
 * protocol, the floor of its region life: fstat right after shm_open (the
 * identity a creation keeps), and before shm_unlink the owner's check that
 * the object under the name is still that one: lstat(check_path) (Linux:
 * "/dev/shm/<name>"), or with check_path NULL shm_open, fstat and close.
 * Returns 0, the errno of the first call that failed, or -1 when the
 * identity differs. */
int raw_region_life_checked(const char *name, const char *check_path, size_t size,
                            size_t touched, size_t page);

/* shm_open (O_CREAT | O_EXCL) and close each of `count` names: objects of
 * size 0. Returns 0 or the first errno. */
int raw_create_empty(const char *const *names, size_t count);

/* shm_unlink each of `count` names; returns how many succeeded. */
size_t raw_unlink_all(const char *const *names, size_t count);

#ifdef __cplusplus
}
#endif

#endif
