/* What an owner's identity check before its unlink costs, alone: the
 * system calls of the check, timed in a loop on one 64 KiB object in
 * /dev/shm, beside the bare region life of row 3 (shm_open, ftruncate,
 * mmap, touch, munmap, close, shm_unlink) that they are added to.
 *
 *   triton_shm_close_check [--quick]
 *
 * Rows, each the median of interleaved rounds, ns per call:
 *   lstat       lstat("/dev/shm/<name>"): the check on Linux
 *   fstat       fstat of the object's descriptor: what a creation adds
 *               (the identity it keeps, and the journal records)
 *   open+fstat  shm_open(O_RDWR), fstat, close: the check elsewhere, and the
 *               fallback where /dev/shm does not hold the object
 *   life 1p     the bare 64 KiB region life, one page written (row 3c's raw side)
 *   life all    the same, every page written (row 3's raw side)
 * Not part of scripts/bench.sh: BENCHMARKS.md quotes it. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "raw_shm.h"

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof v[0], cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static char g_name[64], g_path[96], g_life[64];

static double time_lstat(int iters) {
  struct stat st;
  const double t0 = now_ns();
  for (int i = 0; i < iters; ++i) {
    if (lstat(g_path, &st) != 0) exit(3);
  }
  return (now_ns() - t0) / iters;
}

static double time_fstat(int iters) {
  struct stat st;
  const int fd = shm_open(g_name, O_RDWR, 0);
  if (fd < 0) exit(6);
  const double t0 = now_ns();
  for (int i = 0; i < iters; ++i) {
    if (fstat(fd, &st) != 0) exit(6);
  }
  const double t = (now_ns() - t0) / iters;
  close(fd);
  return t;
}

static double time_open_fstat(int iters) {
  struct stat st;
  const double t0 = now_ns();
  for (int i = 0; i < iters; ++i) {
    const int fd = shm_open(g_name, O_RDWR, 0);
    if (fd < 0 || fstat(fd, &st) != 0) exit(4);
    close(fd);
  }
  return (now_ns() - t0) / iters;
}

static double time_life(int iters, size_t touched) {
  const double t0 = now_ns();
  for (int i = 0; i < iters; ++i) {
    if (raw_region_life(g_life, 65536, touched, 4096) != 0) exit(5);
  }
  return (now_ns() - t0) / iters;
}

int main(int argc, char **argv) {
  const int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
  const int rounds = quick ? 5 : 31;
  snprintf(g_name, sizeof g_name, "/tsc%d_check", (int)getpid());
  snprintf(g_path, sizeof g_path, "/dev/shm%s", g_name);
  snprintf(g_life, sizeof g_life, "/tsc%d_life", (int)getpid());
  struct stat shm_dir;
  if (stat("/dev/shm", &shm_dir) != 0 || !S_ISDIR(shm_dir.st_mode)) {
    printf("skipped: no /dev/shm here (the lstat check is Linux's)\n");
    return 0;
  }
  const int fd = shm_open(g_name, O_RDWR | O_CREAT | O_EXCL, 0600);
  if (fd < 0 || ftruncate(fd, 65536) != 0) {
    perror("shm_open");
    return 1;
  }
  close(fd);
  double l[64], f[64], o[64], one[64], all[64];
  time_lstat(1000);
  time_open_fstat(1000);
  time_life(100, 1);
  for (int r = 0; r < rounds; ++r) {
    l[r] = time_lstat(2000);
    f[r] = time_fstat(2000);
    o[r] = time_open_fstat(2000);
    one[r] = time_life(300, 1);
    all[r] = time_life(300, 65536);
  }
  shm_unlink(g_name);
  const double mf = median(f, rounds);
  const double ml = median(l, rounds), mo = median(o, rounds);
  const double m1 = median(one, rounds), ma = median(all, rounds);
  printf("| call | ns per call | share of a region life, one page | every page |\n");
  printf("|---|---|---|---|\n");
  printf("| lstat of /dev/shm/<name> | %.0f | %.2f%% | %.2f%% |\n", ml, 100 * ml / m1, 100 * ml / ma);
  printf("| fstat of the descriptor | %.0f | %.2f%% | %.2f%% |\n", mf, 100 * mf / m1, 100 * mf / ma);
  printf("| shm_open + fstat + close | %.0f | %.2f%% | %.2f%% |\n", mo, 100 * mo / m1, 100 * mo / ma);
  printf("| region life, one page (raw) | %.0f | | |\n", m1);
  printf("| region life, every page (raw) | %.0f | | |\n", ma);
  return 0;
}
