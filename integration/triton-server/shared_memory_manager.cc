// SharedMemoryManager for Triton Inference Server, on triton-shm.
//
// This file replaces src/shared_memory_manager.cc of
// triton-inference-server/server (written for r26.09, 2.73.0) and implements
// the class that server's src/shared_memory_manager.h declares, which stays
// as it is. System shared memory goes entirely through triton-shm's C API:
// there is no platform code here, and the same source serves Linux and
// macOS. CUDA shared memory keeps upstream's behaviour and builds with
// TRITON_ENABLE_GPU. See README.md next to this file.
//
// What the server does with a client's region, and what it never does:
//
// * It opens and maps regions clients created; it creates none and unlinks
//   none. Its triton-shm registry uses TRITON_SHM_UNLINK_NEVER, no journal
//   and no reaping, so no file is ever touched, and no environment variable
//   can change that (the options are the library's defaults, not the
//   environment's).
// * The registry is made by the first registration, where an error can be
//   returned to the client; a manager that never registers system shared
//   memory (allow_client_shm off) never makes one.
// * Clients see Triton's own message shapes; the library's detail (names,
//   errno) goes to LOG_VERBOSE(1).

#include "shared_memory_manager.h"

#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common.h"
#include "triton/common/logging.h"
#include "triton_shm.h"

// The naming policy of the server's registry, fixed when the server is
// built: TRITON_SHM_NAMING_PLATFORM (darwin on macOS, posix elsewhere)
// unless the build says otherwise, e.g. -DTRITON_SHM_SERVER_NAMING_POLICY=
// TRITON_SHM_NAMING_DARWIN to run macOS's naming on Linux.
#ifndef TRITON_SHM_SERVER_NAMING_POLICY
#define TRITON_SHM_SERVER_NAMING_POLICY TRITON_SHM_NAMING_PLATFORM
#endif

namespace triton { namespace server {

namespace {

TRITONSERVER_Error*
MakeError(TRITONSERVER_Error_Code code, const std::string& message)
{
  return TRITONSERVER_ErrorNew(code, message.c_str());
}

// This thread's last triton-shm message: read right after the failed call.
std::string
LibraryMessage()
{
  std::string text(256, '\0');
  size_t needed = 0;
  triton_shm_status status =
      triton_shm_last_error_message(&text[0], text.size(), &needed);
  if (status == TRITON_SHM_BUFFER_TOO_SMALL) {
    text.assign(needed + 1, '\0');
    status = triton_shm_last_error_message(&text[0], text.size(), &needed);
  }
  if (status != TRITON_SHM_OK) {
    return std::string("no detail (") + triton_shm_status_name(status) + ")";
  }
  text.resize(needed);
  return text;
}

// triton-shm's own log lines, into Triton's verbose log.
void
ForwardLibraryLog(
    triton_shm_log_level level, const char* message, void* /* user_data */)
{
  LOG_VERBOSE(1) << "triton-shm: " << message;
}

// The options of a server's registry: the library's defaults (no
// environment), the server's naming policy, and nothing ever unlinked,
// journaled or reaped, since the server creates nothing.
TRITONSERVER_Error*
NewServerRegistry(triton_shm_registry** registry)
{
  static std::once_flag log_route;
  std::call_once(log_route, [] {
    (void)triton_shm_set_log_callback(ForwardLibraryLog, nullptr);
  });

  triton_shm_options options;
  triton_shm_status status = TRITON_SHM_OPTIONS_INIT(&options);
  if (status == TRITON_SHM_OK) {
    options.naming_policy = TRITON_SHM_SERVER_NAMING_POLICY;
    options.unlink_policy = TRITON_SHM_UNLINK_NEVER;
    options.journal = 0;
    options.reap_on_create = 0;
    status = triton_shm_registry_new(&options, registry);
  }
  if (status != TRITON_SHM_OK) {
    return MakeError(
        TRITONSERVER_ERROR_INTERNAL,
        "unable to set up system shared memory: " + LibraryMessage());
  }
  return nullptr;
}

// The registry of each live manager, made on its first registration and
// freed by its destructor. The class's declaration is upstream's and has no
// member for it, so it lives here, keyed by the manager's address.
class ManagerRegistries {
 public:
  static TRITONSERVER_Error* Get(
      const SharedMemoryManager* manager, triton_shm_registry** registry)
  {
    ManagerRegistries& self = Instance();
    std::lock_guard<std::mutex> lock(self.mu_);
    auto found = self.registries_.find(manager);
    if (found != self.registries_.end()) {
      *registry = found->second;
      return nullptr;
    }
    triton_shm_registry* made = nullptr;
    TRITONSERVER_Error* err = NewServerRegistry(&made);
    if (err != nullptr) {
      return err;
    }
    self.registries_.emplace(manager, made);
    *registry = made;
    return nullptr;
  }

  // Free `manager`'s registry, if it made one. Its regions still open (held
  // by in-flight requests) keep what they need alive until they close.
  static void Release(const SharedMemoryManager* manager)
  {
    ManagerRegistries& self = Instance();
    triton_shm_registry* registry = nullptr;
    {
      std::lock_guard<std::mutex> lock(self.mu_);
      auto found = self.registries_.find(manager);
      if (found == self.registries_.end()) {
        return;
      }
      registry = found->second;
      self.registries_.erase(found);
    }
    triton_shm_registry_free(registry);
  }

 private:
  // Never destroyed, so that a manager destroyed during static destruction
  // still finds it.
  static ManagerRegistries& Instance()
  {
    static ManagerRegistries* instance = new ManagerRegistries();
    return *instance;
  }

  std::mutex mu_;
  std::unordered_map<const SharedMemoryManager*, triton_shm_registry*>
      registries_;
};

// A registered block of system shared memory: the entry Triton's code sees,
// plus the triton-shm region behind it.
struct SystemRegion : SharedMemoryManager::SharedMemoryInfo {
  SystemRegion(
      const std::string& name, const std::string& shm_key, size_t offset,
      size_t byte_size, triton_shm_region* region)
      : SharedMemoryManager::SharedMemoryInfo(
            name, shm_key, offset, byte_size, -1 /* no descriptor is kept */,
            triton_shm_region_data(region), TRITONSERVER_MEMORY_CPU, 0),
        region_(region)
  {
  }

  SystemRegion(const SystemRegion&) = delete;
  SystemRegion& operator=(const SystemRegion&) = delete;

  // The last holder of an entry the manager let go of without closing it
  // (the manager was destroyed while a request held the entry) unmaps it.
  ~SystemRegion()
  {
    if (region_ != nullptr) {
      (void)triton_shm_region_close(region_);
    }
  }

  // Unmap the block; the client's object is never unlinked. When the unmap
  // fails nothing changes: the region stays mapped and the caller keeps the
  // entry, so a later unregister can try again.
  TRITONSERVER_Error* Close()
  {
    if (triton_shm_region_unmap(region_) != TRITON_SHM_OK) {
      return MakeError(
          TRITONSERVER_ERROR_INTERNAL,
          "unable to munmap shared memory region, " + LibraryMessage());
    }
    triton_shm_region* region = region_;
    region_ = nullptr;
    if (triton_shm_region_close(region) != TRITON_SHM_OK) {
      return MakeError(
          TRITONSERVER_ERROR_INTERNAL,
          "unable to release shared memory region, " + LibraryMessage());
    }
    return nullptr;
  }

  triton_shm_region* region_;
};

// Triton's error for a registration triton-shm refused, in the shapes
// Triton's clients and QA know; the library's detail goes to the verbose
// log.
TRITONSERVER_Error*
RegistrationError(
    const std::string& name, const std::string& shm_key,
    triton_shm_status status)
{
  LOG_VERBOSE(1) << "registering system shared memory region '" << name
                 << "' with key '" << shm_key << "' failed: "
                 << triton_shm_status_name(status) << ": " << LibraryMessage();
  const std::string invalid_args =
      "failed to register shared memory region '" + name + "': invalid args";
  const std::string unable_to_open =
      "Unable to open shared memory region: '" + shm_key + "'";
  switch (status) {
    case TRITON_SHM_OUT_OF_BOUNDS:
    case TRITON_SHM_INVALID_ARGUMENT:
      return MakeError(TRITONSERVER_ERROR_INVALID_ARG, invalid_args);
    case TRITON_SHM_NOT_FOUND:
    case TRITON_SHM_INVALID_NAME:
    case TRITON_SHM_NAME_TOO_LONG:
      return MakeError(TRITONSERVER_ERROR_INVALID_ARG, unable_to_open);
    case TRITON_SHM_RESERVED_NAME:
      return MakeError(
          TRITONSERVER_ERROR_INVALID_ARG,
          "cannot register shared memory region '" + name + "' with key '" +
              shm_key +
              "' as the key contains a prefix reserved for Triton's "
              "backends");
    case TRITON_SHM_NAME_COLLISION:
      return MakeError(
          TRITONSERVER_ERROR_INVALID_ARG,
          "failed to register shared memory region '" + name + "': key '" +
              shm_key + "' reaches the object of another registered key");
    case TRITON_SHM_PERMISSION_DENIED:
    case TRITON_SHM_OS_ERROR:
      return MakeError(TRITONSERVER_ERROR_INTERNAL, unable_to_open);
    default:
      return MakeError(
          TRITONSERVER_ERROR_INTERNAL,
          "failed to register shared memory region '" + name +
              "': " + triton_shm_status_name(status));
  }
}

#ifdef TRITON_ENABLE_GPU
// The CUDA path: as upstream, the server opens the client's IPC handle on
// `device_id` and checks the requested size against the allocation's.
TRITONSERVER_Error*
OpenCudaIpcHandle(
    const cudaIpcMemHandle_t* handle, int device_id, void** base)
{
  cudaSetDevice(device_id);
  cudaError_t err =
      cudaIpcOpenMemHandle(base, *handle, cudaIpcMemLazyEnablePeerAccess);
  if (err != cudaSuccess) {
    LOG_ERROR << "failed to open CUDA IPC handle: " << cudaGetErrorString(err);
    return MakeError(
        TRITONSERVER_ERROR_INVALID_ARG,
        "failed to register shared memory region: invalid args");
  }
  return nullptr;
}

// A CUDA driver function, found through the runtime so that a GPU build
// still starts where no driver is installed.
TRITONSERVER_Error*
CudaDriverFunction(const char* symbol, void** function)
{
  cudaError_t err =
      cudaGetDriverEntryPoint(symbol, function, cudaEnableDefault);
  if (err != cudaSuccess) {
    LOG_ERROR << "Failed to get CUDA driver entry point for " << symbol
              << ": " << cudaGetErrorString(err);
    return MakeError(
        TRITONSERVER_ERROR_INTERNAL, "Failed to get CUDA driver entry point");
  }
  return nullptr;
}

// The size of the allocation `address` belongs to.
TRITONSERVER_Error*
CudaAllocationSize(CUdeviceptr address, size_t* size)
{
  using AddressRange = CUresult (*)(CUdeviceptr*, size_t*, CUdeviceptr);
  using ErrorString = CUresult (*)(CUresult, const char**);
  void* address_range = nullptr;
  void* error_string = nullptr;
  RETURN_IF_ERR(CudaDriverFunction("cuMemGetAddressRange", &address_range));
  RETURN_IF_ERR(CudaDriverFunction("cuGetErrorString", &error_string));
  CUresult result =
      reinterpret_cast<AddressRange>(address_range)(nullptr, size, address);
  if (result != CUDA_SUCCESS) {
    const char* text = nullptr;
    if (reinterpret_cast<ErrorString>(error_string)(result, &text) !=
        CUDA_SUCCESS) {
      return MakeError(
          TRITONSERVER_ERROR_INTERNAL, "Failed to get CUDA error string");
    }
    return MakeError(
        TRITONSERVER_ERROR_INTERNAL,
        std::string("Failed to get CUDA address range: ") + text);
  }
  return nullptr;
}

TRITONSERVER_Error*
CheckCudaRegionSize(
    const std::string& name, CUdeviceptr address, size_t byte_size)
{
  size_t size = 0;
  TRITONSERVER_Error* err = CudaAllocationSize(address, &size);
  if (err != nullptr || byte_size > size) {
    if (err != nullptr) {
      LOG_ERROR << TRITONSERVER_ErrorMessage(err);
      TRITONSERVER_ErrorDelete(err);
    }
    return MakeError(
        TRITONSERVER_ERROR_INVALID_ARG,
        "failed to register shared memory region '" + name + "': invalid args");
  }
  return nullptr;
}
#endif  // TRITON_ENABLE_GPU

}  // namespace

SharedMemoryManager::~SharedMemoryManager()
{
  for (TRITONSERVER_MemoryType kind :
       {TRITONSERVER_MEMORY_CPU, TRITONSERVER_MEMORY_GPU}) {
    TRITONSERVER_Error* err = UnregisterAll(kind);
    if (err != nullptr) {
      TRITONSERVER_ErrorDelete(err);
    }
  }
  ManagerRegistries::Release(this);
}

TRITONSERVER_Error*
SharedMemoryManager::RegisterSystemSharedMemory(
    const std::string& name, const std::string& shm_key, const size_t offset,
    const size_t byte_size)
{
  // Upstream's key check first: all slashes, or the Python backend's prefix.
  RETURN_IF_ERR(ValidateSharedMemoryKey(name, shm_key));

  std::lock_guard<std::mutex> lock(mu_);
  if (shared_memory_map_.find(name) != shared_memory_map_.end()) {
    return MakeError(
        TRITONSERVER_ERROR_ALREADY_EXISTS,
        "shared memory region '" + name + "' already in manager");
  }
  // A key with a NUL byte would reach the system cut short.
  if (shm_key.find('\0') != std::string::npos) {
    return MakeError(
        TRITONSERVER_ERROR_INVALID_ARG,
        "Unable to open shared memory region: '" + shm_key + "'");
  }

  triton_shm_registry* registry = nullptr;
  RETURN_IF_ERR(ManagerRegistries::Get(this, &registry));

  // Bounds (offset + byte_size against the object, overflow included) are
  // checked before anything is mapped; the mapping starts at the page at or
  // below `offset`; the descriptor is closed on every path.
  triton_shm_region* region = nullptr;
  triton_shm_status status = triton_shm_region_open(
      registry, shm_key.c_str(), offset, byte_size, 0, &region);
  if (status != TRITON_SHM_OK) {
    return RegistrationError(name, shm_key, status);
  }

  shared_memory_map_.emplace(
      name,
      std::make_shared<SystemRegion>(name, shm_key, offset, byte_size, region));
  return nullptr;
}

#ifdef TRITON_ENABLE_GPU
TRITONSERVER_Error*
SharedMemoryManager::RegisterCUDASharedMemory(
    const std::string& name, const cudaIpcMemHandle_t* cuda_shm_handle,
    const size_t byte_size, const int device_id)
{
  std::lock_guard<std::mutex> lock(mu_);
  if (shared_memory_map_.find(name) != shared_memory_map_.end()) {
    return MakeError(
        TRITONSERVER_ERROR_ALREADY_EXISTS,
        "shared memory region '" + name + "' already in manager");
  }

  void* base = nullptr;
  RETURN_IF_ERR(OpenCudaIpcHandle(cuda_shm_handle, device_id, &base));
  TRITONSERVER_Error* err = CheckCudaRegionSize(
      name, reinterpret_cast<CUdeviceptr>(base), byte_size);
  if (err != nullptr) {
    cudaIpcCloseMemHandle(base);
    return err;
  }

  shared_memory_map_.emplace(
      name, std::make_shared<CUDASharedMemoryInfo>(
                name, "", 0, byte_size, 0, base, TRITONSERVER_MEMORY_GPU,
                device_id, cuda_shm_handle));
  return nullptr;
}
#endif  // TRITON_ENABLE_GPU

TRITONSERVER_Error*
SharedMemoryManager::GetMemoryInfo(
    const std::string& name, size_t offset, size_t byte_size,
    void** shm_mapped_addr, TRITONSERVER_MemoryType* memory_type,
    int64_t* device_id,
    std::shared_ptr<const SharedMemoryManager::SharedMemoryInfo>* shm_info)
{
  std::lock_guard<std::mutex> lock(mu_);

  auto it = shared_memory_map_.find(name);
  if (it == shared_memory_map_.end()) {
    return MakeError(
        TRITONSERVER_ERROR_NOT_FOUND,
        "Unable to find shared memory region: '" + name + "'");
  }

  // `offset` and `byte_size` are relative to the registered block.
  const size_t block_size = it->second->byte_size_;
  if (offset >= block_size) {
    return MakeError(
        TRITONSERVER_ERROR_INVALID_ARG,
        "Invalid offset for shared memory region: '" + name + "'");
  }
  if (byte_size > SIZE_MAX - offset) {
    return MakeError(
        TRITONSERVER_ERROR_INVALID_ARG,
        "Integer overflow detected: byte_size (" + std::to_string(byte_size) +
            ") + offset (" + std::to_string(offset) +
            ") exceeds maximum value (" + std::to_string(SIZE_MAX) +
            ") for region '" + name + "'");
  }
  if (offset + byte_size > block_size) {
    return MakeError(
        TRITONSERVER_ERROR_INVALID_ARG,
        "Invalid offset + byte size for shared memory region: '" + name + "'");
  }

  if (shm_info != nullptr) {
    *shm_info = std::static_pointer_cast<const SharedMemoryInfo>(it->second);
  }
  *shm_mapped_addr = static_cast<uint8_t*>(it->second->mapped_addr_) + offset;
  *memory_type = it->second->kind_;
  *device_id = it->second->device_id_;
  return nullptr;
}

#ifdef TRITON_ENABLE_GPU
TRITONSERVER_Error*
SharedMemoryManager::GetCUDAHandle(
    const std::string& name, cudaIpcMemHandle_t** cuda_mem_handle)
{
  std::lock_guard<std::mutex> lock(mu_);
  auto it = shared_memory_map_.find(name);
  if (it == shared_memory_map_.end()) {
    return MakeError(
        TRITONSERVER_ERROR_NOT_FOUND,
        "Unable to find shared memory region: '" + name + "'");
  }
  // Only RegisterCUDASharedMemory makes entries of this kind.
  if (it->second->kind_ != TRITONSERVER_MEMORY_GPU) {
    return MakeError(
        TRITONSERVER_ERROR_INVALID_ARG,
        "The region named '" + name +
            "' is registered as system shared memory, not CUDA shared memory");
  }
  auto& cuda = static_cast<CUDASharedMemoryInfo&>(*it->second);
  *cuda_mem_handle = &cuda.cuda_ipc_handle_;
  return nullptr;
}
#endif  // TRITON_ENABLE_GPU

namespace {

// One region's entry in GetStatus's array.
TRITONSERVER_Error*
AppendRegionStatus(
    const std::string& name,
    const SharedMemoryManager::SharedMemoryInfo& info,
    TRITONSERVER_MemoryType memory_type,
    triton::common::TritonJson::Value* shm_status)
{
  triton::common::TritonJson::Value region(
      *shm_status, triton::common::TritonJson::ValueType::OBJECT);
  RETURN_IF_ERR(region.AddString("name", name.c_str(), name.size()));
  if (memory_type == TRITONSERVER_MEMORY_CPU) {
    RETURN_IF_ERR(
        region.AddString("key", info.shm_key_.c_str(), info.shm_key_.size()));
    RETURN_IF_ERR(region.AddUInt("offset", info.offset_));
  } else {
    RETURN_IF_ERR(region.AddUInt("device_id", info.device_id_));
  }
  RETURN_IF_ERR(region.AddUInt("byte_size", info.byte_size_));
  return shm_status->Append(std::move(region));
}

}  // namespace

TRITONSERVER_Error*
SharedMemoryManager::GetStatus(
    const std::string& name, TRITONSERVER_MemoryType memory_type,
    triton::common::TritonJson::Value* shm_status)
{
  std::lock_guard<std::mutex> lock(mu_);

  if (name.empty()) {
    for (const auto& entry : shared_memory_map_) {
      if (entry.second->kind_ == memory_type) {
        RETURN_IF_ERR(AppendRegionStatus(
            entry.first, *entry.second, memory_type, shm_status));
      }
    }
    return nullptr;
  }

  auto it = shared_memory_map_.find(name);
  if (it == shared_memory_map_.end()) {
    return MakeError(
        TRITONSERVER_ERROR_NOT_FOUND,
        std::string("Unable to find ") +
            (memory_type == TRITONSERVER_MEMORY_GPU ? "cuda" : "system") +
            " shared memory region: '" + name + "'");
  }
  if (it->second->kind_ != memory_type) {
    const bool is_cuda = it->second->kind_ == TRITONSERVER_MEMORY_GPU;
    return MakeError(
        TRITONSERVER_ERROR_NOT_FOUND,
        "The region named '" + name + "' is registered as " +
            (is_cuda ? "CUDA shared memory, not system shared memory"
                     : "system shared memory, not CUDA shared memory"));
  }
  return AppendRegionStatus(
      it->second->name_, *it->second, memory_type, shm_status);
}

TRITONSERVER_Error*
SharedMemoryManager::Unregister(
    const std::string& name, TRITONSERVER_MemoryType memory_type)
{
  std::lock_guard<std::mutex> lock(mu_);
  return UnregisterHelper(name, memory_type);
}

TRITONSERVER_Error*
SharedMemoryManager::UnregisterAll(TRITONSERVER_MemoryType memory_type)
{
  std::lock_guard<std::mutex> lock(mu_);
  std::string error_message = "Failed to unregister the following ";
  if (memory_type == TRITONSERVER_MEMORY_CPU) {
    error_message += "system shared memory regions: ";
  } else if (memory_type == TRITONSERVER_MEMORY_GPU) {
    error_message += "cuda shared memory regions: ";
  } else {
    return nullptr;
  }

  // Collect the names first: UnregisterHelper erases from the map.
  std::vector<std::string> names;
  for (const auto& entry : shared_memory_map_) {
    if (entry.second->kind_ == memory_type) {
      names.push_back(entry.first);
    }
  }
  std::vector<std::string> failed;
  for (const std::string& name : names) {
    TRITONSERVER_Error* err = UnregisterHelper(name, memory_type);
    if (err != nullptr) {
      failed.push_back(name);
      LOG_VERBOSE(1) << TRITONSERVER_ErrorMessage(err);
      TRITONSERVER_ErrorDelete(err);
    }
  }

  if (failed.empty()) {
    return nullptr;
  }
  for (const std::string& name : failed) {
    error_message += name + " ,";
  }
  LOG_ERROR << error_message;
  return MakeError(TRITONSERVER_ERROR_INTERNAL, error_message);
}

TRITONSERVER_Error*
SharedMemoryManager::UnregisterHelper(
    const std::string& name, TRITONSERVER_MemoryType memory_type)
{
  // The caller holds mu_.
  auto it = shared_memory_map_.find(name);
  if (it == shared_memory_map_.end() || it->second->kind_ != memory_type) {
    return nullptr;
  }

  // A request still holds the entry (GetMemoryInfo's shm_info): it is
  // unregistered when that request completes and calls Unregister again.
  if (it->second.use_count() > 1) {
    it->second->awaiting_unregister_ = true;
    LOG_VERBOSE(1)
        << "Shared memory region '" << name
        << "' will be unregistered after in-flight requests complete.";
    return nullptr;
  }

  if (memory_type == TRITONSERVER_MEMORY_CPU) {
    // A block whose unmap failed keeps its entry, as upstream does.
    RETURN_IF_ERR(static_cast<SystemRegion&>(*it->second).Close());
    shared_memory_map_.erase(it);
    return nullptr;
  }

#ifdef TRITON_ENABLE_GPU
  cudaError_t err = cudaIpcCloseMemHandle(it->second->mapped_addr_);
  if (err != cudaSuccess) {
    return MakeError(
        TRITONSERVER_ERROR_INTERNAL,
        std::string("failed to close CUDA IPC handle: ") +
            cudaGetErrorString(err));
  }
  shared_memory_map_.erase(it);
  return nullptr;
#else
  return MakeError(
      TRITONSERVER_ERROR_INVALID_ARG,
      "failed to unregister CUDA shared memory region: '" + name +
          "', GPUs not supported");
#endif  // TRITON_ENABLE_GPU
}

}}  // namespace triton::server
