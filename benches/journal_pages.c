/* What it costs to make a journal's fresh pages writable through a shared
 * mapping, per 336-byte record, on the filesystem that holds DIR: the file
 * grown by posix_fallocate (0), by writing zeros (1), or by ftruncate alone
 * (2), then one store a record.
 *
 *   cc -O2 benches/journal_pages.c -o /tmp/journal_pages
 *   /tmp/journal_pages /tmp; /tmp/journal_pages /dev/shm
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  static char zeros[65536];
  const size_t len = 4u << 20, record = 336;
  for (int mode = 0; mode < 3; ++mode) {
    char path[4096];
    snprintf(path, sizeof path, "%s/journal-pages-%d.bin", argv[1], (int)getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0) return perror("open"), 1;
    unlink(path);
    char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) return perror("mmap"), 1;
    const double t0 = now_ns();
    if (mode == 0 && posix_fallocate(fd, 0, (off_t)len) != 0) return perror("posix_fallocate"), 1;
    for (size_t at = 0; mode == 1 && at < len; at += sizeof zeros) {
      if (pwrite(fd, zeros, sizeof zeros, (off_t)at) != (ssize_t)sizeof zeros) return perror("pwrite"), 1;
    }
    if (mode == 2 && ftruncate(fd, (off_t)len) != 0) return perror("ftruncate"), 1;
    const double t1 = now_ns();
    for (size_t at = 0; at + record <= len; at += record) m[at] = 1;
    const double t2 = now_ns();
    printf("%s: %s: grow %.0f us, first stores %.0f us: %.0f ns a record\n", argv[1],
           mode == 0 ? "posix_fallocate" : mode == 1 ? "zeros written" : "ftruncate", (t1 - t0) / 1e3,
           (t2 - t1) / 1e3, (t2 - t0) / (double)(len / record));
    munmap(m, len);
    close(fd);
  }
  return 0;
}
