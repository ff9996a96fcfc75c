/*
 * Four threads hammer one registry: each registers, checks and unlinks its
 * own real regions while all race to register one contested object under
 * two spellings. Afterwards the counts add up, exactly one spelling won the
 * race, each thread's last error is its own, and cleanup-all removes what is
 * left.
 */
#include "check.h"

#include <pthread.h>

#define THREADS 4
#define PER_THREAD 64

/* A reusable barrier (macOS has no pthread_barrier_t). */
typedef struct {
  pthread_mutex_t mutex;
  pthread_cond_t cond;
  int waiting;
  unsigned generation;
} barrier;

static barrier gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};

static void barrier_wait(barrier *b) {
  unsigned generation;
  pthread_mutex_lock(&b->mutex);
  generation = b->generation;
  if (++b->waiting == THREADS) {
    b->waiting = 0;
    b->generation++;
    pthread_cond_broadcast(&b->cond);
  } else {
    while (generation == b->generation) pthread_cond_wait(&b->cond, &b->mutex);
  }
  pthread_mutex_unlock(&b->mutex);
}

typedef struct {
  int index;
  triton_shm_registry *reg;
  triton_shm_status contested;  /* status of registering the contested name */
  int errors;                   /* failed checks inside the thread */
  char first_error[256];
} worker;

static void thread_fail(worker *w, const char *what, int i) {
  if (w->errors++ == 0) {
    char message[128];
    check_last_error(message, sizeof message);
    snprintf(w->first_error, sizeof w->first_error, "thread %d, region %d: %s (last error: %s)",
             w->index, i, what, message);
  }
}

static void region_name(char *buf, size_t len, int thread, int i) {
  snprintf(buf, len, "/h%ld_%d_%d", (long)getpid(), thread, i);
}

static void contested_name(char *buf, size_t len, int spelling) {
  /* Under darwin both spellings reach the object "/h<pid>_common". */
  snprintf(buf, len, spelling ? "/h%ld/common" : "/h%ld_common", (long)getpid());
}

static void *work(void *arg) {
  worker *w = (worker *)arg;
  char name[64];
  char contested[64];
  int i;
  bool tracked;

  for (i = 0; i < PER_THREAD; i++) {
    region_name(name, sizeof name, w->index, i);
    if (shm_test_create(name, 0) != 0) thread_fail(w, "create", i);
  }
  contested_name(contested, sizeof contested, w->index % 2);
  barrier_wait(&gate);

  w->contested = triton_shm_registry_register(w->reg, contested, true);
  for (i = 0; i < PER_THREAD; i++) {
    size_t count = 0;
    region_name(name, sizeof name, w->index, i);
    if (triton_shm_registry_register(w->reg, name, true) != TRITON_SHM_OK)
      thread_fail(w, "register", i);
    tracked = false;
    if (triton_shm_registry_contains(w->reg, name, &tracked) != TRITON_SHM_OK || !tracked)
      thread_fail(w, "contains after register", i);
    if (triton_shm_registry_count(w->reg, &count) != TRITON_SHM_OK || count == 0)
      thread_fail(w, "count after register", i);
    /* Again: idempotent while other threads write. */
    if (triton_shm_registry_register(w->reg, name, true) != TRITON_SHM_OK)
      thread_fail(w, "register again", i);
  }
  /* Unlink the even-numbered half. */
  for (i = 0; i < PER_THREAD; i += 2) {
    region_name(name, sizeof name, w->index, i);
    if (triton_shm_registry_unlink(w->reg, name) != TRITON_SHM_OK)
      thread_fail(w, "unlink", i);
    if (shm_test_exists(name)) thread_fail(w, "exists after unlink", i);
    if (triton_shm_registry_unlink(w->reg, name) != TRITON_SHM_NOT_FOUND)
      thread_fail(w, "second unlink is not NOT_FOUND", i);
  }
  /* Now every thread's last call was a NOT_FOUND naming its own key. The odd
   * threads succeed at something while the even ones wait; afterwards an even
   * thread must still see its own NOT_FOUND, an odd thread no error at all. */
  barrier_wait(&gate);
  if (w->index % 2 == 1) {
    size_t count = 0;
    if (triton_shm_registry_count(w->reg, &count) != TRITON_SHM_OK)
      thread_fail(w, "count", -1);
  }
  barrier_wait(&gate);
  {
    char message[256];
    char own[64];
    region_name(own, sizeof own, w->index, PER_THREAD - 2);
    if (triton_shm_last_error_message(message, sizeof message, NULL) != TRITON_SHM_OK) {
      thread_fail(w, "reading the last error", -1);
    } else if (w->index % 2 == 0 &&
               (strstr(message, "not tracked") == NULL || strstr(message, own) == NULL)) {
      thread_fail(w, "another thread's call changed this thread's last error", -1);
    } else if (w->index % 2 == 1 && message[0] != '\0') {
      thread_fail(w, "a successful call did not clear the last error", -1);
    }
  }
  return NULL;
}

int main(void) {
  triton_shm_registry *reg =
      check_registry_new(TRITON_SHM_NAMING_DARWIN, TRITON_SHM_UNLINK_OWNED_ONLY);
  pthread_t threads[THREADS];
  worker workers[THREADS];
  triton_shm_cleanup_report report;
  size_t count = 0;
  int i, j, winners[2] = {0, 0}, losers[2] = {0, 0};
  char name[64];

  for (i = 0; i < THREADS; i++) {
    memset(&workers[i], 0, sizeof workers[i]);
    workers[i].index = i;
    workers[i].reg = reg;
    REQUIRE(pthread_create(&threads[i], NULL, work, &workers[i]) == 0);
  }
  for (i = 0; i < THREADS; i++) {
    REQUIRE(pthread_join(threads[i], NULL) == 0);
    if (workers[i].errors != 0) {
      fprintf(stderr, "%d failure(s) in a thread, the first: %s\n", workers[i].errors,
              workers[i].first_error);
      check_failures++;
    }
    if (workers[i].contested == TRITON_SHM_OK) {
      winners[i % 2]++;
    } else if (workers[i].contested == TRITON_SHM_NAME_COLLISION) {
      losers[i % 2]++;
    } else {
      CHECK_STATUS(workers[i].contested, TRITON_SHM_OK);
    }
  }

  /* One spelling won: every thread using it got OK (idempotent), every
   * thread using the other got NAME_COLLISION. */
  CHECK((winners[0] == THREADS / 2 && losers[1] == THREADS / 2) ||
        (winners[1] == THREADS / 2 && losers[0] == THREADS / 2));

  /* Half of each thread's regions, plus the contested one, are tracked. */
  CHECK_OK(triton_shm_registry_count(reg, &count));
  CHECK_SIZE(count, THREADS * PER_THREAD / 2 + 1);

  memset(&report, 0xff, sizeof report);
  CHECK_OK(triton_shm_registry_cleanup_all(reg, &report));
  /* The contested object was never created, so it is already gone. */
  CHECK_SIZE(report.unlinked, THREADS * PER_THREAD / 2);
  CHECK_SIZE(report.already_gone, 1);
  CHECK_SIZE(report.failed, 0);
  CHECK_OK(triton_shm_registry_count(reg, &count));
  CHECK_SIZE(count, 0);

  for (i = 0; i < THREADS; i++) {
    for (j = 0; j < PER_THREAD; j++) {
      region_name(name, sizeof name, i, j);
      if (shm_test_exists(name)) {
        fprintf(stderr, "%s still exists after cleanup\n", name);
        check_failures++;
        shm_test_remove(name);
      }
    }
  }
  triton_shm_registry_free(reg);
  CHECK_DONE();
}
