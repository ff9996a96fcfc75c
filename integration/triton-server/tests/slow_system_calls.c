/* shm_open and munmap, defined in the program itself so that the calls the
 * triton-shm library makes (linked statically into the same program) reach
 * these first, as a definition in an ELF executable comes before the C
 * library's. Each passes the call on (shm_open: the C library's, found with
 * dlsym(RTLD_NEXT); munmap: the system call itself, so that nothing is
 * looked up during the C library's own start). While slow_calls_set_us has
 * set a delay, each sleeps that long first and counts as under way until it
 * returns, so a test can act while one is. */
#define _GNU_SOURCE
#include "slow_system_calls.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static atomic_long slow_us;
static atomic_int under_way;

/* Sleep the delay, if one is set, counting the call as under way; returns
 * whether it did, for end_call. */
static int
begin_call(void)
{
  const long us = atomic_load(&slow_us);
  if (us <= 0) return 0;
  atomic_fetch_add(&under_way, 1);
  struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
  while (nanosleep(&ts, &ts) != 0) {
  }
  return 1;
}

static void
end_call(int counted)
{
  if (counted) atomic_fetch_sub(&under_way, 1);
}

void
slow_calls_set_us(long us)
{
  atomic_store(&slow_us, us < 0 ? 0 : us);
}

int
slow_calls_under_way(void)
{
  return atomic_load(&under_way);
}

typedef int (*shm_open_fn)(const char*, int, mode_t);

int
shm_open(const char* name, int oflag, mode_t mode)
{
  static _Atomic(shm_open_fn) next;
  shm_open_fn call = atomic_load(&next);
  if (call == NULL) {
    call = (shm_open_fn)dlsym(RTLD_NEXT, "shm_open");
    if (call == NULL) return -1;
    atomic_store(&next, call);
  }
  const int counted = begin_call();
  const int fd = call(name, oflag, mode);
  end_call(counted);
  return fd;
}

int
munmap(void* addr, size_t length)
{
  const int counted = begin_call();
  const int rc = (int)syscall(SYS_munmap, addr, length);
  end_call(counted);
  return rc;
}
