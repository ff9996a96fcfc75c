// triton-shm benchmarks: the library through its C ABI against the seed's
// C++ design and against the bare system calls.
//
// Every comparison runs its two sides in interleaved rounds (A, B, A, B, ...)
// after one warm-up round of each, takes the ratio A/B of every round, and
// reports the median of those ratios next to the median time per operation
// of each side. BENCHMARKS.md says what each benchmark times and why.
//
//   triton_shm_bench [--quick] [--only N[,N...]]
//
// --quick runs fewer rounds (a smoke test, not a measurement). The table goes
// to stdout, progress to stderr. Exits 1 if the benchmark could not run
// (a call failed, or something was left in /dev/shm); a goal that does not
// hold is reported in the table, not in the exit status.

#include <dirent.h>
#if defined(__APPLE__)
#include <malloc/malloc.h>
#else
#include <malloc.h>
#endif
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "raw_shm.h"
#include "seed.hpp"
#include "triton_shm.h"

#ifndef TRITON_SHM_BENCH_STRIPPED_LIB
#define TRITON_SHM_BENCH_STRIPPED_LIB ""
#endif

namespace {

// ---------------------------------------------------------------- plumbing

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "triton_shm_bench: %s\n", what.c_str());
  std::exit(1);
}

std::string LastError() {
  char buf[1024];
  size_t n = 0;
  if (triton_shm_last_error_message(buf, sizeof buf, &n) != TRITON_SHM_OK) return "?";
  return buf;
}

void Check(triton_shm_status s, const std::string& what) {
  if (s != TRITON_SHM_OK) {
    Die(what + ": " + triton_shm_status_name(s) + ": " + LastError());
  }
}

std::string Fmt(const char* format, ...) __attribute__((format(printf, 1, 2)));
std::string Fmt(const char* format, ...) {
  char buf[512];
  va_list args;
  va_start(args, format);
  std::vsnprintf(buf, sizeof buf, format, args);
  va_end(args);
  return buf;
}

double NowNs() {
  return std::chrono::duration<double, std::nano>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Every object this run creates starts with this prefix (after the slash),
// so the final sweep can find leftovers.
std::string g_prefix;
bool g_quick = false;
std::set<int> g_only;
size_t g_page = 4096;

int Rounds(int full) { return g_quick ? std::max(3, full / 8) | 1 : full; }

bool Wanted(int n) { return g_only.empty() || g_only.count(n) != 0; }

// A registry with the given naming policy and journal setting; no reaping,
// so a run never touches another process's state.
triton_shm_registry* NewRegistry(uint32_t naming, bool journal, const std::string& state_dir) {
  triton_shm_options opts;
  Check(TRITON_SHM_OPTIONS_INIT(&opts), "options_init");
  opts.naming_policy = naming;
  opts.backend = TRITON_SHM_BACKEND_SYSTEM;
  opts.journal = journal ? 1 : 0;
  opts.reap_on_create = 0;
  opts.state_dir = state_dir.empty() ? nullptr : state_dir.c_str();
  triton_shm_registry* reg = nullptr;
  Check(triton_shm_registry_new(&opts, &reg), "registry_new");
  return reg;
}

// ---------------------------------------------------------------- results

struct Comparison {
  double ratio;  // median of the per-round ratios A/B
  double a_ns;   // median ns per op, side A
  double b_ns;   // median ns per op, side B
};

// Run `rounds` interleaved rounds of `a` and `b` (each returns the ns its
// timed part took) after one warm-up round of each.
Comparison Compare(int rounds, double ops_a, double ops_b, const std::function<double()>& a,
                   const std::function<double()>& b) {
  a();
  b();
  std::vector<double> ratios, as, bs;
  for (int r = 0; r < rounds; ++r) {
    const double ta = a();
    const double tb = b();
    ratios.push_back(ta / tb);
    as.push_back(ta / ops_a);
    bs.push_back(tb / ops_b);
  }
  return {Median(ratios), Median(as), Median(bs)};
}

struct Row {
  std::string name;
  std::string lib;
  std::string base;
  std::string value;
  std::string goal;
  std::string holds;  // "yes", "no" or "" (informational)
};

std::vector<Row> g_rows;

std::string Ns(double ns) {
  if (ns >= 1e6) return Fmt("%.2f ms", ns / 1e6);
  if (ns >= 1e4) return Fmt("%.1f us", ns / 1e3);
  if (ns >= 100) return Fmt("%.0f ns", ns);
  return Fmt("%.1f ns", ns);
}

void AddRatio(const std::string& name, const Comparison& c, const std::string& unit, double limit,
              const char* goal) {
  g_rows.push_back({name, Ns(c.a_ns) + unit, Ns(c.b_ns) + unit, Fmt("%.3fx", c.ratio),
                    goal ? goal : "", goal ? (c.ratio <= limit ? "yes" : "no") : ""});
  std::fprintf(stderr, "  %-58s %s vs %s: %.3fx\n", name.c_str(), g_rows.back().lib.c_str(),
               g_rows.back().base.c_str(), c.ratio);
}

// ---------------------------------------------------------------- 1. names

const char* const kCorpus[] = {
    // Triton's own examples and perf_analyzer-style keys.
    "/input_0", "/output__1", "/input0", "/output0", "/INPUT__0", "/OUTPUT__1",
    "/input_data", "/output_data", "/ip00", "/op00", "/input_ids", "/attention_mask",
    // Python client (multiprocessing.shared_memory) keys and double slashes.
    "//x", "//psm_3f2a9c1e", "//input_simple", "//output0_data",
    // uuids, bare and slashed.
    "/6f1d2c0e-4a7b-4e2f-9c3d-1b2a3c4d5e6f", "0a9c1f5e-8b3d-4c2a-9f1e-7d6b5a4c3b2a",
    "/triton_shm_7c9e6679-7425-40de-944b-e07fc1f90ae7",
    // Paths with slashes.
    "/models/resnet50/input_0", "/tmp/triton/shm/region_17", "no_leading_slash",
    "/data/shm/batch_00042/input_1", "///multiple///slashes///",
};
constexpr size_t kCorpusSize = sizeof kCorpus / sizeof kCorpus[0];

void BenchNames() {
  std::fprintf(stderr, "1. name normalisation\n");
  std::vector<std::string> keys(kCorpus, kCorpus + kCorpusSize);
  const int reps = 1000;
  const double ops = double(reps) * kCorpusSize;
  volatile size_t sink = 0;

  auto lib = [&] {
    char out[256];
    size_t total = 0;
    const double t0 = NowNs();
    for (int r = 0; r < reps; ++r) {
      for (const std::string& k : keys) {
        size_t n = 0;
        if (triton_shm_normalize_name(k.c_str(), out, sizeof out, &n) != TRITON_SHM_OK) {
          Die("normalize_name failed for " + k);
        }
        total += n + static_cast<unsigned char>(out[1]);
      }
    }
    const double t = NowNs() - t0;
    sink = sink + total;
    return t;
  };
  auto cxx = [&](std::string (*normalize)(const std::string&)) {
    return [&, normalize] {
      size_t total = 0;
      const double t0 = NowNs();
      for (int r = 0; r < reps; ++r) {
        for (const std::string& k : keys) {
          const std::string out = normalize(k);
          total += out.size() + static_cast<unsigned char>(out[1]);
        }
      }
      const double t = NowNs() - t0;
      sink = sink + total;
      return t;
    };
  };

  // Both must agree before anything is timed.
  for (const std::string& k : keys) {
    char out[256];
    Check(triton_shm_normalize_name(k.c_str(), out, sizeof out, nullptr), "normalize " + k);
    if (seed::NormalizeSharedMemoryName(k) != out || seed::NormalizeOnePass(k) != out) {
      Die("the library and the C++ seed disagree on " + k);
    }
  }

  AddRatio("1. normalise, C ABI / seed C++ (std::string)",
           Compare(Rounds(51), ops, ops, lib, cxx(seed::NormalizeSharedMemoryName)), "/name",
           1.0 / 3, "<= 0.333x");
  AddRatio("1b. normalise, C ABI / one-pass C++ (reference)",
           Compare(Rounds(51), ops, ops, lib, cxx(seed::NormalizeOnePass)), "/name", 0, nullptr);
}

// ---------------------------------------------------------------- 2. register

std::vector<std::string> Keys(const char* format, size_t n) {
  std::vector<std::string> keys;
  keys.reserve(n);
  for (size_t i = 0; i < n; ++i) keys.push_back(Fmt(format, g_prefix.c_str(), int(i % 50), int(i)));
  return keys;
}

void BenchRegister(const std::string& state_dir) {
  std::fprintf(stderr, "2. registering 10k names\n");
  const size_t n = 10000;
  // Triton-style keys with an inner slash, so both sides really normalise.
  const std::vector<std::string> keys = Keys("/%s_m%02d/input_%05d", n);

  auto lib = [&](bool journal) {
    return [&, journal] {
      triton_shm_registry* reg = NewRegistry(TRITON_SHM_NAMING_DARWIN, journal, state_dir);
      const double t0 = NowNs();
      for (const std::string& k : keys) {
        if (triton_shm_registry_register(reg, k.c_str(), true) != TRITON_SHM_OK) {
          Die("register " + k + ": " + LastError());
        }
      }
      const double t = NowNs() - t0;
      size_t count = 0;
      Check(triton_shm_registry_count(reg, &count), "count");
      if (count != n) Die("register: count mismatch");
      if (journal) {
        // The objects never existed: the cleanup finds them gone and empties
        // the journal, which the free then removes.
        triton_shm_cleanup_report report;
        Check(triton_shm_registry_cleanup_all(reg, &report), "cleanup_all");
      }
      triton_shm_registry_free(reg);
      return t;
    };
  };
  auto cxx = [&] {
    auto reg = std::make_unique<seed::Registry>();
    const double t0 = NowNs();
    for (const std::string& k : keys) reg->Register(k);
    const double t = NowNs() - t0;
    if (reg->Size() != n) Die("seed register: count mismatch");
    return t;
  };
  // Steady state: one registry per side, filled and emptied once, then
  // timed refilling (and emptied, untimed, after each round). With the
  // journal on, recording reuses slots in pages already mapped.
  auto make_steady = [&](bool journal) {
    triton_shm_registry* reg = NewRegistry(TRITON_SHM_NAMING_DARWIN, journal, state_dir);
    auto fill = [&, reg] {
      for (const std::string& k : keys) {
        if (triton_shm_registry_register(reg, k.c_str(), true) != TRITON_SHM_OK) Die("register: " + LastError());
      }
    };
    auto empty = [reg] {
      triton_shm_cleanup_report report;
      Check(triton_shm_registry_cleanup_all(reg, &report), "cleanup_all");
    };
    fill();
    empty();
    return std::make_pair(reg, [fill, empty] {
      const double t0 = NowNs();
      fill();
      const double t = NowNs() - t0;
      empty();
      return t;
    });
  };
  auto warm_on = make_steady(true);
  auto warm_off = make_steady(false);
  AddRatio("2. register 10k owned, journal off / seed std::set+mutex",
           Compare(Rounds(21), n, n, lib(false), cxx), "/name", 1 / 1.5, "<= 0.667x");
  AddRatio("2b. register 10k owned, journal ON / seed std::set+mutex",
           Compare(Rounds(11), n, n, lib(true), cxx), "/name", 0.8, "<= 0.8x");
  AddRatio("2c. register 10k owned after a cleanup, journal ON / journal off (informational)",
           Compare(Rounds(11), n, n, warm_on.second, warm_off.second), "/name", 0, nullptr);
  triton_shm_registry_free(warm_on.first);
  triton_shm_registry_free(warm_off.first);
}

// ---------------------------------------------------------------- 3. region life

void BenchRegionLife(const std::string& state_dir) {
  std::fprintf(stderr, "3. life of a 64 KiB region\n");
  const size_t size = 64 * 1024;
  const int iters = 300;
  const std::string lib_key = "/" + g_prefix + "_life_lib";
  const std::string raw_key = "/" + g_prefix + "_life_raw";

  // `touched`: bytes written, one byte a page (all of them, or one page).
  auto lib = [&](triton_shm_registry* reg, size_t touched) {
    return [&, reg, touched] {
      const double t0 = NowNs();
      for (int i = 0; i < iters; ++i) {
        triton_shm_region* region = nullptr;
        if (triton_shm_region_create(reg, lib_key.c_str(), size, 0, &region) != TRITON_SHM_OK) {
          Die("region_create: " + LastError());
        }
        raw_touch_pages(triton_shm_region_data(region), touched, g_page);
        if (triton_shm_region_close(region) != TRITON_SHM_OK) Die("region_close: " + LastError());
      }
      return NowNs() - t0;
    };
  };
  auto raw = [&](size_t touched) {
    return [&, touched] {
      const double t0 = NowNs();
      for (int i = 0; i < iters; ++i) {
        const int err = raw_region_life(raw_key.c_str(), size, touched, g_page);
        if (err != 0) Die(Fmt("raw region life: errno %d", err));
      }
      return NowNs() - t0;
    };
  };
  // The bare calls plus the identity protocol's: fstat after the create,
  // and the owner's check before the unlink (Linux: one lstat of the
  // object's file in /dev/shm, as the library makes it; elsewhere
  // shm_open, fstat and close).
  struct stat shm_dir;
  const bool dev_shm = stat("/dev/shm", &shm_dir) == 0 && S_ISDIR(shm_dir.st_mode);
  const std::string check_path = "/dev/shm" + raw_key;
  auto raw_checked = [&](size_t touched) {
    return [&, touched] {
      const double t0 = NowNs();
      for (int i = 0; i < iters; ++i) {
        const int err = raw_region_life_checked(raw_key.c_str(), dev_shm ? check_path.c_str() : nullptr,
                                                size, touched, g_page);
        if (err != 0) Die(Fmt("raw region life with the identity calls: %d", err));
      }
      return NowNs() - t0;
    };
  };

  triton_shm_registry* off = NewRegistry(TRITON_SHM_NAMING_PLATFORM, false, state_dir);
  triton_shm_registry* on = NewRegistry(TRITON_SHM_NAMING_PLATFORM, true, state_dir);
  AddRatio("3. 64 KiB region life, every page, journal off / raw syscalls",
           Compare(Rounds(31), iters, iters, lib(off, size), raw(size)), "/region", 1.03, "<= 1.03x");
  AddRatio("3b. 64 KiB region life, every page, journal ON / raw syscalls",
           Compare(Rounds(31), iters, iters, lib(on, size), raw(size)), "/region", 1.05, "<= 1.05x");
  AddRatio("3c. 64 KiB region life, one page, journal off / raw syscalls",
           Compare(Rounds(31), iters, iters, lib(off, 1), raw(1)), "/region", 1.03, "<= 1.03x");
  AddRatio("3d. 64 KiB region life, one page, journal ON / raw syscalls",
           Compare(Rounds(31), iters, iters, lib(on, 1), raw(1)), "/region", 1.08, "<= 1.08x");
  // Where a miss comes from: the identity protocol's two system calls
  // (3e, 3f) and the library's own work over them (3g, 3h).
  AddRatio("3e. 64 KiB region life, every page, raw + identity calls (fstat, lstat) / raw (info)",
           Compare(Rounds(31), iters, iters, raw_checked(size), raw(size)), "/region", 0, nullptr);
  AddRatio("3f. 64 KiB region life, one page, raw + identity calls (fstat, lstat) / raw (info)",
           Compare(Rounds(31), iters, iters, raw_checked(1), raw(1)), "/region", 0, nullptr);
  AddRatio("3g. 64 KiB region life, one page, journal off / raw + identity calls (info)",
           Compare(Rounds(31), iters, iters, lib(off, 1), raw_checked(1)), "/region", 0, nullptr);
  AddRatio("3h. 64 KiB region life, one page, journal ON / raw + identity calls (info)",
           Compare(Rounds(31), iters, iters, lib(on, 1), raw_checked(1)), "/region", 0, nullptr);
  triton_shm_registry_free(off);
  triton_shm_registry_free(on);
}

// ---------------------------------------------------------------- 4. cleanup

std::vector<const char*> CStrs(const std::vector<std::string>& v) {
  std::vector<const char*> out;
  out.reserve(v.size());
  for (const std::string& s : v) out.push_back(s.c_str());
  return out;
}

void BenchCleanup() {
  std::fprintf(stderr, "4. cleanup-all\n");
  struct Size {
    size_t n;
    int rounds;
  };
  const Size sizes[] = {{1000, 31}, {10000, 11}, {100000, 5}};
  double per_region_lib[3] = {0, 0, 0};
  double per_region_raw[3] = {0, 0, 0};
  for (int s = 0; s < 3; ++s) {
    const size_t n = sizes[s].n;
    std::vector<std::string> names;
    names.reserve(n);
    for (size_t i = 0; i < n; ++i) names.push_back(Fmt("/%s_c%06zu", g_prefix.c_str(), i));
    const std::vector<const char*> c_names = CStrs(names);

    auto lib = [&] {
      int err = raw_create_empty(c_names.data(), n);
      if (err != 0) Die(Fmt("creating %zu objects: errno %d", n, err));
      triton_shm_registry* reg = NewRegistry(TRITON_SHM_NAMING_PLATFORM, false, "");
      for (const char* name : c_names) Check(triton_shm_registry_register(reg, name, true), name);
      triton_shm_cleanup_report report;
      const double t0 = NowNs();
      const triton_shm_status st = triton_shm_registry_cleanup_all(reg, &report);
      const double t = NowNs() - t0;
      Check(st, "cleanup_all");
      if (report.unlinked != n) Die(Fmt("cleanup_all unlinked %zu of %zu", report.unlinked, n));
      triton_shm_registry_free(reg);
      return t;
    };
    auto raw = [&] {
      int err = raw_create_empty(c_names.data(), n);
      if (err != 0) Die(Fmt("creating %zu objects: errno %d", n, err));
      const double t0 = NowNs();
      const size_t unlinked = raw_unlink_all(c_names.data(), n);
      const double t = NowNs() - t0;
      if (unlinked != n) Die(Fmt("raw unlink removed %zu of %zu", unlinked, n));
      return t;
    };
    const Comparison c = Compare(Rounds(sizes[s].rounds), n, n, lib, raw);
    per_region_lib[s] = c.a_ns;
    per_region_raw[s] = c.b_ns;
    AddRatio(Fmt("4. cleanup-all of %zuk / raw shm_unlink loop", n / 1000), c, "/region", 1.05,
             "<= 1.05x");
  }
  const double flat_lib = per_region_lib[2] / per_region_lib[0];
  const double flat_raw = per_region_raw[2] / per_region_raw[0];
  g_rows.push_back({"4d. cleanup time per region, 100k / 1k", Fmt("%.3fx", flat_lib),
                    Fmt("%.3fx", flat_raw), Fmt("%.3fx", flat_lib), "<= 1.3x (library)",
                    flat_lib <= 1.3 ? "yes" : "no"});
}

// ---------------------------------------------------------------- 5. threads

void BenchThreads() {
  std::fprintf(stderr, "5. two threads on one registry\n");
  const size_t per_thread = 20000;
  std::vector<std::string> keys[2];
  for (int t = 0; t < 2; ++t) {
    for (size_t i = 0; i < per_thread; ++i) {
      keys[t].push_back(Fmt("/%s_t%d_%06zu", g_prefix.c_str(), t, i));
    }
  }
  // Not owned: unlink only untracks (owned-only policy), so the benchmark
  // measures the registry and not shm_unlink.
  auto work = [](triton_shm_registry* reg, const std::vector<std::string>& ks) {
    for (const std::string& k : ks) {
      if (triton_shm_registry_register(reg, k.c_str(), false) != TRITON_SHM_OK) std::abort();
      if (triton_shm_registry_unlink(reg, k.c_str()) != TRITON_SHM_OK) std::abort();
    }
  };
  auto one = [&] {
    triton_shm_registry* reg = NewRegistry(TRITON_SHM_NAMING_DARWIN, false, "");
    const double t0 = NowNs();
    work(reg, keys[0]);
    work(reg, keys[1]);
    const double t = NowNs() - t0;
    triton_shm_registry_free(reg);
    return t;
  };
  auto two = [&] {
    triton_shm_registry* reg = NewRegistry(TRITON_SHM_NAMING_DARWIN, false, "");
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t) {
      threads.emplace_back([&, t] {
        ready.fetch_add(1);
        while (!go.load(std::memory_order_acquire)) {
        }
        work(reg, keys[t]);
      });
    }
    while (ready.load() != 2) {
    }
    const double t0 = NowNs();
    go.store(true, std::memory_order_release);
    for (std::thread& th : threads) th.join();
    const double t = NowNs() - t0;
    triton_shm_registry_free(reg);
    return t;
  };
  const double ops = 2.0 * per_thread;  // register+unlink pairs
  const Comparison c = Compare(Rounds(21), ops, ops, two, one);
  g_rows.push_back({"5. 2 threads / 1 thread, register+unlink (time)",
                    Fmt("%.2f M pairs/s", 1e3 / c.a_ns), Fmt("%.2f M pairs/s", 1e3 / c.b_ns),
                    Fmt("%.3fx", c.ratio), "<= 1.0x (throughput not lower)",
                    c.ratio <= 1.0 ? "yes" : "no"});
  std::fprintf(stderr, "  two threads %.1f ns/pair, one thread %.1f ns/pair: %.3fx\n", c.a_ns,
               c.b_ns, c.ratio);
}

// ---------------------------------------------------------------- 6. memory

size_t HeapInUse() {
#if defined(__APPLE__)
  malloc_statistics_t st;
  malloc_zone_statistics(nullptr, &st);  // every zone
  return st.size_in_use;
#else
  const struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
#endif
}

void BenchMemory() {
  std::fprintf(stderr, "6. memory\n");
  const size_t n = 100000;
  std::vector<std::string> names;
  names.reserve(n);
  for (size_t i = 0; i < n; ++i) names.push_back(Fmt("/%s_mem_%06zu", g_prefix.c_str(), i));

  triton_shm_registry* reg = NewRegistry(TRITON_SHM_NAMING_PLATFORM, false, "");
  const size_t before = HeapInUse();
  for (const std::string& name : names) Check(triton_shm_registry_register(reg, name.c_str(), true), name);
  const size_t after = HeapInUse();
  triton_shm_registry_free(reg);
  const double lib_bytes = double(after - before) / n;

  double seed_bytes = 0;
  {
    auto seed_reg = std::make_unique<seed::Registry>();
    const size_t b = HeapInUse();
    for (const std::string& name : names) seed_reg->Register(name);
    seed_bytes = double(HeapInUse() - b) / n;
  }
  g_rows.push_back({"6. heap bytes per tracked region (100k names)", Fmt("%.0f B", lib_bytes),
                    Fmt("%.0f B (seed)", seed_bytes), Fmt("%.0f B", lib_bytes), "<= 256 B",
                    lib_bytes <= 256 ? "yes" : "no"});

  struct stat st;
  const char* path = TRITON_SHM_BENCH_STRIPPED_LIB;
  if (path[0] != '\0' && stat(path, &st) == 0) {
    const double kib = double(st.st_size) / 1024;
    g_rows.push_back({"6b. stripped libtriton_shm.so", Fmt("%.0f KiB", kib), "", Fmt("%.0f KiB", kib),
                      "<= 512 KiB", kib <= 512 ? "yes" : "no"});
  } else {
    g_rows.push_back({"6b. stripped libtriton_shm.so", "not found", "", "", "<= 512 KiB", "no"});
  }
}

// ---------------------------------------------------------------- leftovers

// Unlink anything of this run's left in /dev/shm; returns how many.
size_t SweepLeftovers() {
  size_t found = 0;
  DIR* dir = opendir("/dev/shm");
  if (dir == nullptr) return 0;
  std::vector<std::string> names;
  while (dirent* e = readdir(dir)) {
    if (std::strncmp(e->d_name, g_prefix.c_str(), g_prefix.size()) == 0) names.push_back(e->d_name);
  }
  closedir(dir);
  for (const std::string& name : names) {
    if (shm_unlink(("/" + name).c_str()) == 0) ++found;
  }
  return found;
}

void PrintTable() {
  std::printf("| benchmark | triton-shm | baseline | result | goal | holds |\n");
  std::printf("|---|---|---|---|---|---|\n");
  for (const Row& r : g_rows) {
    std::printf("| %s | %s | %s | %s | %s | %s |\n", r.name.c_str(), r.lib.c_str(), r.base.c_str(),
                r.value.c_str(), r.goal.c_str(), r.holds.empty() ? "(info)" : r.holds.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      g_quick = true;
    } else if (std::strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
      for (const char* p = argv[++i]; *p != '\0';) {
        char* end = nullptr;
        g_only.insert(int(std::strtol(p, &end, 10)));
        p = *end == ',' ? end + 1 : end;
        if (end == p && *p != '\0') Die("--only takes numbers like 1,3");
      }
    } else {
      std::fprintf(stderr, "usage: %s [--quick] [--only N[,N...]]\n", argv[0]);
      return 2;
    }
  }
  g_prefix = Fmt("tsb%d", int(getpid()));
  const long page = sysconf(_SC_PAGESIZE);
  if (page > 0) g_page = size_t(page);

  // Under $TMPDIR, as the library's default state directory is: a run with
  // TMPDIR on a tmpfs measures the journal where /tmp is one.
  const char* tmp = std::getenv("TMPDIR");
  std::string state_template = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/triton-shm-bench-XXXXXX";
  if (mkdtemp(state_template.data()) == nullptr) Die("mkdtemp failed");
  const std::string state_dir = state_template;

  if (Wanted(1)) BenchNames();
  if (Wanted(2)) BenchRegister(state_dir);
  if (Wanted(3)) BenchRegionLife(state_dir);
  if (Wanted(4)) BenchCleanup();
  if (Wanted(5)) BenchThreads();
  if (Wanted(6)) BenchMemory();

  const size_t leftovers = SweepLeftovers();
  const bool state_left = rmdir(state_dir.c_str()) != 0;
  PrintTable();
  if (leftovers != 0) Die(Fmt("%zu objects were left in /dev/shm (now removed)", leftovers));
  if (state_left) Die("the journal state directory " + state_dir + " was not empty");
  return 0;
}
