/*
 * The structs the library fills, exchanged at the caller's size: the
 * _sized entry points write min(caller's size, the library's) bytes and
 * zero the rest of the caller's struct, never a byte past it; the 0.1.0
 * entry points write the 0.1.0 layout and nothing after it. Each struct sits
 * in a buffer filled with FILL, followed by guard bytes that must keep it.
 */
#define _DARWIN_C_SOURCE /* mkdtemp on macOS (see bad_inputs.c) */
#include "../check.h"

#define FILL 0xA5
/* The sizes 0.1.0 published. */
#define STATS_0_1 72
#define CLEANUP_0_1 40
#define REAP_0_1 48
/* A caller compiled against a header with more fields than this library. */
#define BIGGER(type) (sizeof(type) + 24)

static unsigned char buf[512];

static void fill(void) { memset(buf, FILL, sizeof buf); }

/* Bytes [from, to) of buf all hold `value`. */
static int all(size_t from, size_t to, unsigned char value) {
  size_t i;
  for (i = from; i < to; i++) {
    if (buf[i] != value) return 0;
  }
  return 1;
}

static triton_shm_registry *registry_with_one_name(const char *tag) {
  triton_shm_options opts;
  triton_shm_registry *reg = NULL;
  char name[64];
  TRITON_SHM_OPTIONS_INIT(&opts);
  opts.journal = 0;
  REQUIRE_OK(triton_shm_registry_new(&opts, &reg));
  snprintf(name, sizeof name, "/z%ld_%s", (long)getpid(), tag);
  /* Not owned: tracked and counted, never created or unlinked. */
  REQUIRE_OK(triton_shm_registry_register(reg, name, false));
  return reg;
}

static void stats_of_a_bigger_struct_zero_its_extra_fields(void) {
  triton_shm_registry *reg = registry_with_one_name("stats_big");
  triton_shm_stats *stats = (triton_shm_stats *)(void *)buf;
  fill();
  CHECK_OK(triton_shm_registry_stats_sized(reg, stats, BIGGER(triton_shm_stats)));
  CHECK_SIZE(stats->tracked, 1);
  CHECK_SIZE(stats->registered, 1);
  CHECK(all(sizeof(triton_shm_stats), BIGGER(triton_shm_stats), 0));
  CHECK(all(BIGGER(triton_shm_stats), sizeof buf, FILL));
  triton_shm_registry_free(reg);
}

static void stats_of_the_0_1_size_write_only_those_bytes(void) {
  triton_shm_registry *reg = registry_with_one_name("stats_old");
  triton_shm_stats *stats = (triton_shm_stats *)(void *)buf;
  fill();
  CHECK_OK(triton_shm_registry_stats_sized(reg, stats, STATS_0_1));
  CHECK_SIZE(stats->tracked, 1);
  CHECK(all(STATS_0_1, sizeof buf, FILL));
  fill();
  CHECK_OK(triton_shm_registry_stats(reg, stats));
  CHECK_SIZE(stats->registered, 1);
  CHECK(all(STATS_0_1, sizeof buf, FILL));
  triton_shm_registry_free(reg);
}

static void a_size_below_the_first_release_is_refused(void) {
  triton_shm_registry *reg = registry_with_one_name("too_small");
  size_t count = 0;
  char line[512];
  fill();
  CHECK_STATUS(triton_shm_registry_stats_sized(reg, (triton_shm_stats *)(void *)buf, sizeof(void *)),
               TRITON_SHM_INVALID_ARGUMENT);
  CHECK_LAST_ERROR_CONTAINS("out_size");
  CHECK_STATUS(triton_shm_registry_cleanup_all_sized(
                   reg, (triton_shm_cleanup_report *)(void *)buf, CLEANUP_0_1 - 1),
               TRITON_SHM_INVALID_ARGUMENT);
  CHECK_STATUS(triton_shm_reap_stale_sized(NULL, (triton_shm_reap_report *)(void *)buf, 0),
               TRITON_SHM_INVALID_ARGUMENT);
  CHECK_STATUS(triton_shm_stats_format_sized((triton_shm_stats *)(void *)buf, STATS_0_1 - 8, line,
                                             sizeof line, NULL),
               TRITON_SHM_INVALID_ARGUMENT);
  CHECK(all(0, sizeof buf, FILL));
  /* The refused cleanup did nothing. */
  CHECK_OK(triton_shm_registry_count(reg, &count));
  CHECK_SIZE(count, 1);
  triton_shm_registry_free(reg);
}

static void cleanup_reports_of_a_bigger_struct_zero_its_extra_fields(void) {
  triton_shm_registry *reg = registry_with_one_name("cleanup_big");
  triton_shm_cleanup_report *report = (triton_shm_cleanup_report *)(void *)buf;
  fill();
  CHECK_OK(triton_shm_registry_cleanup_all_sized(reg, report, BIGGER(triton_shm_cleanup_report)));
  CHECK_SIZE(report->released, 1);
  CHECK_SIZE(report->unlinked, 0);
  CHECK(all(sizeof(triton_shm_cleanup_report), BIGGER(triton_shm_cleanup_report), 0));
  CHECK(all(BIGGER(triton_shm_cleanup_report), sizeof buf, FILL));
  triton_shm_registry_free(reg);
}

static void cleanup_reports_of_the_0_1_entry_point_stop_at_its_layout(void) {
  triton_shm_registry *reg = registry_with_one_name("cleanup_old");
  triton_shm_cleanup_report *report = (triton_shm_cleanup_report *)(void *)buf;
  fill();
  CHECK_OK(triton_shm_registry_cleanup_all(reg, report));
  CHECK_SIZE(report->released, 1);
  CHECK(all(CLEANUP_0_1, sizeof buf, FILL));
  triton_shm_registry_free(reg);
}

static void reap_reports_follow_the_callers_size(void) {
  char dir[] = "/tmp/triton-shm-sized-XXXXXX";
  triton_shm_options opts;
  triton_shm_reap_report *report = (triton_shm_reap_report *)(void *)buf;
  REQUIRE(mkdtemp(dir) != NULL);
  TRITON_SHM_OPTIONS_INIT(&opts);
  opts.state_dir = dir;
  /* 0.1.0's entry point: its six fields, not the two added since. */
  fill();
  CHECK_OK(triton_shm_reap_stale(&opts, report));
  CHECK(all(0, REAP_0_1, 0));
  CHECK(all(REAP_0_1, sizeof buf, FILL));
  /* A bigger struct: every field, and zeroes after them. */
  fill();
  CHECK_OK(triton_shm_reap_stale_sized(&opts, report, BIGGER(triton_shm_reap_report)));
  CHECK(all(0, BIGGER(triton_shm_reap_report), 0));
  CHECK(all(BIGGER(triton_shm_reap_report), sizeof buf, FILL));
  CHECK(rmdir(dir) == 0);
}

static void stats_format_reads_only_the_callers_size(void) {
  /* Exactly 72 bytes on the heap: under ASan a longer read is reported. */
  /* Through void *: the 0.1.0 struct is shorter than today's type, which
     clang's -Walloc-size would otherwise flag. */
  void *block = malloc(STATS_0_1);
  triton_shm_stats *old = (triton_shm_stats *)block;
  triton_shm_stats full;
  char sized[512], unsized[512];
  REQUIRE(old != NULL);
  memset(&full, 0, sizeof full);
  full.tracked = 2;
  full.reaped = 9;
  memcpy(old, &full, STATS_0_1);
  CHECK_OK(triton_shm_stats_format_sized(old, STATS_0_1, sized, sizeof sized, NULL));
  CHECK_OK(triton_shm_stats_format(old, unsized, sizeof unsized, NULL));
  CHECK_STR(sized, unsized);
  CHECK(strstr(sized, "tracked=2 ") != NULL);
  CHECK(strstr(sized, "reaped=9") != NULL);
  free(old);
}

static void options_of_a_bigger_struct_zero_its_extra_fields(void) {
  triton_shm_options *opts = (triton_shm_options *)(void *)buf;
  fill();
  CHECK_OK(triton_shm_options_init(opts, BIGGER(triton_shm_options)));
  /* The library says how much it knows; a newer caller's fields read 0. */
  CHECK_SIZE(opts->struct_size, sizeof(triton_shm_options));
  CHECK(all(sizeof(triton_shm_options), BIGGER(triton_shm_options), 0));
  CHECK(all(BIGGER(triton_shm_options), sizeof buf, FILL));
}

int main(void) {
  options_of_a_bigger_struct_zero_its_extra_fields();
  stats_of_a_bigger_struct_zero_its_extra_fields();
  stats_of_the_0_1_size_write_only_those_bytes();
  a_size_below_the_first_release_is_refused();
  cleanup_reports_of_a_bigger_struct_zero_its_extra_fields();
  cleanup_reports_of_the_0_1_entry_point_stop_at_its_layout();
  reap_reports_follow_the_callers_size();
  stats_format_reads_only_the_callers_size();
  CHECK_DONE();
}
