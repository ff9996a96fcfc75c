/* triton-shm benchmark, row 9: one reap of the records of dead owners
 * while live processes run, through the C ABI (triton_shm_reap_stale_sized).
 *
 *   triton_shm_reap_bench [--quick] [--only N[,N...]] [--case PROCESSES,RECORDS]
 *
 * Each round makes its dead records untimed: 10 child processes (the dead
 * owners), each with a registry whose journal lives in this run's state
 * directory, create RECORDS/10 owned 4 KiB regions and SIGKILL themselves.
 * PROCESSES more children (the live ones) each keep a region of their own
 * open and mapped and two more descriptors, and sleep. Only the reap is
 * timed; it must unlink every dead record (nothing live holds them), so the
 * in-use check scans every live process and finds nothing to keep. The
 * table gives the median reap of the rounds (wall time, and the CPU time
 * this process spent in it), and how it grows with the
 * live processes and with the records. BENCHMARKS.md says more.
 *
 * Everything is cleaned up: the live children are killed and waited for
 * (and die with this process on Linux: PR_SET_PDEATHSIG); after a failure
 * or SIGINT/SIGTERM the dead owners' records are reaped too; every object
 * this run made is named tsr<pid>_... and /dev/shm is swept for that
 * prefix at the end, which fails the run if it finds anything; the state
 * directory must be empty. Exits 1 if the benchmark could not run; a goal
 * that does not hold is reported in the table, not in the exit status. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/prctl.h>
#endif

#include "triton_shm.h"

enum { DEAD_OWNERS = 10, REGION_SIZE = 4096, MAX_LIVE = 1024 };
static const double GOAL_MS = 100.0;

static char g_prefix[64];
static char g_state_dir[4096];
static pid_t g_live[MAX_LIVE];
static int g_live_count;
static pid_t g_main_pid;
static volatile sig_atomic_t g_stop; /* SIGINT or SIGTERM: clean up and stop */

static void kill_live(void);
static void cleanup(void);
static void stop_now(void);

static void die(const char *format, ...) {
  va_list args;
  va_start(args, format);
  fprintf(stderr, "triton_shm_reap_bench: ");
  vfprintf(stderr, format, args);
  fprintf(stderr, "\n");
  va_end(args);
  if (getpid() != g_main_pid) _exit(1); /* a child: the live ones are the parent's */
  cleanup();
  exit(1);
}

static const char *last_error(void) {
  static char buf[1024];
  if (triton_shm_last_error_message(buf, sizeof buf, NULL) != TRITON_SHM_OK) return "?";
  return buf;
}

static double clock_ms(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void options(triton_shm_options *opts) {
  if (TRITON_SHM_OPTIONS_INIT(opts) != TRITON_SHM_OK) die("options_init: %s", last_error());
  opts->backend = TRITON_SHM_BACKEND_SYSTEM;
  opts->naming_policy = TRITON_SHM_NAMING_PLATFORM;
  opts->journal = 1;
  opts->reap_on_create = 0; /* only the timed reap reaps */
  opts->state_dir = g_state_dir;
}

/* A child that dies with this process, so that nothing outlives a run
 * that is interrupted. */
static void die_with_parent(pid_t parent) {
#if defined(__linux__)
  prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
  if (getppid() != parent) _exit(1);
}

/* ------------------------------------------------------------ live ones */

/* A live process: its own region, open and mapped (unlinked at once, so
 * that it goes with the process), two more descriptors, then sleep. */
static void live_child(pid_t parent, int index, int ready) {
  die_with_parent(parent);
  char name[128];
  snprintf(name, sizeof name, "/%s_live%d", g_prefix, index);
  int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
  if (fd < 0) _exit(2);
  if (ftruncate(fd, REGION_SIZE) != 0) _exit(3);
  void *data = mmap(NULL, REGION_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (data == MAP_FAILED) _exit(4);
  ((volatile char *)data)[0] = 1;
  shm_unlink(name);
  if (open("/dev/null", O_RDONLY) < 0 || open("/dev/null", O_WRONLY) < 0) _exit(5);
  if (write(ready, "x", 1) != 1) _exit(6);
  close(ready);
  for (;;) pause();
}

static void start_live(int n) {
  if (n > MAX_LIVE) die("at most %d live processes", MAX_LIVE);
  int pipefd[2];
  if (pipe(pipefd) != 0) die("pipe: %s", strerror(errno));
  const pid_t parent = getpid();
  for (int i = 0; i < n; ++i) {
    fflush(NULL);
    const pid_t pid = fork();
    if (pid < 0) die("fork: %s", strerror(errno));
    if (pid == 0) {
      close(pipefd[0]);
      live_child(parent, g_live_count, pipefd[1]);
    }
    g_live[g_live_count++] = pid;
  }
  close(pipefd[1]);
  for (int i = 0; i < n; ++i) {
    char c;
    if (read(pipefd[0], &c, 1) != 1) die("a live process did not start");
  }
  close(pipefd[0]);
}

static void kill_live(void) {
  for (int i = 0; i < g_live_count; ++i) kill(g_live[i], SIGKILL);
  for (int i = 0; i < g_live_count; ++i) waitpid(g_live[i], NULL, 0);
  g_live_count = 0;
}

/* ------------------------------------------------------------ dead ones */

static int g_round;

static void on_signal(int sig) {
  (void)sig;
  g_stop = 1;
}

/* A dead owner: `count` owned regions created through a journaled
 * registry, then SIGKILL, so that its journal lists them all. */
static void dead_child(pid_t parent, int owner, int count) {
  die_with_parent(parent);
  triton_shm_options opts;
  options(&opts);
  triton_shm_registry *reg = NULL;
  if (triton_shm_registry_new(&opts, &reg) != TRITON_SHM_OK) _exit(2);
  for (int i = 0; i < count; ++i) {
    char key[128];
    snprintf(key, sizeof key, "/%s_r%d_o%d_%d", g_prefix, g_round, owner, i);
    triton_shm_region *region = NULL;
    if (triton_shm_region_create(reg, key, REGION_SIZE, 0, &region) != TRITON_SHM_OK) {
      fprintf(stderr, "dead owner: region_create %s: %s\n", key, last_error());
      _exit(3);
    }
  }
  kill(getpid(), SIGKILL);
  _exit(4);
}

static void make_dead(int records) {
  const pid_t parent = getpid();
  ++g_round;
  for (int o = 0; o < DEAD_OWNERS; ++o) {
    const int count = records / DEAD_OWNERS + (o < records % DEAD_OWNERS ? 1 : 0);
    fflush(NULL);
    const pid_t pid = fork();
    if (pid < 0) die("fork: %s", strerror(errno));
    if (pid == 0) dead_child(parent, o, count);
    int status = 0;
    while (waitpid(pid, &status, 0) != pid) {
      if (errno != EINTR) die("waitpid: %s", strerror(errno));
      if (g_stop) kill(pid, SIGKILL); /* dies as a dead owner does; reaped below */
    }
    if (g_stop) stop_now();
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
      die("a dead owner did not die of SIGKILL (status %d)", status);
    }
  }
}

/* ------------------------------------------------------------ timing */

static int cmp_double(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median_sorted(const double *v, int n) {
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

typedef struct {
  double median, min, max; /* wall time of the reap */
  double cpu;              /* median CPU time of this process (user + system) during it */
} Timing;

static Timing reap_rounds(int records, int rounds) {
  double ms[64], cpu[64];
  if (rounds > 64) rounds = 64;
  triton_shm_options opts;
  options(&opts);
  for (int r = 0; r < rounds; ++r) {
    if (g_stop) stop_now();
    make_dead(records);
    triton_shm_reap_report report;
    memset(&report, 0, sizeof report);
    const double c0 = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
    const double t0 = clock_ms(CLOCK_MONOTONIC);
    const triton_shm_status st = triton_shm_reap_stale_sized(&opts, &report, sizeof report);
    ms[r] = clock_ms(CLOCK_MONOTONIC) - t0;
    cpu[r] = clock_ms(CLOCK_PROCESS_CPUTIME_ID) - c0;
    if (st != TRITON_SHM_OK) die("reap_stale: %s: %s", triton_shm_status_name(st), last_error());
    if (report.regions_unlinked != (size_t)records || report.journals_reaped != DEAD_OWNERS ||
        report.regions_in_use != 0 || report.regions_failed != 0) {
      die("reap: unlinked %zu of %d, journals %zu of %d, in use %zu, failed %zu, deferred %zu, "
          "left alone %zu",
          report.regions_unlinked, records, report.journals_reaped, DEAD_OWNERS,
          report.regions_in_use, report.regions_failed, report.regions_deferred,
          report.regions_left_alone);
    }
  }
  qsort(ms, (size_t)rounds, sizeof ms[0], cmp_double);
  qsort(cpu, (size_t)rounds, sizeof cpu[0], cmp_double);
  Timing t = {median_sorted(ms, rounds), ms[0], ms[rounds - 1], median_sorted(cpu, rounds)};
  return t;
}

/* Processes of this user in /proc besides this one and its live children:
 * the in-use check walks them too (Linux). */
static int other_processes(void) {
  DIR *dir = opendir("/proc");
  if (dir == NULL) return -1;
  int n = 0;
  const uid_t me = geteuid();
  struct dirent *e;
  while ((e = readdir(dir)) != NULL) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    char path[300];
    struct stat st;
    snprintf(path, sizeof path, "/proc/%s", e->d_name);
    if (stat(path, &st) == 0 && st.st_uid == me) ++n;
  }
  closedir(dir);
  return n - 1 - g_live_count;
}

/* ------------------------------------------------------------ cleanup */

/* Unlink what is left of this run's in /dev/shm; returns how many. */
static size_t sweep_leftovers(void) {
  size_t found = 0;
  for (;;) {
    DIR *dir = opendir("/dev/shm");
    if (dir == NULL) return found;
    static char names[256][300];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL && n < 256) {
      if (strncmp(e->d_name, g_prefix, strlen(g_prefix)) == 0) {
        snprintf(names[n++], sizeof names[0], "/%s", e->d_name);
      }
    }
    closedir(dir);
    size_t unlinked = 0;
    for (size_t i = 0; i < n; ++i) {
      if (shm_unlink(names[i]) == 0) ++unlinked;
    }
    found += unlinked;
    if (n < 256 || unlinked == 0) return found;
  }
}

/* After a failure or an interruption: the live processes killed, the dead
 * owners' records reaped (their objects and journals), anything else of
 * this run swept, the state directory removed if empty. */
static void cleanup(void) {
  static int once;
  if (once++) return;
  kill_live();
  triton_shm_options opts;
  if (TRITON_SHM_OPTIONS_INIT(&opts) == TRITON_SHM_OK) {
    opts.backend = TRITON_SHM_BACKEND_SYSTEM;
    opts.state_dir = g_state_dir;
    triton_shm_reap_report report;
    triton_shm_reap_stale_sized(&opts, &report, sizeof report);
  }
  sweep_leftovers();
  rmdir(g_state_dir);
}

static void stop_now(void) {
  cleanup();
  fprintf(stderr, "triton_shm_reap_bench: interrupted; cleaned up\n");
  exit(1);
}

/* ------------------------------------------------------------ main */

typedef struct {
  int processes, records;
} Case;

int main(int argc, char **argv) {
  int quick = 0, wanted = 1, one_case = 0;
  Case custom = {0, 0};
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--quick") == 0) {
      quick = 1;
    } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
      wanted = 0;
      for (const char *p = argv[++i]; *p != '\0';) {
        char *end = NULL;
        if (strtol(p, &end, 10) == 9) wanted = 1;
        if (end == p) {
          fprintf(stderr, "--only takes numbers like 1,9\n");
          return 2;
        }
        p = *end == ',' ? end + 1 : end;
      }
    } else if (strcmp(argv[i], "--case") == 0 && i + 1 < argc &&
               sscanf(argv[++i], "%d,%d", &custom.processes, &custom.records) == 2 &&
               custom.processes >= 0 && custom.records >= DEAD_OWNERS) {
      one_case = 1;
    } else {
      fprintf(stderr, "usage: %s [--quick] [--only N[,N...]] [--case PROCESSES,RECORDS]\n",
              argv[0]);
      return 2;
    }
  }
  if (!wanted) return 0;
  g_main_pid = getpid();
  snprintf(g_prefix, sizeof g_prefix, "tsr%d", (int)getpid());
  const char *tmp = getenv("TMPDIR");
  snprintf(g_state_dir, sizeof g_state_dir, "%s/triton-shm-reap-bench-XXXXXX",
           tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
  if (mkdtemp(g_state_dir) == NULL) die("mkdtemp: %s", strerror(errno));
  /* Children that die of SIGKILL are waited for; none is left a zombie. */
  signal(SIGPIPE, SIG_IGN);
  struct sigaction stop;
  memset(&stop, 0, sizeof stop);
  stop.sa_handler = on_signal; /* no SA_RESTART: a wait returns EINTR */
  sigemptyset(&stop.sa_mask);
  sigaction(SIGINT, &stop, NULL);
  sigaction(SIGTERM, &stop, NULL);

  /* Cases in order of live processes, so each set of live processes is
   * started once and grown: (processes, records). */
  static const Case cases[] = {{0, 1000},   {50, 1000},  {200, 100},
                               {200, 1000}, {200, 5000}, {400, 1000}};
  const Case *list = one_case ? &custom : cases;
  const size_t count = one_case ? 1 : sizeof cases / sizeof cases[0];
  const int rounds = quick ? 3 : 11;
  Timing timings[8];
  int others[8];
  fprintf(stderr, "9. one reap of dead records while live processes run (%d rounds a case)\n",
          rounds);
  reap_rounds(list[0].records, 1); /* warm-up, not counted */
  for (size_t c = 0; c < count; ++c) {
    if (list[c].processes < g_live_count) kill_live();
    start_live(list[c].processes - g_live_count);
    if (g_stop) stop_now();
    others[c] = other_processes();
    timings[c] = reap_rounds(list[c].records, rounds);
    fprintf(stderr,
            "  %d live processes (+%d others of this user), %d dead records: %.2f ms (CPU %.2f ms)\n",
            list[c].processes, others[c], list[c].records, timings[c].median, timings[c].cpu);
  }
  kill_live();

  const size_t leftovers = sweep_leftovers();
  const int state_left = rmdir(g_state_dir) != 0;

  printf("| benchmark | triton-shm | baseline | result | goal | holds |\n");
  printf("|---|---|---|---|---|---|\n");
  for (size_t c = 0; c < count; ++c) {
    if (list[c].processes == 200 && list[c].records == 1000) {
      printf("| 9. one reap of 1000 dead records, 200 live processes | %.1f ms |  | %.1f ms | "
             "< %.0f ms | %s |\n",
             timings[c].median, timings[c].median, GOAL_MS,
             timings[c].median < GOAL_MS ? "yes" : "no");
    }
  }
  printf("\n| live processes | other processes of this user | dead records | reap, median "
         "| min | max | CPU, median | per record |\n");
  printf("|---|---|---|---|---|---|---|---|\n");
  for (size_t c = 0; c < count; ++c) {
    printf("| %d | %d | %d | %.2f ms | %.2f ms | %.2f ms | %.2f ms | %.1f us |\n",
           list[c].processes, others[c], list[c].records, timings[c].median, timings[c].min,
           timings[c].max, timings[c].cpu, timings[c].median * 1e3 / list[c].records);
  }
  if (leftovers != 0) die("%zu objects were left in /dev/shm (now removed)", leftovers);
  if (state_left) die("the state directory %s was not empty", g_state_dir);
  return 0;
}
