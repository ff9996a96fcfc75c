// SharedMemoryManager for Triton Inference Server, on triton-shm.
//
// This file replaces src/shared_memory_manager.cc of
// triton-inference-server/server (written for r26.09, 2.73.0) and implements
// the class that server's src/shared_memory_manager.h declares, which stays
// as it is. System shared memory goes entirely through triton-shm's C API:
// there is no platform code here, and the same source serves Linux and
// macOS. CUDA shared memory (built with TRITON_ENABLE_GPU) answers
// clients as upstream's does, and refuses a device the server lacks. See
// README.md next to this file.
//
// What the server does with a client's region, and what it never does:
//
// * It opens and maps regions clients created; it creates none and unlinks
//   none. Its triton-shm registry uses TRITON_SHM_UNLINK_NEVER, no journal
//   and no reaping, so no file is ever touched, and no environment variable
//   can change that (the options are the library's defaults, not the
//   environment's).
// * The registry, one for the process, is made by the first registration,
//   where an error can be returned to the client; a process whose managers
//   never register system shared memory (allow_client_shm off) never makes
//   one. Regions are mapped with triton_shm_mapping_open into the map's
//   entries: the manager's map already knows them, so the library keeps
//   nothing of them.
// * Clients see Triton's own message shapes; the library's detail (names,
//   errno) goes to LOG_VERBOSE(1).
// * No system call and no CUDA call runs under the manager's mutex: the
//   map is looked at and changed under it, and regions are opened, mapped,
//   unmapped and closed outside it, so GetMemoryInfo never waits for a
//   registration's system calls or a CUDA IPC open or close.
// * Shared-memory metrics go through core's custom-metrics API, created at
//   the first registration; GetMemoryInfo touches none.

#include "shared_memory_manager.h"

#include <atomic>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <map>
#include <mutex>
#include <string>
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

// The library's log lines go to Triton's verbose log, and only while
// verbose logging is on: with no callback installed the library does not
// even format them (two lines per register + unregister). Checked at each
// registration, so a level changed at run time is followed from the next
// one.
void
FollowVerboseLog()
{
  static std::mutex mu;
  static std::atomic<int> routed{-1};  // unknown, then 0 (off) or 1 (on)
  const int wanted = LOG_VERBOSE_IS_ON(1) ? 1 : 0;
  if (routed.load(std::memory_order_acquire) == wanted) {
    return;
  }
  std::lock_guard<std::mutex> lock(mu);
  if (routed.load(std::memory_order_relaxed) != wanted) {
    (void)triton_shm_set_log_callback(
        wanted == 1 ? ForwardLibraryLog : nullptr, nullptr);
    routed.store(wanted, std::memory_order_release);
  }
}

// The options of a server's registry: the library's defaults (no
// environment), the server's naming policy, and nothing ever unlinked,
// journaled or reaped, since the server creates nothing.
TRITONSERVER_Error*
NewServerRegistry(triton_shm_registry** registry)
{
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

// The server's registry: one for the process, made by the first
// registration (where its error reaches the client; a later registration
// tries again) and kept until the process ends. It holds nothing but its
// options: regions are mapped with triton_shm_mapping_open, which keeps
// nothing, since each manager's map is the table of what it opened and
// nothing a client created is ever unlinked. Found with one atomic load; the mutex only
// serialises its making.
std::atomic<triton_shm_registry*> server_registry{nullptr};
std::mutex server_registry_mu;

TRITONSERVER_Error*
ServerRegistry(triton_shm_registry** registry)
{
  *registry = server_registry.load(std::memory_order_acquire);
  if (*registry != nullptr) {
    return nullptr;
  }
  std::lock_guard<std::mutex> lock(server_registry_mu);
  *registry = server_registry.load(std::memory_order_relaxed);
  if (*registry != nullptr) {
    return nullptr;
  }
  TRITONSERVER_Error* err = NewServerRegistry(registry);
  if (err == nullptr) {
    server_registry.store(*registry, std::memory_order_release);
  }
  return err;
}

// A registered block of system shared memory: the entry Triton's code sees,
// plus the triton-shm mapping behind it, held inline (the library keeps
// nothing of it).
struct SystemRegion : SharedMemoryManager::SharedMemoryInfo {
  SystemRegion(
      const std::string& name, const std::string& shm_key, size_t offset,
      size_t byte_size, const triton_shm_mapping& mapping)
      : SharedMemoryManager::SharedMemoryInfo(
            name, shm_key, offset, byte_size, -1 /* no descriptor is kept */,
            mapping.data, TRITONSERVER_MEMORY_CPU, 0),
        mapping_(mapping)
  {
  }

  SystemRegion(const SystemRegion&) = delete;
  SystemRegion& operator=(const SystemRegion&) = delete;

  // The last holder of an entry the manager let go of without closing it
  // (the manager was destroyed while a request held the entry) unmaps it.
  // A closed mapping is all zero.
  ~SystemRegion()
  {
    if (mapping_.base != nullptr) {
      (void)triton_shm_mapping_close(&mapping_);
    }
  }

  // Unmap the block; the client's object is never unlinked. When the unmap
  // fails nothing changes: the block stays mapped and the caller keeps the
  // entry, so a later unregister can try again.
  TRITONSERVER_Error* Close()
  {
    if (triton_shm_mapping_close(&mapping_) != TRITON_SHM_OK) {
      return MakeError(
          TRITONSERVER_ERROR_INTERNAL,
          "unable to munmap shared memory region, " + LibraryMessage());
    }
    return nullptr;
  }

  triton_shm_mapping mapping_;
};

// ---- metrics -----------------------------------------------------------------
//
// Served with the server's own metrics (":8002/metrics"), through core's
// custom-metrics API. Labels are fixed words only (the kind, whether an
// unregistration was deferred, a failure's reason): never a client's region
// name or key. A server built without metrics answers UNSUPPORTED when the
// first family is made, and every update is then a no-op.

enum KindIndex { kSystemKind = 0, kCudaKind = 1, kKinds = 2 };

KindIndex
KindOf(TRITONSERVER_MemoryType memory_type)
{
  return memory_type == TRITONSERVER_MEMORY_GPU ? kCudaKind : kSystemKind;
}

const char* const kKindLabel[kKinds] = {"system", "cuda"};

class ShmMetrics {
 public:
  // The one set of metrics of the process; never destroyed, so a manager
  // destroyed during static destruction still finds it.
  static ShmMetrics& Instance()
  {
    static ShmMetrics* metrics = new ShmMetrics();
    return *metrics;
  }

  // A region of `bytes` bytes was registered. Makes the metrics, the
  // first time.
  void Registered(KindIndex kind, size_t bytes)
  {
    if (!Ready()) {
      return;
    }
    Add(regions_[kind], 1);
    Add(bytes_[kind], static_cast<double>(bytes));
    Add(registrations_[kind], 1);
  }

  // A registration was refused for `reason`, a fixed word. Makes the
  // metrics, the first time.
  void Failed(KindIndex kind, const std::string& reason)
  {
    if (!Ready()) {
      return;
    }
    TRITONSERVER_Metric* metric = nullptr;
    {
      std::lock_guard<std::mutex> lock(failures_mu_);
      auto found = failures_[kind].find(reason);
      if (found != failures_[kind].end()) {
        metric = found->second;
      } else {
        metric = NewMetric(
            failure_family_, {{"kind", kKindLabel[kind]}, {"reason", reason}});
        failures_[kind].emplace(reason, metric);
      }
    }
    Add(metric, 1);
  }

  // An unregistration was deferred: a request still holds the region.
  void Deferred(KindIndex kind)
  {
    if (made_.load(std::memory_order_acquire)) {
      Add(awaiting_[kind], 1);
    }
  }

  // A region of `bytes` bytes left the manager; `was_deferred` when its
  // unregistration had been deferred.
  void Unregistered(KindIndex kind, size_t bytes, bool was_deferred)
  {
    if (!made_.load(std::memory_order_acquire)) {
      return;
    }
    Add(regions_[kind], -1);
    Add(bytes_[kind], -static_cast<double>(bytes));
    Add(unregistrations_[kind][was_deferred ? 1 : 0], 1);
    if (was_deferred) {
      Add(awaiting_[kind], -1);
    }
  }

 private:
  using Labels = std::vector<std::pair<std::string, std::string>>;

  // Whether the metrics exist, making them the first time. After that
  // first time two loads: std::call_once itself is a library call each
  // time.
  bool Ready()
  {
    if (!tried_.load(std::memory_order_acquire)) {
      std::call_once(make_once_, [this] {
        Make();
        tried_.store(true, std::memory_order_release);
      });
    }
    return made_.load(std::memory_order_acquire);
  }

  void Make()
  {
    TRITONSERVER_Error* err = TRITONSERVER_MetricFamilyNew(
        &regions_family_, TRITONSERVER_METRIC_KIND_GAUGE,
        "nv_shared_memory_regions",
        "Shared-memory regions registered with the server now, by kind");
    if (err != nullptr) {
      // UNSUPPORTED: a server built without metrics. Anything else is
      // logged once; either way the metrics stay off.
      if (TRITONSERVER_ErrorCode(err) != TRITONSERVER_ERROR_UNSUPPORTED) {
        LOG_WARNING << "shared-memory metrics are off: "
                    << TRITONSERVER_ErrorMessage(err);
      }
      TRITONSERVER_ErrorDelete(err);
      return;
    }
    struct FamilySpec {
      TRITONSERVER_MetricFamily** family;
      TRITONSERVER_MetricKind kind;
      const char* name;
      const char* help;
    };
    const FamilySpec specs[] = {
        {&bytes_family_, TRITONSERVER_METRIC_KIND_GAUGE,
         "nv_shared_memory_mapped_bytes",
         "Bytes of the shared-memory regions registered now, by kind"},
        {&registrations_family_, TRITONSERVER_METRIC_KIND_COUNTER,
         "nv_shared_memory_registrations",
         "Shared-memory regions registered, by kind"},
        {&unregistrations_family_, TRITONSERVER_METRIC_KIND_COUNTER,
         "nv_shared_memory_unregistrations",
         "Shared-memory regions unregistered, by kind and by whether a "
         "request held the region when it was asked (deferred)"},
        {&failure_family_, TRITONSERVER_METRIC_KIND_COUNTER,
         "nv_shared_memory_registration_failures",
         "Shared-memory registrations refused, by kind and reason"},
        {&awaiting_family_, TRITONSERVER_METRIC_KIND_GAUGE,
         "nv_shared_memory_regions_awaiting_unregister",
         "Shared-memory regions asked to unregister while a request holds "
         "them, by kind"},
    };
    for (const FamilySpec& spec : specs) {
      err = TRITONSERVER_MetricFamilyNew(
          spec.family, spec.kind, spec.name, spec.help);
      if (err != nullptr) {
        LOG_WARNING << "shared-memory metrics are off: "
                    << TRITONSERVER_ErrorMessage(err);
        TRITONSERVER_ErrorDelete(err);
        return;
      }
    }
    for (int kind = 0; kind < kKinds; kind++) {
      const Labels by_kind = {{"kind", kKindLabel[kind]}};
      regions_[kind] = NewMetric(regions_family_, by_kind);
      bytes_[kind] = NewMetric(bytes_family_, by_kind);
      registrations_[kind] = NewMetric(registrations_family_, by_kind);
      awaiting_[kind] = NewMetric(awaiting_family_, by_kind);
      for (int deferred = 0; deferred < 2; deferred++) {
        unregistrations_[kind][deferred] = NewMetric(
            unregistrations_family_,
            {{"kind", kKindLabel[kind]},
             {"deferred", deferred == 1 ? "true" : "false"}});
      }
    }
    made_.store(true, std::memory_order_release);
  }

  // A metric of `family` with `labels`; nullptr (and a log line) when core
  // refuses it, which makes its updates no-ops.
  static TRITONSERVER_Metric* NewMetric(
      TRITONSERVER_MetricFamily* family, const Labels& labels)
  {
    std::vector<TRITONSERVER_Parameter*> owned;
    std::vector<const TRITONSERVER_Parameter*> params;
    for (const auto& label : labels) {
      TRITONSERVER_Parameter* param = TRITONSERVER_ParameterNew(
          label.first.c_str(), TRITONSERVER_PARAMETER_STRING,
          label.second.c_str());
      owned.push_back(param);
      params.push_back(param);
    }
    TRITONSERVER_Metric* metric = nullptr;
    TRITONSERVER_Error* err =
        TRITONSERVER_MetricNew(&metric, family, params.data(), params.size());
    for (TRITONSERVER_Parameter* param : owned) {
      TRITONSERVER_ParameterDelete(param);
    }
    if (err != nullptr) {
      LOG_WARNING << "a shared-memory metric could not be made: "
                  << TRITONSERVER_ErrorMessage(err);
      TRITONSERVER_ErrorDelete(err);
      return nullptr;
    }
    return metric;
  }

  static void Add(TRITONSERVER_Metric* metric, double delta)
  {
    if (metric == nullptr) {
      return;
    }
    TRITONSERVER_Error* err = TRITONSERVER_MetricIncrement(metric, delta);
    if (err != nullptr) {
      TRITONSERVER_ErrorDelete(err);
    }
  }

  std::once_flag make_once_;
  std::atomic<bool> tried_{false};
  std::atomic<bool> made_{false};
  TRITONSERVER_MetricFamily* regions_family_ = nullptr;
  TRITONSERVER_MetricFamily* bytes_family_ = nullptr;
  TRITONSERVER_MetricFamily* registrations_family_ = nullptr;
  TRITONSERVER_MetricFamily* unregistrations_family_ = nullptr;
  TRITONSERVER_MetricFamily* failure_family_ = nullptr;
  TRITONSERVER_MetricFamily* awaiting_family_ = nullptr;
  TRITONSERVER_Metric* regions_[kKinds] = {};
  TRITONSERVER_Metric* bytes_[kKinds] = {};
  TRITONSERVER_Metric* registrations_[kKinds] = {};
  TRITONSERVER_Metric* awaiting_[kKinds] = {};
  TRITONSERVER_Metric* unregistrations_[kKinds][2] = {};
  std::mutex failures_mu_;
  std::map<std::string, TRITONSERVER_Metric*> failures_[kKinds];
};

// A refused registration: counted under `reason`, then returned.
TRITONSERVER_Error*
Refused(KindIndex kind, const std::string& reason, TRITONSERVER_Error* err)
{
  ShmMetrics::Instance().Failed(kind, reason);
  return err;
}

// The failure reason of a triton-shm status: its name without the prefix.
std::string
StatusReason(triton_shm_status status)
{
  std::string name = triton_shm_status_name(status);
  const std::string prefix = "TRITON_SHM_";
  if (name.compare(0, prefix.size(), prefix) == 0) {
    name.erase(0, prefix.size());
  }
  return name;
}

bool
StartsWith(const std::string& text, const char* prefix)
{
  return text.compare(0, std::strlen(prefix), prefix) == 0;
}

// Triton's error for a registration triton-shm refused, in the shapes
// Triton's clients and QA read; the library's detail goes to the verbose
// log.
TRITONSERVER_Error*
RegistrationError(
    const std::string& name, const std::string& shm_key,
    triton_shm_status status)
{
  const std::string detail = LibraryMessage();
  LOG_VERBOSE(1) << "registering system shared memory region '" << name
                 << "' with key '" << shm_key
                 << "' failed: " << triton_shm_status_name(status) << ": "
                 << detail;
  const std::string failed =
      "failed to register shared memory region '" + name + "': ";
  const std::string unable_to_open =
      "Unable to open shared memory region: '" + shm_key + "'";
  switch (status) {
    case TRITON_SHM_OUT_OF_BOUNDS:
    case TRITON_SHM_INVALID_ARGUMENT:
      return MakeError(TRITONSERVER_ERROR_INVALID_ARG, failed + "invalid args");
    case TRITON_SHM_NOT_FOUND:
    case TRITON_SHM_INVALID_NAME:
    case TRITON_SHM_NAME_TOO_LONG:
      // What a failed shm_open is to upstream's server: INTERNAL.
      return MakeError(TRITONSERVER_ERROR_INTERNAL, unable_to_open);
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
          failed + "key '" + shm_key +
              "' reaches the object of another registered key");
    case TRITON_SHM_PERMISSION_DENIED:
    case TRITON_SHM_OS_ERROR:
      // The library's message names the system call that failed first.
      if (StartsWith(detail, "mmap")) {
        return MakeError(
            TRITONSERVER_ERROR_INVALID_ARG,
            failed + "unable to process address space");
      }
      if (StartsWith(detail, "fstat")) {
        return MakeError(
            TRITONSERVER_ERROR_INTERNAL,
            "Invalid shared memory region: '" + shm_key + "'");
      }
      return MakeError(TRITONSERVER_ERROR_INTERNAL, unable_to_open);
    default:
      return MakeError(
          TRITONSERVER_ERROR_INTERNAL,
          failed + triton_shm_status_name(status));
  }
}

TRITONSERVER_Error*
AlreadyInManager(const std::string& name)
{
  return MakeError(
      TRITONSERVER_ERROR_ALREADY_EXISTS,
      "shared memory region '" + name + "' already in manager");
}

#ifdef TRITON_ENABLE_GPU
// ---- CUDA ----------------------------------------------------------------------
//
// A client hands the server a cudaIpcMemHandle_t of an allocation in its
// own process. The server maps it on `device_id`, checks that the
// allocation holds `byte_size` bytes, and unmaps it on unregister. Clients
// and Triton's QA read only the codes and "failed to register shared
// memory region ...: invalid args"; the CUDA detail goes to the log.

// cuMemGetAddressRange, from the driver that the runtime loaded, looked up
// once: a server built with GPU support must start where no driver is
// installed, so it does not link libcuda.
using AddressRangeFn = CUresult (*)(CUdeviceptr*, size_t*, CUdeviceptr);

AddressRangeFn
AddressRangeQuery()
{
  static const AddressRangeFn query = []() -> AddressRangeFn {
    void* symbol = nullptr;
    const cudaError_t got = cudaGetDriverEntryPoint(
        "cuMemGetAddressRange", &symbol, cudaEnableDefault);
    if (got != cudaSuccess || symbol == nullptr) {
      LOG_ERROR << "CUDA shared memory: the driver's cuMemGetAddressRange "
                   "is not available ("
                << cudaGetErrorString(got) << ")";
      return nullptr;
    }
    return reinterpret_cast<AddressRangeFn>(symbol);
  }();
  return query;
}

// Why a CUDA registration failed, for the log and the metrics.
struct CudaRefusal {
  const char* reason;  // a fixed word: the metrics' label
  std::string detail;  // for the log only
};

// Map the client's allocation on `device_id` and check that it holds
// `byte_size` bytes. On success `*base` is the mapping; on failure nothing
// stays mapped and `*why` says what went wrong.
bool
MapClientAllocation(
    const cudaIpcMemHandle_t& handle, int device_id, size_t byte_size,
    void** base, CudaRefusal* why)
{
  int devices = 0;
  const cudaError_t counted = cudaGetDeviceCount(&devices);
  if (counted != cudaSuccess || device_id < 0 || device_id >= devices) {
    *why = {"INVALID_DEVICE",
            "device_id " + std::to_string(device_id) +
                " is not a CUDA device of this server, which has " +
                std::to_string(counted == cudaSuccess ? devices : 0)};
    return false;
  }
  cudaError_t err = cudaSetDevice(device_id);
  if (err == cudaSuccess) {
    err = cudaIpcOpenMemHandle(base, handle, cudaIpcMemLazyEnablePeerAccess);
  }
  if (err != cudaSuccess) {
    *why = {"CUDA_IPC_OPEN",
            std::string("the IPC handle does not open on device ") +
                std::to_string(device_id) + ": " + cudaGetErrorString(err)};
    return false;
  }

  const AddressRangeFn query = AddressRangeQuery();
  size_t allocation = 0;
  CUresult sized = CUDA_ERROR_NOT_FOUND;
  if (query != nullptr) {
    sized = query(nullptr, &allocation, reinterpret_cast<CUdeviceptr>(*base));
  }
  if (sized != CUDA_SUCCESS || byte_size > allocation) {
    *why = {sized != CUDA_SUCCESS ? "CUDA_DRIVER" : "OUT_OF_BOUNDS",
            sized != CUDA_SUCCESS
                ? "the size of the allocation is unknown (CUresult " +
                      std::to_string(static_cast<int>(sized)) + ")"
                : "byte_size " + std::to_string(byte_size) +
                      " is more than the allocation's " +
                      std::to_string(allocation) + " bytes"};
    (void)cudaIpcCloseMemHandle(*base);
    *base = nullptr;
    return false;
  }
  return true;
}

TRITONSERVER_Error*
UnmapClientAllocation(void* base)
{
  const cudaError_t err = cudaIpcCloseMemHandle(base);
  if (err != cudaSuccess) {
    return MakeError(
        TRITONSERVER_ERROR_INTERNAL,
        std::string("failed to close CUDA IPC handle: ") +
            cudaGetErrorString(err));
  }
  return nullptr;
}
#endif  // TRITON_ENABLE_GPU

using Entry = std::shared_ptr<SharedMemoryManager::SharedMemoryInfo>;

// Release what an entry holds, outside the manager's mutex. On failure the
// entry still holds it and the caller puts the entry back.
TRITONSERVER_Error*
ReleaseEntry(const Entry& entry)
{
  if (entry->kind_ == TRITONSERVER_MEMORY_CPU) {
    return static_cast<SystemRegion&>(*entry).Close();
  }
#ifdef TRITON_ENABLE_GPU
  return UnmapClientAllocation(entry->mapped_addr_);
#else
  return MakeError(
      TRITONSERVER_ERROR_INVALID_ARG,
      "failed to unregister CUDA shared memory region: '" + entry->name_ +
          "', GPUs not supported");
#endif  // TRITON_ENABLE_GPU
}

// Take `name`'s entry of `memory_type` out of `map` (the caller holds the
// manager's mutex) into `*detached`, or, while a request holds it, mark it
// to be unregistered when that request lets go. Leaves `*detached` empty
// when there is nothing to release now.
void
Detach(
    std::map<std::string, Entry>& map, const std::string& name,
    TRITONSERVER_MemoryType memory_type, Entry* detached)
{
  auto it = map.find(name);
  if (it == map.end() || it->second->kind_ != memory_type) {
    return;
  }
  if (it->second.use_count() > 1) {
    if (!it->second->awaiting_unregister_) {
      it->second->awaiting_unregister_ = true;
      ShmMetrics::Instance().Deferred(KindOf(memory_type));
    }
    LOG_VERBOSE(1) << "shared memory region '" << name
                   << "' is in use by a request; it is unregistered when "
                      "the request completes";
    return;
  }
  *detached = std::move(it->second);
  map.erase(it);
}

// Release detached entries outside the mutex (UnregisterAll); those that
// fail go back into the map (as upstream keeps an entry whose unmap failed)
// and are named in `*failed`, their errors logged.
void
ReleaseDetached(
    std::mutex& mu, std::map<std::string, Entry>& map,
    std::vector<Entry>& detached, std::vector<std::string>* failed)
{
  std::vector<Entry> keep;
  for (Entry& entry : detached) {
    TRITONSERVER_Error* err = ReleaseEntry(entry);
    if (err == nullptr) {
      ShmMetrics::Instance().Unregistered(
          KindOf(entry->kind_), entry->byte_size_,
          entry->awaiting_unregister_);
      continue;
    }
    failed->push_back(entry->name_);
    LOG_VERBOSE(1) << TRITONSERVER_ErrorMessage(err);
    TRITONSERVER_ErrorDelete(err);
    keep.push_back(std::move(entry));
  }
  if (keep.empty()) {
    return;
  }
  std::lock_guard<std::mutex> lock(mu);
  for (Entry& entry : keep) {
    const std::string name = entry->name_;
    if (!map.emplace(name, std::move(entry)).second) {
      LOG_ERROR << "shared memory region '" << name
                << "' could not be released and its name was registered "
                   "again meanwhile";
    }
  }
}

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
  // Entries a request still holds leave with the manager; each is released
  // by its last holder.
  for (const auto& entry : shared_memory_map_) {
    ShmMetrics::Instance().Unregistered(
        KindOf(entry.second->kind_), entry.second->byte_size_, true);
  }
}

TRITONSERVER_Error*
SharedMemoryManager::RegisterSystemSharedMemory(
    const std::string& name, const std::string& shm_key, const size_t offset,
    const size_t byte_size)
{
  // Upstream's key check first: all slashes, or the Python backend's prefix.
  TRITONSERVER_Error* invalid = ValidateSharedMemoryKey(name, shm_key);
  if (invalid != nullptr) {
    return Refused(kSystemKind, "INVALID_KEY", invalid);
  }
  // Upstream refuses a registered name before it opens anything. Here the
  // mutex is taken once on the way that succeeds, to insert; a registration
  // that fails before that looks the name up then, so a registered name is
  // ALREADY_EXISTS whatever else is wrong, as upstream answers.
  auto already = [&]() -> TRITONSERVER_Error* {
    return Refused(kSystemKind, "ALREADY_EXISTS", AlreadyInManager(name));
  };
  auto taken = [&]() {
    std::lock_guard<std::mutex> lock(mu_);
    return shared_memory_map_.find(name) != shared_memory_map_.end();
  };
  // A key with a NUL byte would reach the system cut short.
  if (shm_key.find('\0') != std::string::npos) {
    if (taken()) {
      return already();
    }
    return Refused(
        kSystemKind, "INVALID_KEY",
        MakeError(
            TRITONSERVER_ERROR_INVALID_ARG,
            "Unable to open shared memory region: '" + shm_key + "'"));
  }

  FollowVerboseLog();
  triton_shm_registry* registry = nullptr;
  TRITONSERVER_Error* unavailable = ServerRegistry(&registry);
  if (unavailable != nullptr) {
    if (taken()) {
      TRITONSERVER_ErrorDelete(unavailable);
      return already();
    }
    return Refused(kSystemKind, "REGISTRY", unavailable);
  }

  // Outside the mutex: the name checks, shm_open, fstat, the bounds check
  // (offset + byte_size against the object, overflow included), mmap from
  // the page at or below `offset`, and close on every path.
  triton_shm_mapping mapping{};
  const triton_shm_status status = triton_shm_mapping_open(
      registry, shm_key.c_str(), offset, byte_size, 0 /* flags */, &mapping);
  if (status != TRITON_SHM_OK) {
    if (taken()) {
      return already();
    }
    return Refused(
        kSystemKind, StatusReason(status),
        RegistrationError(name, shm_key, status));
  }
  auto entry =
      std::make_shared<SystemRegion>(name, shm_key, offset, byte_size, mapping);

  bool inserted = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    inserted = shared_memory_map_.try_emplace(name, std::move(entry)).second;
  }
  if (!inserted) {
    // The name was registered already, or another registration of it won
    // meanwhile; `entry`, left unmoved, unmaps the region when it goes.
    return already();
  }
  ShmMetrics::Instance().Registered(kSystemKind, byte_size);
  return nullptr;
}

#ifdef TRITON_ENABLE_GPU
TRITONSERVER_Error*
SharedMemoryManager::RegisterCUDASharedMemory(
    const std::string& name, const cudaIpcMemHandle_t* cuda_shm_handle,
    const size_t byte_size, const int device_id)
{
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shared_memory_map_.find(name) != shared_memory_map_.end()) {
      return Refused(kCudaKind, "ALREADY_EXISTS", AlreadyInManager(name));
    }
  }

  // Outside the mutex: the CUDA calls, which take milliseconds.
  void* base = nullptr;
  CudaRefusal why;
  if (!MapClientAllocation(
          *cuda_shm_handle, device_id, byte_size, &base, &why)) {
    LOG_ERROR << "CUDA shared memory region '" << name
              << "' is refused: " << why.detail;
    return Refused(
        kCudaKind, why.reason,
        MakeError(
            TRITONSERVER_ERROR_INVALID_ARG,
            "failed to register shared memory region '" + name +
                "': invalid args"));
  }

  auto entry = std::make_shared<CUDASharedMemoryInfo>(
      name, "", 0, byte_size, 0, base, TRITONSERVER_MEMORY_GPU, device_id,
      cuda_shm_handle);
  bool inserted = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    inserted = shared_memory_map_.emplace(name, entry).second;
  }
  if (!inserted) {
    TRITONSERVER_Error* err = UnmapClientAllocation(base);
    if (err != nullptr) {
      LOG_ERROR << TRITONSERVER_ErrorMessage(err);
      TRITONSERVER_ErrorDelete(err);
    }
    return Refused(kCudaKind, "ALREADY_EXISTS", AlreadyInManager(name));
  }
  ShmMetrics::Instance().Registered(kCudaKind, byte_size);
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
    *shm_info = it->second;  // the request's reference keeps the entry
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
  return UnregisterHelper(name, memory_type);
}

TRITONSERVER_Error*
SharedMemoryManager::UnregisterAll(TRITONSERVER_MemoryType memory_type)
{
  if (memory_type != TRITONSERVER_MEMORY_CPU &&
      memory_type != TRITONSERVER_MEMORY_GPU) {
    return nullptr;
  }

  std::vector<Entry> detached;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> names;
    for (const auto& entry : shared_memory_map_) {
      if (entry.second->kind_ == memory_type) {
        names.push_back(entry.first);
      }
    }
    for (const std::string& name : names) {
      Entry entry;
      Detach(shared_memory_map_, name, memory_type, &entry);
      if (entry != nullptr) {
        detached.push_back(std::move(entry));
      }
    }
  }
  std::vector<std::string> failed;
  ReleaseDetached(mu_, shared_memory_map_, detached, &failed);

  if (failed.empty()) {
    return nullptr;
  }
  // Upstream's text, which clients may read: each name followed by " ,".
  std::string names;
  for (const std::string& name : failed) {
    names += name + " ,";
  }
  const std::string text =
      std::string("Failed to unregister the following ") +
      (memory_type == TRITONSERVER_MEMORY_GPU ? "cuda" : "system") +
      " shared memory regions: " + names;
  LOG_ERROR << text;
  return MakeError(TRITONSERVER_ERROR_INTERNAL, text);
}

// Unlike upstream's, called without mu_ held: it takes the mutex to detach
// the entry and releases the region after letting go of it.
TRITONSERVER_Error*
SharedMemoryManager::UnregisterHelper(
    const std::string& name, TRITONSERVER_MemoryType memory_type)
{
  Entry entry;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Detach(shared_memory_map_, name, memory_type, &entry);
  }
  if (entry == nullptr) {
    return nullptr;
  }
  TRITONSERVER_Error* err = ReleaseEntry(entry);
  if (err == nullptr) {
    ShmMetrics::Instance().Unregistered(
        KindOf(entry->kind_), entry->byte_size_, entry->awaiting_unregister_);
    return nullptr;
  }
  // The entry still holds the region: back into the map, as upstream keeps
  // an entry whose unmap failed.
  std::lock_guard<std::mutex> lock(mu_);
  if (!shared_memory_map_.emplace(name, std::move(entry)).second) {
    LOG_ERROR << "shared memory region '" << name
              << "' could not be released and its name was registered "
                 "again meanwhile";
  }
  return err;
}

}}  // namespace triton::server
