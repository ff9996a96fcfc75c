// A stand-in for the CUDA runtime, so that the drop-in's CUDA path runs on
// machines without a GPU (CTest triton_manager_cuda_standin; the real
// runtime on a GPU is triton_manager_cuda). "Device memory" is host memory
// in a POSIX shared memory object, and an IPC handle names that object, so
// a handle exported by one process opens in another, as with CUDA.
//
// Only what the drop-in, the scenarios and their exporting process call is
// here, compiled against CUDA's own cuda_runtime_api.h, so each definition
// has the runtime's prototype. Where the scenarios depend on it, it follows
// the runtime's documented behaviour (the header's comments): one device;
// cudaSetDevice refuses an id out of range; a handle opened again in the
// same process returns the same pointer and counts one more reference,
// which cudaIpcCloseMemHandle drops, unmapping at zero; a handle the
// process exported itself does not open there (CUDA IPC handles open only
// in another process); the driver's cuMemGetAddressRange, reached through
// cudaGetDriverEntryPoint, gives the base and size of the allocation a
// pointer lies in.
//
// Beyond CUDA: triton_cuda_standin_open_handles() counts the handles this
// process holds open, so a test can check that every one was closed;
// TRITON_SHM_CUDA_STANDIN_IPC_US (or triton_cuda_standin_set_ipc_cost_us)
// makes each cudaIpcOpenMemHandle and cudaIpcCloseMemHandle take that many
// microseconds more (a sleep, outside the stand-in's own lock), as the real
// calls take tens of microseconds to milliseconds; and
// triton_cuda_standin_ipc_calls_in_progress() says how many of those calls
// are under way, so a test can act while one is.
#include <cuda.h>
#include <cuda_runtime_api.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "cuda_standin.h"

namespace {

const int kDevices = 1;
const char kMagic[8] = {'t', 's', 'm', 'c', 'u', 'd', 'a', '1'};

// The layout of a handle's 64 bytes here.
struct HandleBytes {
  char magic[8];
  uint32_t exporter;  // the exporting process's id
  uint32_t reserved;
  uint64_t size;
  char object[40];  // the shared memory object's name, NUL-terminated
};
static_assert(sizeof(HandleBytes) == sizeof(cudaIpcMemHandle_t),
              "a handle's bytes fit cudaIpcMemHandle_t");

struct Allocation {
  size_t size;
  std::string object;
};

struct Import {
  void* base;
  size_t size;
  int references;
};

std::mutex mu;
std::map<uintptr_t, Allocation> allocations;  // by base address
std::map<std::string, Import> imports;        // by object name
unsigned next_object = 0;

// The base and size of the allocation or import holding `p`.
bool
RangeOf(uintptr_t p, uintptr_t* base, size_t* size)
{
  auto it = allocations.upper_bound(p);
  if (it != allocations.begin()) {
    --it;
    if (p < it->first + it->second.size) {
      *base = it->first;
      *size = it->second.size;
      return true;
    }
  }
  for (const auto& import : imports) {
    const uintptr_t b = reinterpret_cast<uintptr_t>(import.second.base);
    if (p >= b && p < b + import.second.size) {
      *base = b;
      *size = import.second.size;
      return true;
    }
  }
  return false;
}

void*
MapObject(int fd, size_t size)
{
  void* base = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  return base == MAP_FAILED ? nullptr : base;
}

CUresult CUDAAPI
AddressRange(CUdeviceptr* base, size_t* size, CUdeviceptr p)
{
  std::lock_guard<std::mutex> lock(mu);
  uintptr_t b = 0;
  size_t n = 0;
  if (!RangeOf(static_cast<uintptr_t>(p), &b, &n)) return CUDA_ERROR_NOT_FOUND;
  if (base != nullptr) *base = static_cast<CUdeviceptr>(b);
  if (size != nullptr) *size = n;
  return CUDA_SUCCESS;
}

// The microseconds each IPC open and close takes: from
// TRITON_SHM_CUDA_STANDIN_IPC_US (0 when unset or not a number) until
// triton_cuda_standin_set_ipc_cost_us sets it.
std::atomic<long>&
IpcCost()
{
  static std::atomic<long> us{[] {
    const char* text = std::getenv("TRITON_SHM_CUDA_STANDIN_IPC_US");
    return text == nullptr ? 0L : std::max(0L, std::strtol(text, nullptr, 10));
  }()};
  return us;
}

std::atomic<int> ipc_calls_in_progress{0};

// Counts an IPC open or close as in progress from its start to its return.
class IpcCall {
 public:
  IpcCall()
  {
    ipc_calls_in_progress++;
    const long us = IpcCost().load();
    if (us > 0) std::this_thread::sleep_for(std::chrono::microseconds(us));
  }
  ~IpcCall() { ipc_calls_in_progress--; }
  IpcCall(const IpcCall&) = delete;
  IpcCall& operator=(const IpcCall&) = delete;
};

}  // namespace

extern "C" {

int
triton_cuda_standin_open_handles()
{
  std::lock_guard<std::mutex> lock(mu);
  int open = 0;
  for (const auto& import : imports) open += import.second.references;
  return open;
}

long
triton_cuda_standin_ipc_cost_us()
{
  return IpcCost().load();
}

void
triton_cuda_standin_set_ipc_cost_us(long us)
{
  IpcCost().store(std::max(0L, us));
}

int
triton_cuda_standin_ipc_calls_in_progress()
{
  return ipc_calls_in_progress.load();
}

}  // extern "C"

cudaError_t CUDARTAPI
cudaGetDeviceCount(int* count)
{
  if (count == nullptr) return cudaErrorInvalidValue;
  *count = kDevices;
  return cudaSuccess;
}

cudaError_t CUDARTAPI
cudaSetDevice(int device)
{
  return device >= 0 && device < kDevices ? cudaSuccess : cudaErrorInvalidDevice;
}

cudaError_t CUDARTAPI
cudaGetDeviceProperties(struct cudaDeviceProp* prop, int device)
{
  if (prop == nullptr) return cudaErrorInvalidValue;
  if (device < 0 || device >= kDevices) return cudaErrorInvalidDevice;
  std::memset(prop, 0, sizeof *prop);
  std::snprintf(prop->name, sizeof prop->name, "triton-shm CUDA stand-in");
  return cudaSuccess;
}

const char* CUDARTAPI
cudaGetErrorString(cudaError_t error)
{
  switch (error) {
    case cudaSuccess:
      return "no error";
    case cudaErrorInvalidValue:
      return "invalid argument";
    case cudaErrorMemoryAllocation:
      return "out of memory";
    case cudaErrorInvalidDevice:
      return "invalid device ordinal";
    case cudaErrorMapBufferObjectFailed:
      return "mapping of buffer object failed";
    case cudaErrorInvalidResourceHandle:
      return "invalid resource handle";
    case cudaErrorSymbolNotFound:
      return "named symbol not found";
    default:
      return "unrecognized error code";
  }
}

cudaError_t CUDARTAPI
cudaMalloc(void** devPtr, size_t size)
{
  if (devPtr == nullptr) return cudaErrorInvalidValue;
  *devPtr = nullptr;
  if (size == 0) return cudaSuccess;
  std::lock_guard<std::mutex> lock(mu);
  const std::string object = "/tsmcuda" + std::to_string(getpid()) + "_" +
                             std::to_string(next_object++);
  const int fd = shm_open(object.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return cudaErrorMemoryAllocation;
  void* base = nullptr;
  if (ftruncate(fd, static_cast<off_t>(size)) == 0) base = MapObject(fd, size);
  close(fd);
  if (base == nullptr) {
    shm_unlink(object.c_str());
    return cudaErrorMemoryAllocation;
  }
  allocations[reinterpret_cast<uintptr_t>(base)] = {size, object};
  *devPtr = base;
  return cudaSuccess;
}

cudaError_t CUDARTAPI
cudaFree(void* devPtr)
{
  if (devPtr == nullptr) return cudaSuccess;
  std::lock_guard<std::mutex> lock(mu);
  auto it = allocations.find(reinterpret_cast<uintptr_t>(devPtr));
  if (it == allocations.end()) return cudaErrorInvalidValue;
  munmap(devPtr, it->second.size);
  shm_unlink(it->second.object.c_str());
  allocations.erase(it);
  return cudaSuccess;
}

cudaError_t CUDARTAPI
cudaMemcpy(void* dst, const void* src, size_t count, enum cudaMemcpyKind kind)
{
  (void)kind;  // one address space here
  if (count != 0 && (dst == nullptr || src == nullptr)) {
    return cudaErrorInvalidValue;
  }
  std::memmove(dst, src, count);
  return cudaSuccess;
}

cudaError_t CUDARTAPI
cudaIpcGetMemHandle(cudaIpcMemHandle_t* handle, void* devPtr)
{
  if (handle == nullptr) return cudaErrorInvalidValue;
  std::lock_guard<std::mutex> lock(mu);
  auto it = allocations.find(reinterpret_cast<uintptr_t>(devPtr));
  if (it == allocations.end()) return cudaErrorInvalidValue;
  HandleBytes bytes;
  std::memset(&bytes, 0, sizeof bytes);
  std::memcpy(bytes.magic, kMagic, sizeof kMagic);
  bytes.exporter = static_cast<uint32_t>(getpid());
  bytes.size = it->second.size;
  std::snprintf(bytes.object, sizeof bytes.object, "%s", it->second.object.c_str());
  std::memcpy(handle, &bytes, sizeof bytes);
  return cudaSuccess;
}

cudaError_t CUDARTAPI
cudaIpcOpenMemHandle(void** devPtr, cudaIpcMemHandle_t handle, unsigned int flags)
{
  if (devPtr == nullptr || flags != cudaIpcMemLazyEnablePeerAccess) {
    return cudaErrorInvalidValue;
  }
  HandleBytes bytes;
  std::memcpy(&bytes, &handle, sizeof bytes);
  if (std::memcmp(bytes.magic, kMagic, sizeof kMagic) != 0 ||
      std::memchr(bytes.object, '\0', sizeof bytes.object) == nullptr ||
      bytes.size == 0) {
    return cudaErrorInvalidValue;
  }
  if (bytes.exporter == static_cast<uint32_t>(getpid())) {
    return cudaErrorInvalidResourceHandle;
  }
  const IpcCall call;
  std::lock_guard<std::mutex> lock(mu);
  auto it = imports.find(bytes.object);
  if (it != imports.end()) {
    it->second.references++;
    *devPtr = it->second.base;
    return cudaSuccess;
  }
  const int fd = shm_open(bytes.object, O_RDWR, 0);
  if (fd < 0) return cudaErrorMapBufferObjectFailed;
  struct stat st;
  void* base = nullptr;
  if (fstat(fd, &st) == 0 && static_cast<uint64_t>(st.st_size) >= bytes.size) {
    base = MapObject(fd, static_cast<size_t>(bytes.size));
  }
  close(fd);
  if (base == nullptr) return cudaErrorMapBufferObjectFailed;
  imports[bytes.object] = {base, static_cast<size_t>(bytes.size), 1};
  *devPtr = base;
  return cudaSuccess;
}

cudaError_t CUDARTAPI
cudaIpcCloseMemHandle(void* devPtr)
{
  const IpcCall call;
  std::lock_guard<std::mutex> lock(mu);
  for (auto it = imports.begin(); it != imports.end(); ++it) {
    if (it->second.base != devPtr) continue;
    if (--it->second.references == 0) {
      munmap(it->second.base, it->second.size);
      imports.erase(it);
    }
    return cudaSuccess;
  }
  return cudaErrorInvalidValue;
}

cudaError_t CUDARTAPI
cudaGetDriverEntryPoint(
    const char* symbol, void** funcPtr, unsigned long long flags,
    enum cudaDriverEntryPointQueryResult* driverStatus)
{
  (void)flags;
  if (symbol == nullptr || funcPtr == nullptr) return cudaErrorInvalidValue;
  if (std::strcmp(symbol, "cuMemGetAddressRange") == 0) {
    *funcPtr = reinterpret_cast<void*>(&AddressRange);
    if (driverStatus != nullptr) *driverStatus = cudaDriverEntryPointSuccess;
    return cudaSuccess;
  }
  *funcPtr = nullptr;
  if (driverStatus != nullptr) {
    *driverStatus = cudaDriverEntryPointSymbolNotFound;
  }
  return cudaSuccess;
}
