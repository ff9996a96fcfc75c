/*
 * Registries through the C ABI, on real shared-memory objects: ownership and
 * the two unlink policies, collisions, idempotent registration, unlink and
 * cleanup-all with their reports, freeing, the default registry, and a
 * forked child that must not unlink its parent's regions.
 */
#include "check.h"

#include <sys/wait.h>

#define NAME_LEN 64

static int exists(const char *name) { return shm_test_exists(name); }

static size_t count(const triton_shm_registry *reg) {
  size_t n = 9999;
  CHECK_OK(triton_shm_registry_count(reg, &n));
  return n;
}

static int contains(const triton_shm_registry *reg, const char *name) {
  bool tracked = false;
  CHECK_OK(triton_shm_registry_contains(reg, name, &tracked));
  return tracked;
}

static void owned_regions_are_unlinked_others_released_by_default(void) {
  triton_shm_registry *reg =
      check_registry_new(TRITON_SHM_NAMING_POSIX, TRITON_SHM_UNLINK_OWNED_ONLY);
  char mine[NAME_LEN], theirs[NAME_LEN];
  shm_test_name(mine, sizeof mine, "r", "mine");
  shm_test_name(theirs, sizeof theirs, "r", "theirs");
  REQUIRE(shm_test_create(mine, 64) == 0);
  REQUIRE(shm_test_create(theirs, 64) == 0);

  CHECK_OK(triton_shm_registry_register(reg, mine, true));
  CHECK_OK(triton_shm_registry_register(reg, theirs, false));
  CHECK_SIZE(count(reg), 2);

  CHECK_OK(triton_shm_registry_unlink(reg, mine));
  CHECK(!exists(mine));
  CHECK(!contains(reg, mine));

  CHECK_OK(triton_shm_registry_unlink(reg, theirs));
  CHECK(exists(theirs)); /* the client's object is left for the client */
  CHECK(!contains(reg, theirs));
  CHECK_SIZE(count(reg), 0);

  shm_test_remove(mine);
  shm_test_remove(theirs);
  triton_shm_registry_free(reg);
}

static void unlink_all_policy_unlinks_regions_not_owned(void) {
  triton_shm_registry *reg =
      check_registry_new(TRITON_SHM_NAMING_POSIX, TRITON_SHM_UNLINK_ALL);
  char theirs[NAME_LEN], theirs2[NAME_LEN];
  triton_shm_cleanup_report report;
  shm_test_name(theirs, sizeof theirs, "r", "all1");
  shm_test_name(theirs2, sizeof theirs2, "r", "all2");
  REQUIRE(shm_test_create(theirs, 64) == 0);
  REQUIRE(shm_test_create(theirs2, 64) == 0);

  CHECK_OK(triton_shm_registry_register(reg, theirs, false));
  CHECK_OK(triton_shm_registry_unlink(reg, theirs));
  CHECK(!exists(theirs));

  CHECK_OK(triton_shm_registry_register(reg, theirs2, false));
  CHECK_OK(triton_shm_registry_cleanup_all(reg, &report));
  CHECK_SIZE(report.unlinked, 1);
  CHECK_SIZE(report.released, 0);
  CHECK(!exists(theirs2));

  shm_test_remove(theirs);
  shm_test_remove(theirs2);
  triton_shm_registry_free(reg);
}

static void cleanup_reports_every_outcome_and_is_repeatable(void) {
  triton_shm_registry *reg =
      check_registry_new(TRITON_SHM_NAMING_POSIX, TRITON_SHM_UNLINK_OWNED_ONLY);
  char a[NAME_LEN], b[NAME_LEN], gone[NAME_LEN], client[NAME_LEN];
  triton_shm_cleanup_report report;
  shm_test_name(a, sizeof a, "r", "ca");
  shm_test_name(b, sizeof b, "r", "cb");
  shm_test_name(gone, sizeof gone, "r", "cgone");
  shm_test_name(client, sizeof client, "r", "cclient");
  REQUIRE(shm_test_create(a, 64) == 0);
  REQUIRE(shm_test_create(b, 64) == 0);
  REQUIRE(shm_test_create(gone, 64) == 0);
  REQUIRE(shm_test_create(client, 64) == 0);

  CHECK_OK(triton_shm_registry_register(reg, a, true));
  CHECK_OK(triton_shm_registry_register(reg, b, true));
  CHECK_OK(triton_shm_registry_register(reg, gone, true));
  CHECK_OK(triton_shm_registry_register(reg, client, false));
  shm_test_remove(gone); /* removed behind the registry's back */

  memset(&report, 0xff, sizeof report);
  CHECK_OK(triton_shm_registry_cleanup_all(reg, &report));
  CHECK_SIZE(report.unlinked, 2);
  CHECK_SIZE(report.already_gone, 1);
  CHECK_SIZE(report.released, 1);
  CHECK_SIZE(report.failed, 0);
  CHECK_SIZE(report.skipped, 0);
  CHECK_SIZE(count(reg), 0);
  CHECK(!exists(a));
  CHECK(!exists(b));
  CHECK(exists(client));

  /* A second cleanup finds nothing to do. */
  memset(&report, 0xff, sizeof report);
  CHECK_OK(triton_shm_registry_cleanup_all(reg, &report));
  CHECK_SIZE(report.unlinked + report.already_gone + report.released + report.failed +
                 report.skipped,
             0);
  CHECK(exists(client));

  /* The report is optional. */
  CHECK_OK(triton_shm_registry_cleanup_all(reg, NULL));

  shm_test_remove(client);
  triton_shm_registry_free(reg);
}

static void unknown_and_double_unlink_are_not_found(void) {
  triton_shm_registry *reg =
      check_registry_new(TRITON_SHM_NAMING_POSIX, TRITON_SHM_UNLINK_ALL);
  char untracked[NAME_LEN], once[NAME_LEN];
  shm_test_name(untracked, sizeof untracked, "r", "untracked");
  shm_test_name(once, sizeof once, "r", "once");
  REQUIRE(shm_test_create(untracked, 64) == 0);
  REQUIRE(shm_test_create(once, 64) == 0);

  /* Not tracked: NOT_FOUND, and no shm_unlink even under UNLINK_ALL. */
  CHECK_STATUS(triton_shm_registry_unlink(reg, untracked), TRITON_SHM_NOT_FOUND);
  CHECK_LAST_ERROR_CONTAINS(untracked);
  CHECK(exists(untracked));

  CHECK_OK(triton_shm_registry_register(reg, once, true));
  CHECK_OK(triton_shm_registry_unlink(reg, once));
  CHECK_STATUS(triton_shm_registry_unlink(reg, once), TRITON_SHM_NOT_FOUND);
  CHECK(!exists(once));

  shm_test_remove(untracked);
  shm_test_remove(once);
  triton_shm_registry_free(reg);
}

static void darwin_collision_names_both_keys(void) {
  triton_shm_registry *reg = check_registry_new(TRITON_SHM_NAMING_DARWIN, 0);
  char nested[NAME_LEN], flat[NAME_LEN], system[NAME_LEN];
  /* "/c<pid>/b" and "/c<pid>_b" both normalise to "/c<pid>_b". */
  snprintf(nested, sizeof nested, "/c%ld/b", (long)getpid());
  snprintf(flat, sizeof flat, "/c%ld_b", (long)getpid());
  REQUIRE_OK(triton_shm_registry_system_name(reg, nested, system, sizeof system, NULL));
  CHECK_STR(system, flat);

  CHECK_OK(triton_shm_registry_register(reg, nested, true));
  CHECK_STATUS(triton_shm_registry_register(reg, flat, true), TRITON_SHM_NAME_COLLISION);
  CHECK_LAST_ERROR_CONTAINS(nested);
  CHECK_LAST_ERROR_CONTAINS(flat);
  CHECK(contains(reg, nested));
  CHECK(!contains(reg, flat)); /* the same object, but not the same key */
  CHECK_SIZE(count(reg), 1);
  /* Unlinking by the other spelling does not touch the tracked entry. */
  CHECK_STATUS(triton_shm_registry_unlink(reg, flat), TRITON_SHM_NOT_FOUND);
  CHECK_LAST_ERROR_CONTAINS(nested);
  CHECK(contains(reg, nested));
  triton_shm_registry_free(reg);
}

static void posix_collision_between_slash_spellings(void) {
  triton_shm_registry *reg = check_registry_new(TRITON_SHM_NAMING_POSIX, 0);
  char one[NAME_LEN], two[NAME_LEN], bare[NAME_LEN];
  snprintf(one, sizeof one, "/p%ld", (long)getpid());
  snprintf(two, sizeof two, "//p%ld", (long)getpid());
  snprintf(bare, sizeof bare, "p%ld", (long)getpid());
  /* Owned: closing it would unlink the object the others name. */
  CHECK_OK(triton_shm_registry_register(reg, one, true));
  CHECK_STATUS(triton_shm_registry_register(reg, two, false), TRITON_SHM_NAME_COLLISION);
  CHECK_LAST_ERROR_CONTAINS(one);
  CHECK_LAST_ERROR_CONTAINS(two);
  CHECK_STATUS(triton_shm_registry_register(reg, bare, false), TRITON_SHM_NAME_COLLISION);
  CHECK_SIZE(count(reg), 1);
  triton_shm_registry_free(reg);
}

static void registering_again_is_idempotent_and_keeps_ownership(void) {
  triton_shm_registry *reg =
      check_registry_new(TRITON_SHM_NAMING_POSIX, TRITON_SHM_UNLINK_OWNED_ONLY);
  char name[NAME_LEN];
  shm_test_name(name, sizeof name, "r", "again");
  REQUIRE(shm_test_create(name, 64) == 0);

  CHECK_OK(triton_shm_registry_register(reg, name, false));
  CHECK_OK(triton_shm_registry_register(reg, name, false));
  /* The first registration's flag stays: still not owned. */
  CHECK_OK(triton_shm_registry_register(reg, name, true));
  CHECK_SIZE(count(reg), 1);
  CHECK_OK(triton_shm_registry_unlink(reg, name));
  CHECK(exists(name));

  shm_test_remove(name);
  triton_shm_registry_free(reg);
}

static void contains_is_false_for_invalid_names(void) {
  triton_shm_registry *reg = check_registry_new(TRITON_SHM_NAMING_POSIX, 0);
  bool tracked = true;
  CHECK_OK(triton_shm_registry_contains(reg, "", &tracked));
  CHECK(!tracked);
  tracked = true;
  CHECK_OK(triton_shm_registry_contains(reg, "/a/b", &tracked));
  CHECK(!tracked);
  triton_shm_registry_free(reg);
}

static void free_forgets_without_unlinking(void) {
  triton_shm_registry *reg = check_registry_new(TRITON_SHM_NAMING_POSIX, 0);
  char name[NAME_LEN];
  shm_test_name(name, sizeof name, "r", "freed");
  REQUIRE(shm_test_create(name, 64) == 0);
  CHECK_OK(triton_shm_registry_register(reg, name, true));
  triton_shm_registry_free(reg);
  CHECK(exists(name));
  shm_test_remove(name);

  triton_shm_registry_free(NULL); /* a no-op */
}

static void registries_are_independent(void) {
  triton_shm_registry *one = check_registry_new(TRITON_SHM_NAMING_POSIX, 0);
  triton_shm_registry *two = check_registry_new(TRITON_SHM_NAMING_POSIX, 0);
  char name[NAME_LEN];
  shm_test_name(name, sizeof name, "r", "indep");
  REQUIRE(shm_test_create(name, 64) == 0);
  CHECK_OK(triton_shm_registry_register(one, name, true));
  CHECK(!contains(two, name));
  CHECK_OK(triton_shm_registry_cleanup_all(two, NULL));
  CHECK(exists(name)); /* another manager's cleanup leaves it alone */
  CHECK_STATUS(triton_shm_registry_unlink(two, name), TRITON_SHM_NOT_FOUND);
  CHECK_OK(triton_shm_registry_cleanup_all(one, NULL));
  CHECK(!exists(name));
  shm_test_remove(name);
  triton_shm_registry_free(one);
  triton_shm_registry_free(two);
}

static void default_registry_backs_the_seed_functions(void) {
  triton_shm_registry *def = triton_shm_default_registry();
  char a[NAME_LEN], b[NAME_LEN];
  triton_shm_cleanup_report report;
  REQUIRE(def != NULL);
  CHECK(def == triton_shm_default_registry());
  shm_test_name(a, sizeof a, "d", "a");
  shm_test_name(b, sizeof b, "d", "b");
  REQUIRE(shm_test_create(a, 64) == 0);
  REQUIRE(shm_test_create(b, 64) == 0);

  CHECK_OK(triton_shm_register_region(a));
  CHECK_OK(triton_shm_register_region(b));
  CHECK(contains(def, a));
  CHECK_SIZE(count(def), 2);

  /* Freeing the default registry does nothing: it still tracks both. */
  triton_shm_registry_free(def);
  CHECK_SIZE(count(def), 2);

  CHECK_OK(triton_shm_unlink_region(a)); /* register_region means owned */
  CHECK(!exists(a));
  CHECK_STATUS(triton_shm_unlink_region(a), TRITON_SHM_NOT_FOUND);

  memset(&report, 0xff, sizeof report);
  CHECK_OK(triton_shm_cleanup_all(&report));
  CHECK_SIZE(report.unlinked, 1);
  CHECK(!exists(b));
  CHECK_SIZE(count(def), 0);
  shm_test_remove(a);
  shm_test_remove(b);
}

static void forked_child_skips_parent_regions(void) {
  triton_shm_registry *reg =
      check_registry_new(TRITON_SHM_NAMING_POSIX, TRITON_SHM_UNLINK_ALL);
  char name[NAME_LEN];
  pid_t child;
  int wstatus = 0;
  shm_test_name(name, sizeof name, "r", "fork");
  REQUIRE(shm_test_create(name, 64) == 0);
  CHECK_OK(triton_shm_registry_register(reg, name, true));

  fflush(stderr);
  child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    triton_shm_cleanup_report report;
    int code = 0;
    memset(&report, 0xff, sizeof report);
    if (triton_shm_registry_cleanup_all(reg, &report) != TRITON_SHM_OK) {
      code = 10;
    } else if (report.skipped != 1 || report.unlinked != 0) {
      code = 11;
    } else if (!shm_test_exists(name)) {
      code = 12;
    }
    triton_shm_registry_free(reg); /* the child's copy; the parent keeps its own */
    _exit(code);
  }
  REQUIRE(waitpid(child, &wstatus, 0) == child);
  CHECK(WIFEXITED(wstatus));
  if (WEXITSTATUS(wstatus) != 0) {
    fprintf(stderr, "forked child exited with %d (10: cleanup failed, 11: report "
                    "did not skip the parent's entry, 12: the object was unlinked)\n",
            WEXITSTATUS(wstatus));
    check_failures++;
  }
  CHECK(exists(name));
  CHECK(contains(reg, name));
  CHECK_OK(triton_shm_registry_cleanup_all(reg, NULL));
  CHECK(!exists(name));
  shm_test_remove(name);
  triton_shm_registry_free(reg);
}

int main(void) {
  owned_regions_are_unlinked_others_released_by_default();
  unlink_all_policy_unlinks_regions_not_owned();
  cleanup_reports_every_outcome_and_is_repeatable();
  unknown_and_double_unlink_are_not_found();
  darwin_collision_names_both_keys();
  posix_collision_between_slash_spellings();
  registering_again_is_idempotent_and_keeps_ownership();
  contains_is_false_for_invalid_names();
  free_forgets_without_unlinking();
  registries_are_independent();
  default_registry_backs_the_seed_functions();
  forked_child_skips_parent_regions();
  CHECK_DONE();
}
