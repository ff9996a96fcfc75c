/*
 * A program of the 0.1.0 release: compiled against the 0.1.0 header
 * (triton_shm_0_1_0.h, the header of that release, kept byte for byte) and
 * run against the current library. Every struct the library fills (or
 * reads) is passed followed by guard bytes, which must keep their fill:
 * that catches a longer write by the library, which ASan does not
 * instrument. Built with AddressSanitizer (the sanitizer gate,
 * scripts/gates-native.sh), it then passes each struct again in a heap
 * block of exactly its 0.1.0 size, where ASan reports any access past it
 * that goes through the C library (memcpy, memset). Without ASan that
 * second pass is left out: a longer write there would corrupt the heap
 * rather than fail a check.
 *
 * Exits 0 when every guard held and every call returned as 0.1.0
 * documented it.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#define _DARWIN_C_SOURCE /* mkdtemp on macOS */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "triton_shm_0_1_0.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

#define FILL 0xA5
#define GUARD 64

static int failures = 0;

#define EXPECT(cond)                                                 \
  do {                                                               \
    if (!(cond)) {                                                   \
      fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #cond); \
      failures++;                                                    \
    }                                                                \
  } while (0)

/* A struct of `size` bytes followed by GUARD bytes of FILL. */
static unsigned char *guarded(size_t size) {
  unsigned char *p = (unsigned char *)malloc(size + GUARD);
  if (p == NULL) {
    perror("malloc");
    exit(1);
  }
  memset(p, FILL, size + GUARD);
  return p;
}

/* The GUARD bytes after the struct kept their fill; frees the block. */
static int guard_held(unsigned char *p, size_t size, const char *what) {
  size_t i;
  int held = 1;
  for (i = size; i < size + GUARD; i++) {
    if (p[i] != FILL) {
      fprintf(stderr, "%s: byte %zu after the %zu-byte struct was overwritten\n", what,
              i - size, size);
      held = 0;
      break;
    }
  }
  free(p);
  return held;
}

static triton_shm_registry *registry(void) {
  triton_shm_options opts;
  triton_shm_registry *reg = NULL;
  char name[64];
  unsigned char *g = guarded(sizeof opts);
  EXPECT(TRITON_SHM_OPTIONS_INIT((triton_shm_options *)(void *)g) == TRITON_SHM_OK);
  EXPECT(guard_held(g, sizeof opts, "triton_shm_options_init"));
  EXPECT(TRITON_SHM_OPTIONS_INIT(&opts) == TRITON_SHM_OK);
  opts.journal = 0;
  if (triton_shm_registry_new(&opts, &reg) != TRITON_SHM_OK) {
    fprintf(stderr, "triton_shm_registry_new failed\n");
    exit(1);
  }
  snprintf(name, sizeof name, "/c%ld_compat", (long)getpid());
  EXPECT(triton_shm_registry_register(reg, name, false) == TRITON_SHM_OK);
  return reg;
}

static void stats(triton_shm_registry *reg) {
  unsigned char *g = guarded(sizeof(triton_shm_stats));
  char line[512];
  EXPECT(triton_shm_registry_stats(reg, (triton_shm_stats *)(void *)g) == TRITON_SHM_OK);
  EXPECT(((triton_shm_stats *)(void *)g)->tracked == 1);
  EXPECT(triton_shm_stats_format((triton_shm_stats *)(void *)g, line, sizeof line, NULL) ==
         TRITON_SHM_OK);
  EXPECT(strstr(line, "tracked=1 ") != NULL);
  EXPECT(guard_held(g, sizeof(triton_shm_stats), "triton_shm_registry_stats"));
  if (UNDER_ASAN) {
    triton_shm_stats *exact = (triton_shm_stats *)malloc(sizeof *exact);
    EXPECT(exact != NULL);
    EXPECT(triton_shm_registry_stats(reg, exact) == TRITON_SHM_OK);
    /* stats_format reads the struct: the exact block again. */
    EXPECT(triton_shm_stats_format(exact, line, sizeof line, NULL) == TRITON_SHM_OK);
    free(exact);
  }
}

static void cleanup(triton_shm_registry *reg) {
  unsigned char *g = guarded(sizeof(triton_shm_cleanup_report));
  EXPECT(triton_shm_registry_cleanup_all(reg, (triton_shm_cleanup_report *)(void *)g) ==
         TRITON_SHM_OK);
  EXPECT(((triton_shm_cleanup_report *)(void *)g)->released == 1);
  EXPECT(guard_held(g, sizeof(triton_shm_cleanup_report), "triton_shm_registry_cleanup_all"));
  if (UNDER_ASAN) {
    triton_shm_cleanup_report *exact = (triton_shm_cleanup_report *)malloc(sizeof *exact);
    EXPECT(exact != NULL);
    EXPECT(triton_shm_registry_cleanup_all(reg, exact) == TRITON_SHM_OK);
    free(exact);
  }
  g = guarded(sizeof(triton_shm_cleanup_report));
  EXPECT(triton_shm_cleanup_all((triton_shm_cleanup_report *)(void *)g) == TRITON_SHM_OK);
  EXPECT(guard_held(g, sizeof(triton_shm_cleanup_report), "triton_shm_cleanup_all"));
}

/* The call of the issue: 0.1.0's reap report has six fields. */
static void reap(void) {
  char dir[] = "/tmp/triton-shm-compat-XXXXXX";
  triton_shm_options opts;
  unsigned char *g = guarded(sizeof(triton_shm_reap_report));
  if (mkdtemp(dir) == NULL) {
    perror("mkdtemp");
    exit(1);
  }
  EXPECT(TRITON_SHM_OPTIONS_INIT(&opts) == TRITON_SHM_OK);
  opts.state_dir = dir;
  EXPECT(triton_shm_reap_stale(&opts, (triton_shm_reap_report *)(void *)g) == TRITON_SHM_OK);
  EXPECT(((triton_shm_reap_report *)(void *)g)->regions_failed == 0);
  EXPECT(guard_held(g, sizeof(triton_shm_reap_report), "triton_shm_reap_stale"));
  if (UNDER_ASAN) {
    triton_shm_reap_report *exact = (triton_shm_reap_report *)malloc(sizeof *exact);
    EXPECT(exact != NULL);
    EXPECT(triton_shm_reap_stale(&opts, exact) == TRITON_SHM_OK);
    free(exact);
  }
  EXPECT(rmdir(dir) == 0);
}

int main(void) {
  triton_shm_registry *reg;
  printf("compiled against %s, running against %s\n", TRITON_SHM_VERSION_STRING,
         triton_shm_version());
  reg = registry();
  stats(reg);
  cleanup(reg);
  triton_shm_registry_free(reg);
  reap();
  if (failures != 0) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("every struct of 0.1.0 kept its guard bytes%s\n",
         UNDER_ASAN ? ", and ASan saw no access past an exact-size block" : "");
  return 0;
}
