/*
 * The log callback: it receives the library's messages with their level and
 * the caller's user_data, a replaced callback stops receiving, and NULL
 * silences the library.
 */
#include "check.h"

#define MAX_MESSAGES 32

typedef struct {
  int calls;
  triton_shm_log_level levels[MAX_MESSAGES];
  char messages[MAX_MESSAGES][256];
} log_sink;

static void record(triton_shm_log_level level, const char *message, void *user_data) {
  log_sink *sink = (log_sink *)user_data;
  if (sink->calls < MAX_MESSAGES) {
    sink->levels[sink->calls] = level;
    snprintf(sink->messages[sink->calls], sizeof sink->messages[0], "%s", message);
  }
  sink->calls++;
}

/* Index of the first message at `level` that contains every needle, or -1. */
static int find(const log_sink *sink, triton_shm_log_level level, const char *a,
                const char *b) {
  int i;
  for (i = 0; i < sink->calls && i < MAX_MESSAGES; i++) {
    if (sink->levels[i] == level && strstr(sink->messages[i], a) != NULL &&
        (b == NULL || strstr(sink->messages[i], b) != NULL)) {
      return i;
    }
  }
  return -1;
}

/* Require a message at `level` containing `a` (and `b`); on failure show
 * what the callback did receive. */
#define CHECK_LOGGED(sink, level, a, b) check_logged(sink, level, a, b, __LINE__)

static void check_logged(const log_sink *sink, triton_shm_log_level level, const char *a,
                         const char *b, int line) {
  int i;
  if (find(sink, level, a, b) >= 0) return;
  fprintf(stderr, "%s:%d: no message at level %u containing \"%s\"%s%s%s; received:\n",
          __FILE__, line, (unsigned)level, a, b ? " and \"" : "", b ? b : "", b ? "\"" : "");
  for (i = 0; i < sink->calls && i < MAX_MESSAGES; i++) {
    fprintf(stderr, "  level %u: %s\n", (unsigned)sink->levels[i], sink->messages[i]);
  }
  check_failures++;
}

int main(void) {
  log_sink sink, other;
  triton_shm_registry *reg =
      check_registry_new(TRITON_SHM_NAMING_DARWIN, TRITON_SHM_UNLINK_OWNED_ONLY);
  char key[64], system[64], second[64];

  memset(&sink, 0, sizeof sink);
  memset(&other, 0, sizeof other);
  /* "/l<pid>/gone" reaches the object "/l<pid>_gone" under darwin. */
  snprintf(key, sizeof key, "/l%ld/gone", (long)getpid());
  REQUIRE_OK(triton_shm_registry_system_name(reg, key, system, sizeof system, NULL));
  shm_test_name(second, sizeof second, "l", "second");
  REQUIRE(shm_test_create(system, 64) == 0);
  REQUIRE(shm_test_create(second, 64) == 0);

  CHECK_OK(triton_shm_set_log_callback(record, &sink));
  CHECK_OK(triton_shm_registry_register(reg, key, true));

  /* An owned region removed behind the registry's back: unlink succeeds and
   * warns, naming both the system name and the original key. */
  shm_test_remove(system);
  sink.calls = 0;
  CHECK_OK(triton_shm_registry_unlink(reg, key));
  CHECK_LOGGED(&sink, TRITON_SHM_LOG_LEVEL_WARN, "already gone", system);
  CHECK_LOGGED(&sink, TRITON_SHM_LOG_LEVEL_WARN, "already gone", key);

  /* A real unlink is reported at INFO with the system name. */
  CHECK_OK(triton_shm_registry_register(reg, second, true));
  sink.calls = 0;
  CHECK_OK(triton_shm_registry_unlink(reg, second));
  CHECK_LOGGED(&sink, TRITON_SHM_LOG_LEVEL_INFO, "unlinked", second);
  CHECK(!shm_test_exists(second));

  /* Cleanup-all reports its counts. */
  sink.calls = 0;
  CHECK_OK(triton_shm_registry_cleanup_all(reg, NULL));
  CHECK_LOGGED(&sink, TRITON_SHM_LOG_LEVEL_INFO, "cleanup", NULL);

  /* A new callback replaces the old one. */
  sink.calls = 0;
  CHECK_OK(triton_shm_set_log_callback(record, &other));
  CHECK_OK(triton_shm_registry_cleanup_all(reg, NULL));
  CHECK(sink.calls == 0);
  CHECK(other.calls > 0);

  /* NULL silences the library. */
  other.calls = 0;
  CHECK_OK(triton_shm_set_log_callback(NULL, NULL));
  CHECK_OK(triton_shm_registry_register(reg, key, true));
  CHECK_OK(triton_shm_registry_unlink(reg, key)); /* already gone again */
  CHECK_OK(triton_shm_registry_cleanup_all(reg, NULL));
  CHECK(sink.calls == 0);
  CHECK(other.calls == 0);

  shm_test_remove(system);
  shm_test_remove(second);
  triton_shm_registry_free(reg);
  CHECK_DONE();
}
