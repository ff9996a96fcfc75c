// The drop-in SharedMemoryManager for Triton (integration/triton-server)
// against upstream's manager, both built against the same stand-in server
// headers and run in one process, in interleaved rounds (A, B, A, B, ...)
// after a warm-up round of each; the table gives the median of the
// per-round ratios and the median time of each side. Without upstream's
// file (TRITON_SHM_BENCH_UPSTREAM_MANAGER at configure time) only the
// drop-in's times are given.
//
//   triton_manager_bench [--quick] [--only N[,N...]]
//
//   7   register + unregister of one system region (shm_open, fstat, mmap,
//       close, munmap), one thread
//   8   GetMemoryInfo on a system region from 16 threads while one thread
//       registers and unregisters another system region; 8b the same with
//       no registering thread
//   8c  (built with TRITON_ENABLE_GPU, with a GPU) row 8 with CUDA regions
//       exported by a second process; built with TRITON_SHM_CUDA_STANDIN,
//       against the CUDA stand-in, no GPU needed
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "manager_ops.h"
#include "triton/common/logging.h"

#ifdef TRITON_ENABLE_GPU
#include "cuda_exporter.h"
#endif
#ifdef TRITON_SHM_CUDA_STANDIN
#include "cuda_standin.h"
#endif

namespace {

using Clock = std::chrono::steady_clock;

bool g_quick = false;
std::set<std::string> g_only;

bool
Wanted(const std::string& row)
{
  return g_only.empty() || g_only.count(row) != 0;
}

[[noreturn]] void
Die(const std::string& what)
{
  std::fprintf(stderr, "triton_manager_bench: %s\n", what.c_str());
  std::exit(1);
}

double
Median(std::vector<double> v)
{
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

std::string
Time(double ns)
{
  char buf[64];
  if (ns >= 1000) {
    std::snprintf(buf, sizeof buf, "%.2f us", ns / 1000);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f ns", ns);
  }
  return buf;
}

const ManagerOps* const kBaseline =
#ifdef TRITON_SHM_BENCH_HAVE_UPSTREAM
    &upstream_ops;
#else
    nullptr;
#endif

// One measurement: ns per operation for `ops`, kFailed when a call failed,
// kTimedOut when it ran past its deadline.
using Measure = double (*)(const ManagerOps& ops);
const double kFailed = -1;
const double kTimedOut = -2;
// A round of row 8 that takes longer than this is abandoned.
const auto kDeadline = std::chrono::seconds(20);

void
Row(const std::string& label, const std::string& what, Measure measure,
    int rounds, const std::string& goal, double goal_ratio)
{
  if (!Wanted(label)) return;
  std::fprintf(stderr, "%s. %s ...\n", label.c_str(), what.c_str());
  std::vector<double> ours, theirs, ratios;
  auto timed_out = [&](const char* side) {
    std::printf("| %s. %s | %s | | | %s | no |\n", label.c_str(), what.c_str(),
                side, goal.c_str());
    std::fflush(stdout);
  };
  if (measure(dropin_ops) == kTimedOut) {
    return timed_out("the drop-in: a round ran past 20 s");
  }
  if (kBaseline != nullptr && measure(*kBaseline) == kTimedOut) {
    return timed_out("upstream: a round ran past 20 s");
  }
  for (int i = 0; i < rounds; i++) {
    const double a = measure(dropin_ops);
    if (a == kTimedOut) return timed_out("the drop-in: a round ran past 20 s");
    if (a < 0) Die(what + ": the drop-in failed");
    ours.push_back(a);
    if (kBaseline != nullptr) {
      const double b = measure(*kBaseline);
      if (b == kTimedOut) return timed_out("upstream: a round ran past 20 s");
      if (b < 0) Die(what + ": upstream's manager failed");
      theirs.push_back(b);
      ratios.push_back(a / b);
    }
  }
  if (kBaseline == nullptr) {
    std::printf("| %s. %s | %s | (upstream not built) |  |  |  |\n",
                label.c_str(), what.c_str(), Time(Median(ours)).c_str());
    return;
  }
  const double ratio = Median(ratios);
  std::printf("| %s. %s | %s | %s | %.3fx | %s | %s |\n", label.c_str(),
              what.c_str(), Time(Median(ours)).c_str(),
              Time(Median(theirs)).c_str(), ratio, goal.c_str(),
              goal_ratio <= 0 ? "(info)" : ratio <= goal_ratio ? "yes" : "no");
  std::fflush(stdout);
}

// ---- system regions ----------------------------------------------------------

struct ClientObject {
  std::string key;
  void* base = MAP_FAILED;
  size_t size = 0;
  explicit ClientObject(const std::string& suffix, size_t bytes)
      : key("/tmb" + std::to_string(getpid()) + "_" + suffix), size(bytes)
  {
    int fd = shm_open(key.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd == -1 || ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
      Die("creating " + key + ": " + std::strerror(errno));
    }
    base = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (base == MAP_FAILED) Die("mapping " + key);
    std::memset(base, 1, bytes);
  }
  ~ClientObject()
  {
    munmap(base, size);
    shm_unlink(key.c_str());
  }
};

ClientObject* g_region_a = nullptr;
ClientObject* g_region_b = nullptr;

double
RegisterUnregister(const ManagerOps& ops)
{
  const int pairs = g_quick ? 100 : 500;
  void* manager = ops.make();
  const auto start = Clock::now();
  for (int i = 0; i < pairs; i++) {
    if (!ops.register_system(manager, "input0", g_region_a->key, 0, 65536) ||
        !ops.unregister(manager, "input0", TRITONSERVER_MEMORY_CPU)) {
      ops.destroy(manager);
      return kFailed;
    }
  }
  const double ns =
      std::chrono::duration<double, std::nano>(Clock::now() - start).count();
  ops.destroy(manager);
  return ns / pairs;
}

// 16 threads look up "a" while, with `churn`, one thread registers and
// unregisters "b" with `reg`/`unreg` until they finish. ns per lookup as
// each looking thread sees it (elapsed / lookups per thread).
template <typename Register>
double
Lookups(const ManagerOps& ops, void* manager, bool churn, Register reg,
        TRITONSERVER_MemoryType kind, size_t* cycles_out)
{
  const int threads = 16;
  const int lookups = g_quick ? 2000 : 50000;
  std::atomic<bool> go{false};
  std::atomic<int> running{threads};
  std::atomic<bool> failed{false};
  std::atomic<bool> late{false};
  std::atomic<size_t> cycles{0};
  const auto deadline = Clock::now() + kDeadline;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; t++) {
    pool.emplace_back([&] {
      while (!go.load(std::memory_order_acquire)) {
      }
      for (int i = 0; i < lookups; i++) {
        void* address = nullptr;
        if (!ops.lookup(manager, "a", 0, 64, &address)) failed = true;
        if (i % 256 == 0 && Clock::now() > deadline) {
          late = true;
          break;
        }
      }
      running.fetch_sub(1);
    });
  }
  std::thread churner;
  if (churn) {
    churner = std::thread([&] {
      while (!go.load(std::memory_order_acquire)) {
      }
      while (running.load() > 0) {
        if (!reg(manager) || !ops.unregister(manager, "b", kind)) {
          failed = true;
          return;
        }
        cycles.fetch_add(1);
      }
    });
  }
  const auto start = Clock::now();
  go.store(true, std::memory_order_release);
  for (std::thread& t : pool) t.join();
  const double ns =
      std::chrono::duration<double, std::nano>(Clock::now() - start).count();
  if (churner.joinable()) churner.join();
  if (cycles_out != nullptr) *cycles_out = cycles.load();
  if (failed) return kFailed;
  return late ? kTimedOut : ns / lookups;
}

double
SystemLookups(const ManagerOps& ops, bool churn)
{
  void* manager = ops.make();
  double ns = kFailed;
  if (ops.register_system(manager, "a", g_region_a->key, 0, 65536)) {
    ns = Lookups(
        ops, manager, churn,
        [&](void* m) {
          return ops.register_system(m, "b", g_region_b->key, 0, 65536);
        },
        TRITONSERVER_MEMORY_CPU, nullptr);
  }
  ops.destroy(manager);
  return ns;
}

double
SystemLookupsChurn(const ManagerOps& ops)
{
  return SystemLookups(ops, true);
}

double
SystemLookupsQuiet(const ManagerOps& ops)
{
  return SystemLookups(ops, false);
}

#ifdef TRITON_ENABLE_GPU
CudaExporter* g_cuda_a = nullptr;
CudaExporter* g_cuda_b = nullptr;

double
CudaLookupsChurn(const ManagerOps& ops)
{
  void* manager = ops.make();
  double ns = kFailed;
  if (ops.register_cuda(manager, "a", &g_cuda_a->handle(), 1 << 20, 0)) {
    size_t cycles = 0;
    ns = Lookups(
        ops, manager, true,
        [&](void* m) {
          return ops.register_cuda(m, "b", &g_cuda_b->handle(), 1 << 20, 0);
        },
        TRITONSERVER_MEMORY_GPU, &cycles);
    std::fprintf(stderr, "  %s: %zu register+unregister cycles meanwhile\n",
                 ops.name, cycles);
  }
  ops.destroy(manager);
  return ns;
}
#endif

}  // namespace

int
main(int argc, char** argv)
{
#ifdef TRITON_ENABLE_GPU
  MaybeRunCudaExporter(argc, argv);
#endif
  for (int i = 1; i < argc; i++) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      g_quick = true;
    } else if (std::strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
      std::string list = argv[++i];
      size_t at = 0;
      while (at <= list.size()) {
        const size_t comma = list.find(',', at);
        const std::string item =
            list.substr(at, comma == std::string::npos ? std::string::npos
                                                       : comma - at);
        if (!item.empty()) g_only.insert(item);
        if (comma == std::string::npos) break;
        at = comma + 1;
      }
    } else {
      std::fprintf(stderr, "usage: %s [--quick] [--only N[,N...]]\n", argv[0]);
      return 2;
    }
  }
  // "--only 8" also means 8b (and 8c).
  if (g_only.count("8")) {
    g_only.insert("8b");
    g_only.insert("8c");
  }
  if (g_only.count("7") == 0 && g_only.count("8") == 0 &&
      g_only.count("8b") == 0 && g_only.count("8c") == 0 && !g_only.empty()) {
    return 0;
  }
  // As a server started without --log-verbose (the default).
  triton::common::standin::SetVerboseLevel(0);
  ClientObject a("a", 65536), b("b", 65536);
  g_region_a = &a;
  g_region_b = &b;
  std::printf("\nTriton manager: the drop-in / %s (%u CPUs)\n\n",
              kBaseline != nullptr ? "upstream's manager" : "(upstream not built)",
              std::thread::hardware_concurrency());
  std::printf("| benchmark | drop-in | upstream | result | goal | holds |\n");
  std::printf("|---|---|---|---|---|---|\n");
  const int rounds = g_quick ? 3 : 21;
  Row("7", "register + unregister, system region, 64 KiB",
      RegisterUnregister, rounds, "<= 1.02x", 1.02);
  Row("8",
      "GetMemoryInfo x 16 threads, system region, while one thread "
      "registers/unregisters another",
      SystemLookupsChurn, g_quick ? 3 : 21, "<= 1.02x", 1.02);
  Row("8b", "GetMemoryInfo x 16 threads, system region, nothing else",
      SystemLookupsQuiet, g_quick ? 3 : 21, "(info)", 0);
#ifdef TRITON_ENABLE_GPU
  if (Wanted("8c")) {
    int devices = 0;
#ifdef TRITON_SHM_CUDA_STANDIN
    const std::string cuda_region =
        "CUDA stand-in region (IPC open and close " +
        std::to_string(triton_cuda_standin_ipc_cost_us()) + " us each)";
#else
    const std::string cuda_region = "CUDA region";
#endif
    if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
      std::printf("| 8c. (CUDA) | skipped: no CUDA device |  |  |  |  |\n");
    } else {
      CudaExporter ca, cb;
      if (!ca.Start(1 << 20, 0, 1) || !cb.Start(1 << 20, 0, 2)) {
        Die("the CUDA exporters did not start");
      }
      g_cuda_a = &ca;
      g_cuda_b = &cb;
      Row("8c",
          "GetMemoryInfo x 16 threads, " + cuda_region +
              ", while one thread registers/unregisters another",
          CudaLookupsChurn, g_quick ? 3 : 7, "<= 1.02x", 1.02);
    }
  }
#endif
  return 0;
}
