/* A loop of 64 KiB region lives, one page written each, for instruction
 * counts (valgrind --tool=callgrind) and whole-process timing, where the
 * interleaved rounds of triton_shm_bench are too noisy to split a few
 * hundred nanoseconds:
 *
 *   triton_shm_life_loop COUNT off|on|raw
 *
 * off / on: triton_shm_region_create + triton_shm_region_close on one
 * registry (platform naming, no reaping) with the journal off or on (its
 * state directory a mkdtemp under $TMPDIR, else /tmp, removed at the end);
 * raw: the bare system calls (raw_region_life, row 3's baseline). A
 * difference of two counts (2000 and 1000 lives, say) gives the cost of
 * one life without the start-up. Exits 1 if a call fails. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "raw_shm.h"
#include "triton_shm.h"

enum { SIZE = 65536, PAGE = 4096 };

int main(int argc, char **argv) {
  if (argc != 3 || atoi(argv[1]) <= 0 ||
      (strcmp(argv[2], "off") != 0 && strcmp(argv[2], "on") != 0 && strcmp(argv[2], "raw") != 0)) {
    fprintf(stderr, "usage: %s COUNT off|on|raw\n", argv[0]);
    return 2;
  }
  const int count = atoi(argv[1]);
  char key[64];
  snprintf(key, sizeof key, "/tsl%d_life", (int)getpid());
  if (strcmp(argv[2], "raw") == 0) {
    for (int i = 0; i < count; ++i) {
      if (raw_region_life(key, SIZE, 1, PAGE) != 0) return 1;
    }
    return 0;
  }
  const char *tmp = getenv("TMPDIR");
  char state_dir[4096];
  snprintf(state_dir, sizeof state_dir, "%s/triton-shm-life-XXXXXX",
           tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
  if (mkdtemp(state_dir) == NULL) return 1;
  triton_shm_options opts;
  if (TRITON_SHM_OPTIONS_INIT(&opts) != TRITON_SHM_OK) return 1;
  opts.backend = TRITON_SHM_BACKEND_SYSTEM;
  opts.naming_policy = TRITON_SHM_NAMING_PLATFORM;
  opts.journal = strcmp(argv[2], "on") == 0;
  opts.reap_on_create = 0;
  opts.state_dir = state_dir;
  triton_shm_registry *reg = NULL;
  if (triton_shm_registry_new(&opts, &reg) != TRITON_SHM_OK) return 1;
  for (int i = 0; i < count; ++i) {
    triton_shm_region *region = NULL;
    if (triton_shm_region_create(reg, key, SIZE, 0, &region) != TRITON_SHM_OK) return 1;
    raw_touch_pages(triton_shm_region_data(region), 1, PAGE);
    if (triton_shm_region_close(region) != TRITON_SHM_OK) return 1;
  }
  triton_shm_registry_free(reg);
  return rmdir(state_dir) == 0 ? 0 : 1;
}
