// The drop-in's CUDA path with real CUDA IPC: a second process (the
// client) allocates device memory, fills it with a known pattern and
// exports a cudaIpcMemHandle_t; this process registers it with the manager
// and reads it back through GetMemoryInfo, as Triton's
// qa/L0_cuda_shared_memory and the aio tests of qa/L0_grpc drive a server.
// Scenarios named l0_* mirror a qa/ test (see ../QA.md).
//
//   manager_scenarios_cuda [--only SCENARIO] [--list]
//
// Exits 77 (CTest: skipped) with a message when the machine has no CUDA
// device; 1 if a scenario failed. Built with TRITON_SHM_CUDA_STANDIN and
// linked against cuda_standin.cpp instead of the CUDA runtime
// (manager_scenarios_cuda_standin), it runs without a GPU and also fails a
// scenario that leaves an IPC handle open.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cuda_exporter.h"
#ifdef TRITON_SHM_CUDA_STANDIN
#include "cuda_standin.h"
#include "wait_until.h"
#endif
#include "metrics.h"
#include "shared_memory_manager.h"
#include "triton/common/logging.h"

using triton::common::TritonJson;
using triton::server::SharedMemoryManager;
namespace metrics = triton::core::standin;

namespace {

int failures = 0;

#define CHECK(cond)                                                       \
  do {                                                                    \
    if (!(cond)) {                                                        \
      std::fprintf(stderr, "  %s:%d: check failed: %s\n", __FILE__,      \
                   __LINE__, #cond);                                      \
      failures++;                                                         \
    }                                                                     \
  } while (false)

#define CHECK_OK(expr)                                                    \
  do {                                                                    \
    TRITONSERVER_Error* e__ = (expr);                                     \
    if (e__ != nullptr) {                                                 \
      std::fprintf(stderr, "  %s:%d: %s failed: %s\n", __FILE__,         \
                   __LINE__, #expr, TRITONSERVER_ErrorMessage(e__));      \
      TRITONSERVER_ErrorDelete(e__);                                      \
      failures++;                                                         \
    }                                                                     \
  } while (false)

// A failure with `code` whose message is exactly `message`.
#define CHECK_ERROR(expr, code, message) \
  CheckError((expr), (code), (message), #expr, __LINE__)

void
CheckError(
    TRITONSERVER_Error* err, TRITONSERVER_Error_Code code,
    const std::string& message, const char* what, int line)
{
  if (err == nullptr) {
    std::fprintf(stderr, "  line %d: %s succeeded; expected an error\n", line,
                 what);
    failures++;
    return;
  }
  if (TRITONSERVER_ErrorCode(err) != code ||
      message != TRITONSERVER_ErrorMessage(err)) {
    std::fprintf(stderr, "  line %d: %s gave %d '%s'; expected %d '%s'\n",
                 line, what, static_cast<int>(TRITONSERVER_ErrorCode(err)),
                 TRITONSERVER_ErrorMessage(err), static_cast<int>(code),
                 message.c_str());
    failures++;
  }
  TRITONSERVER_ErrorDelete(err);
}

// True when `err` is an error (which it frees): for calls that must fail,
// whatever their message.
bool
Fails(TRITONSERVER_Error* err)
{
  if (err == nullptr) return false;
  TRITONSERVER_ErrorDelete(err);
  return true;
}

const size_t kSize = 1 << 20;
unsigned seed_counter = 0;

std::string
InvalidArgs(const std::string& name)
{
  return "failed to register shared memory region '" + name +
         "': invalid args";
}

size_t
CudaStatusCount(SharedMemoryManager& manager)
{
  TritonJson::Value status(TritonJson::ValueType::ARRAY);
  TRITONSERVER_Error* err =
      manager.GetStatus("", TRITONSERVER_MEMORY_GPU, &status);
  if (err != nullptr) {
    TRITONSERVER_ErrorDelete(err);
    failures++;
    return SIZE_MAX;
  }
  return status.ArraySize();
}

// A client's allocation of kSize bytes on device 0, exported.
struct Allocation {
  CudaExporter exporter;
  unsigned seed = ++seed_counter;
  bool ok = exporter.Start(kSize, 0, seed);
  const cudaIpcMemHandle_t* handle() const { return &exporter.handle(); }
};

// The bytes [offset, offset + n) of a registered region, read back from
// the device through the address GetMemoryInfo gives, match the client's
// pattern.
bool
ReadsBack(SharedMemoryManager& manager, const std::string& name,
          size_t offset, size_t n, unsigned seed,
          std::shared_ptr<const SharedMemoryManager::SharedMemoryInfo>* held =
              nullptr)
{
  void* address = nullptr;
  TRITONSERVER_MemoryType type = TRITONSERVER_MEMORY_CPU;
  int64_t device = -1;
  TRITONSERVER_Error* err = manager.GetMemoryInfo(
      name, offset, n, &address, &type, &device, held);
  if (err != nullptr) {
    std::fprintf(stderr, "  GetMemoryInfo: %s\n", TRITONSERVER_ErrorMessage(err));
    TRITONSERVER_ErrorDelete(err);
    return false;
  }
  if (type != TRITONSERVER_MEMORY_GPU || device != 0) return false;
  std::vector<unsigned char> host(n);
  if (cudaMemcpy(host.data(), address, n, cudaMemcpyDeviceToHost) !=
      cudaSuccess) {
    return false;
  }
  for (size_t i = 0; i < n; i++) {
    if (host[i] != CudaPatternByte(offset + i, seed)) return false;
  }
  return true;
}

// ---- scenarios -----------------------------------------------------------------

// qa/L0_cuda_shared_memory test_valid_create_set_register and
// CudaSharedMemoryTestRawHttpRequest.test_valid_cshm_handle.
void
ValidCreateSetRegister()
{
  Allocation a;
  if (!a.ok) return (void)failures++;
  SharedMemoryManager manager(true);
  CHECK_OK(manager.RegisterCUDASharedMemory("dummy_data", a.handle(), 64, 0));
  TritonJson::Value status(TritonJson::ValueType::ARRAY);
  CHECK_OK(manager.GetStatus("dummy_data", TRITONSERVER_MEMORY_GPU, &status));
  CHECK(status.ArraySize() == 1);
  if (status.ArraySize() == 1) {
    std::string name;
    uint64_t device = 9, byte_size = 0;
    CHECK(status.At(0).HasString("name", &name) && name == "dummy_data");
    CHECK(status.At(0).HasUInt("device_id", &device) && device == 0);
    CHECK(status.At(0).HasUInt("byte_size", &byte_size) && byte_size == 64);
    CHECK(status.At(0).MemberCount() == 3);
  }
  CHECK(ReadsBack(manager, "dummy_data", 0, 64, a.seed));
  CHECK(ReadsBack(manager, "dummy_data", 60, 4, a.seed));
  cudaIpcMemHandle_t* handle = nullptr;
  CHECK_OK(manager.GetCUDAHandle("dummy_data", &handle));
  CHECK(handle != nullptr &&
        std::memcmp(handle, a.handle(), sizeof *handle) == 0);
  TritonJson::Value system(TritonJson::ValueType::ARRAY);
  CHECK_ERROR(
      manager.GetStatus("dummy_data", TRITONSERVER_MEMORY_CPU, &system),
      TRITONSERVER_ERROR_NOT_FOUND,
      "The region named 'dummy_data' is registered as CUDA shared memory, "
      "not system shared memory");
}

// qa/L0_cuda_shared_memory test_unregister_before_register and
// test_unregister_after_register.
void
UnregisterBeforeAndAfterRegister()
{
  Allocation a;
  if (!a.ok) return (void)failures++;
  SharedMemoryManager manager(true);
  CHECK_OK(manager.Unregister("dummy_data", TRITONSERVER_MEMORY_GPU));
  CHECK_OK(manager.RegisterCUDASharedMemory("dummy_data", a.handle(), 8, 0));
  CHECK(CudaStatusCount(manager) == 1);
  CHECK_OK(manager.Unregister("dummy_data", TRITONSERVER_MEMORY_GPU));
  CHECK(CudaStatusCount(manager) == 0);
  // The handle opens again once closed.
  CHECK_OK(manager.RegisterCUDASharedMemory("dummy_data", a.handle(), 8, 0));
  CHECK(ReadsBack(manager, "dummy_data", 0, 8, a.seed));
}

// qa/L0_cuda_shared_memory test_reregister_after_register.
void
ReregisterAfterRegister()
{
  Allocation a;
  if (!a.ok) return (void)failures++;
  SharedMemoryManager manager(true);
  CHECK_OK(manager.RegisterCUDASharedMemory("dummy_data", a.handle(), 8, 0));
  CHECK_ERROR(manager.RegisterCUDASharedMemory("dummy_data", a.handle(), 8, 0),
              TRITONSERVER_ERROR_ALREADY_EXISTS,
              "shared memory region 'dummy_data' already in manager");
  CHECK(CudaStatusCount(manager) == 1);
  CHECK(ReadsBack(manager, "dummy_data", 0, 8, a.seed));
}

// qa/L0_cuda_shared_memory test_register_out_of_bound: a size past the
// allocation. The handle the refusal opened is closed again, so it
// registers afterwards.
void
RegisterOutOfBound()
{
  Allocation a;
  if (!a.ok) return (void)failures++;
  SharedMemoryManager manager(true);
  CHECK_ERROR(
      manager.RegisterCUDASharedMemory("input0_data", a.handle(), kSize + 1, 0),
      TRITONSERVER_ERROR_INVALID_ARG, InvalidArgs("input0_data"));
  CHECK(CudaStatusCount(manager) == 0);
  CHECK_OK(manager.RegisterCUDASharedMemory("input0_data", a.handle(), kSize, 0));
  CHECK(ReadsBack(manager, "input0_data", kSize - 16, 16, a.seed));
}

// qa/L0_grpc/python_grpc_aio_test.py test_register_cuda_shared_memory: an
// empty name, an all-zero handle (what an empty raw_handle gives), size 0;
// the regex is "failed to register shared memory region.*invalid args".
// A handle of junk bytes reads the same.
void
GrpcAioRegisterCudaSharedMemory()
{
  SharedMemoryManager manager(true);
  cudaIpcMemHandle_t zero;
  std::memset(&zero, 0, sizeof zero);
  CHECK_ERROR(manager.RegisterCUDASharedMemory("", &zero, 0, 0),
              TRITONSERVER_ERROR_INVALID_ARG, InvalidArgs(""));
  cudaIpcMemHandle_t junk;
  for (size_t i = 0; i < sizeof junk; i++) {
    reinterpret_cast<unsigned char*>(&junk)[i] =
        static_cast<unsigned char>(i * 37 + 11);
  }
  CHECK_ERROR(manager.RegisterCUDASharedMemory("junk", &junk, 64, 0),
              TRITONSERVER_ERROR_INVALID_ARG, InvalidArgs("junk"));
  CHECK(CudaStatusCount(manager) == 0);
}

// Beyond upstream: a device_id the server does not have is refused (upstream
// registered memory of the current device and reported the id given).
void
ADeviceTheServerLacksIsRefused()
{
  Allocation a;
  if (!a.ok) return (void)failures++;
  int devices = 0;
  CHECK(cudaGetDeviceCount(&devices) == cudaSuccess);
  SharedMemoryManager manager(true);
  for (int device : {devices, devices + 8, -1}) {
    CHECK_ERROR(manager.RegisterCUDASharedMemory("a", a.handle(), 8, device),
                TRITONSERVER_ERROR_INVALID_ARG, InvalidArgs("a"));
  }
  CHECK(CudaStatusCount(manager) == 0);
  bool logged = false;
  for (const std::string& line : triton::common::standin::LogLines()) {
    if (line.find("is not a CUDA device of this server") != std::string::npos) {
      logged = true;
    }
  }
  CHECK(logged);
}

// qa/L0_cuda_shared_memory test_infer_offset_out_of_bound and
// test_infer_byte_size_out_of_bound.
void
InferOffsetAndByteSizeOutOfBound()
{
  Allocation a;
  if (!a.ok) return (void)failures++;
  SharedMemoryManager manager(true);
  CHECK_OK(manager.RegisterCUDASharedMemory("output0_data", a.handle(), 64, 0));
  void* address = nullptr;
  TRITONSERVER_MemoryType type;
  int64_t device;
  CHECK_ERROR(manager.GetMemoryInfo("output0_data", 64, 4, &address, &type,
                                    &device, nullptr),
              TRITONSERVER_ERROR_INVALID_ARG,
              "Invalid offset for shared memory region: 'output0_data'");
  CHECK_ERROR(manager.GetMemoryInfo("output0_data", 1, 64, &address, &type,
                                    &device, nullptr),
              TRITONSERVER_ERROR_INVALID_ARG,
              "Invalid offset + byte size for shared memory region: "
              "'output0_data'");
}

// qa/L0_cuda_shared_memory TestCudaSharedMemoryUnregister (during
// inference, single and multiple requests): unregister waits for the
// request, and the region stays readable meanwhile.
void
UnregisterDuringInference()
{
  Allocation a;
  if (!a.ok) return (void)failures++;
  SharedMemoryManager manager(true);
  CHECK_OK(manager.RegisterCUDASharedMemory("input0_data", a.handle(), 64, 0));
  std::shared_ptr<const SharedMemoryManager::SharedMemoryInfo> first, second;
  CHECK(ReadsBack(manager, "input0_data", 0, 32, a.seed, &first));
  CHECK(ReadsBack(manager, "input0_data", 32, 32, a.seed, &second));
  CHECK_OK(manager.UnregisterAll(TRITONSERVER_MEMORY_GPU));
  CHECK(first != nullptr && first->awaiting_unregister_);
  CHECK(CudaStatusCount(manager) == 1);
  first.reset();
  CHECK_OK(manager.Unregister("input0_data", TRITONSERVER_MEMORY_GPU));
  CHECK(CudaStatusCount(manager) == 1);
  CHECK(ReadsBack(manager, "input0_data", 0, 64, a.seed));
  second.reset();
  CHECK_OK(manager.Unregister("input0_data", TRITONSERVER_MEMORY_GPU));
  CHECK(CudaStatusCount(manager) == 0);
}

// qa/L0_cuda_shared_memory test_unregisterall: every CUDA region goes, a
// system one stays.
void
UnregisterAll()
{
  Allocation a, b;
  if (!a.ok || !b.ok) return (void)failures++;
  SharedMemoryManager manager(true);
  CHECK_OK(manager.RegisterCUDASharedMemory("input0_data", a.handle(), 64, 0));
  CHECK_OK(manager.RegisterCUDASharedMemory("input1_data", b.handle(), 64, 0));
  CHECK_OK(manager.RegisterCUDASharedMemory("output0_data", a.handle(), 32, 0));
  CHECK(CudaStatusCount(manager) == 3);
  CHECK_OK(manager.UnregisterAll(TRITONSERVER_MEMORY_GPU));
  CHECK(CudaStatusCount(manager) == 0);
  CHECK_OK(manager.UnregisterAll(TRITONSERVER_MEMORY_GPU));
}

// The destructor closes every handle: a new manager opens them again, and
// the clients free their allocations and exit normally.
void
TheDestructorClosesEveryHandle()
{
  Allocation a;
  if (!a.ok) return (void)failures++;
  {
    SharedMemoryManager manager(true);
    CHECK_OK(manager.RegisterCUDASharedMemory("a", a.handle(), 64, 0));
    CHECK_OK(manager.RegisterCUDASharedMemory("b", a.handle(), 64, 0));
  }
  SharedMemoryManager again(true);
  CHECK_OK(again.RegisterCUDASharedMemory("a", a.handle(), 64, 0));
  CHECK(ReadsBack(again, "a", 0, 64, a.seed));
}

// The metrics count CUDA regions under kind="cuda", and refusals by
// reason.
void
MetricsCountCudaRegions()
{
  Allocation a;
  if (!a.ok) return (void)failures++;
  auto value = [](const char* family, const std::string& labels) {
    const double v = metrics::MetricValue(family, labels);
    return v < 0 ? 0 : v;
  };
  SharedMemoryManager manager(true);
  const double regions0 = value("nv_shared_memory_regions", "kind=cuda");
  const double bytes0 = value("nv_shared_memory_mapped_bytes", "kind=cuda");
  const double device0 = value("nv_shared_memory_registration_failures",
                               "kind=cuda,reason=INVALID_DEVICE");
  const double oob0 = value("nv_shared_memory_registration_failures",
                            "kind=cuda,reason=OUT_OF_BOUNDS");
  CHECK_OK(manager.RegisterCUDASharedMemory("a", a.handle(), 4096, 0));
  CHECK(value("nv_shared_memory_regions", "kind=cuda") == regions0 + 1);
  CHECK(value("nv_shared_memory_mapped_bytes", "kind=cuda") == bytes0 + 4096);
  CHECK(Fails(manager.RegisterCUDASharedMemory("b", a.handle(), 8, 99)));
  CHECK(Fails(manager.RegisterCUDASharedMemory("c", a.handle(), kSize + 1, 0)));
  CHECK(value("nv_shared_memory_registration_failures",
              "kind=cuda,reason=INVALID_DEVICE") == device0 + 1);
  CHECK(value("nv_shared_memory_registration_failures",
              "kind=cuda,reason=OUT_OF_BOUNDS") == oob0 + 1);
  CHECK_OK(manager.Unregister("a", TRITONSERVER_MEMORY_GPU));
  CHECK(value("nv_shared_memory_regions", "kind=cuda") == regions0);
  CHECK(value("nv_shared_memory_mapped_bytes", "kind=cuda") == bytes0);
}

#ifdef TRITON_SHM_CUDA_STANDIN
// Beyond upstream, which holds its mutex across the CUDA calls: while a
// registration's cudaIpcOpenMemHandle, or an unregistration's
// cudaIpcCloseMemHandle, is under way, the manager answers other requests.
// The stand-in makes each IPC call last a second; every request made
// meanwhile must return while that call is still under way (a manager that
// held its mutex across it would answer only after it).
void
RequestsAreAnsweredDuringCudaCalls()
{
  Allocation a, b;
  if (!a.ok || !b.ok) return (void)failures++;
  SharedMemoryManager manager(true);
  CHECK_OK(manager.RegisterCUDASharedMemory("a", a.handle(), 64, 0));
  auto answered_during_the_call = [&](const char* call) {
    if (!WaitUntil([] { return triton_cuda_standin_ipc_calls_in_progress() != 0; })) {
      std::fprintf(stderr, "  %s never started\n", call);
      failures++;
      return;
    }
    CHECK(ReadsBack(manager, "a", 0, 64, a.seed));
    CHECK(CudaStatusCount(manager) != SIZE_MAX);
    cudaIpcMemHandle_t* handle = nullptr;
    CHECK_OK(manager.GetCUDAHandle("a", &handle));
    if (triton_cuda_standin_ipc_calls_in_progress() != 1) {
      std::fprintf(stderr, "  the requests were answered only after %s\n", call);
      failures++;
    }
  };
  triton_cuda_standin_set_ipc_cost_us(1000000);
  TRITONSERVER_Error* registered = nullptr;
  std::thread registering([&] {
    registered = manager.RegisterCUDASharedMemory("b", b.handle(), 64, 0);
  });
  answered_during_the_call("cudaIpcOpenMemHandle");
  registering.join();
  CHECK_OK(registered);
  TRITONSERVER_Error* unregistered = nullptr;
  std::thread unregistering([&] {
    unregistered = manager.Unregister("b", TRITONSERVER_MEMORY_GPU);
  });
  answered_during_the_call("cudaIpcCloseMemHandle");
  unregistering.join();
  CHECK_OK(unregistered);
  triton_cuda_standin_set_ipc_cost_us(0);
}
#endif

struct Scenario {
  const char* name;
  void (*run)();
};

const Scenario kScenarios[] = {
    {"l0_cuda_valid_create_set_register", ValidCreateSetRegister},
    {"l0_cuda_unregister_before_and_after_register",
     UnregisterBeforeAndAfterRegister},
    {"l0_cuda_reregister_after_register", ReregisterAfterRegister},
    {"l0_cuda_register_out_of_bound", RegisterOutOfBound},
    {"l0_grpc_aio_register_cuda_shared_memory", GrpcAioRegisterCudaSharedMemory},
    {"a_device_the_server_lacks_is_refused", ADeviceTheServerLacksIsRefused},
    {"l0_cuda_infer_offset_and_byte_size_out_of_bound",
     InferOffsetAndByteSizeOutOfBound},
    {"l0_cuda_unregister_shm_during_inference", UnregisterDuringInference},
    {"l0_cuda_unregisterall", UnregisterAll},
    {"the_destructor_closes_every_handle", TheDestructorClosesEveryHandle},
    {"metrics_count_cuda_regions", MetricsCountCudaRegions},
#ifdef TRITON_SHM_CUDA_STANDIN
    {"requests_are_answered_during_cuda_calls",
     RequestsAreAnsweredDuringCudaCalls},
#endif
};

}  // namespace

int
main(int argc, char** argv)
{
  MaybeRunCudaExporter(argc, argv);
  std::string only;
  for (int i = 1; i < argc; i++) {
    const std::string arg = argv[i];
    if (arg == "--only" && i + 1 < argc) {
      only = argv[++i];
    } else if (arg == "--list") {
      for (const Scenario& s : kScenarios) std::printf("%s\n", s.name);
      return 0;
    } else {
      std::fprintf(stderr, "usage: %s [--only SCENARIO] [--list]\n", argv[0]);
      return 2;
    }
  }
  int devices = 0;
  const cudaError_t counted = cudaGetDeviceCount(&devices);
  if (counted == cudaErrorInsufficientDriver &&
      access("/proc/driver/nvidia/version", R_OK) == 0) {
    // The runtime says the same when there is no driver at all; here one is
    // loaded, older than this runtime needs.
    std::printf("skipped: the NVIDIA driver here is older than CUDA runtime "
                "%d.%d needs (%s); build against the machine's own CUDA "
                "(TRITON_SHM_CUDA_ROOT, e.g. /usr/local/cuda)\n",
                CUDART_VERSION / 1000, CUDART_VERSION % 1000 / 10,
                cudaGetErrorString(counted));
    return 77;
  }
  if (counted != cudaSuccess || devices == 0) {
    std::printf("skipped: no CUDA device here (%s); the CUDA scenarios need "
                "a GPU and its driver\n",
                counted != cudaSuccess ? cudaGetErrorString(counted)
                                       : "0 devices");
    return 77;
  }
  cudaDeviceProp prop;
  if (cudaGetDeviceProperties(&prop, 0) == cudaSuccess) {
    std::printf("CUDA: %d device(s); device 0: %s\n", devices, prop.name);
  }
  int passed = 0, failed = 0;
  for (const Scenario& s : kScenarios) {
    if (!only.empty() && only != s.name) continue;
    failures = 0;
#ifdef TRITON_SHM_CUDA_STANDIN
    const int open_before = triton_cuda_standin_open_handles();
#endif
    s.run();
#ifdef TRITON_SHM_CUDA_STANDIN
    // Every manager of the scenario is gone: so must the IPC handles it
    // opened be.
    const int left_open = triton_cuda_standin_open_handles() - open_before;
    if (left_open != 0) {
      std::fprintf(stderr, "  %d IPC handle(s) left open\n", left_open);
      failures++;
    }
#endif
    if (failures == 0) {
      passed++;
      std::printf("PASS %s\n", s.name);
    } else {
      failed++;
      std::printf("FAIL %s (%d check(s))\n", s.name, failures);
    }
  }
  std::printf("%d CUDA scenario(s): %d passed, %d failed\n", passed + failed,
              passed, failed);
  return failed == 0 && passed > 0 ? 0 : 1;
}
