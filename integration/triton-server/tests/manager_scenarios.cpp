// The manager-level scenarios of Triton's qa/L0_shared_memory
// (shared_memory_test.py), run against the drop-in SharedMemoryManager with
// clients that create regions the way Triton's clients do:
//
//   C++ client (shm_utils.cc): shm_open(key, O_RDWR | O_CREAT, 0600) and one
//     ftruncate, the key verbatim;
//   Python client (CPython's multiprocessing.shared_memory): the same with
//     O_EXCL, under "/" + key.
//
// The naming policy is the one the manager was built with
// (TRITON_SHM_SERVER_NAMING_POLICY); the backend is TRITON_SHM_BACKEND's
// (system, or xnu-model for the model of macOS, where a client's objects
// live in the model and are made through triton-shm with posix naming, so
// that their names reach the model byte for byte).
//
//   manager_scenarios [--only SCENARIO] [--list]
//
// Runs every scenario but those marked alone, which run only with --only,
// in a process of its own. Prints one line per
// scenario and a summary; exits 1 if any scenario failed or none ran.
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "shared_memory_manager.h"
#include <sys/resource.h>

#include "metrics.h"
#include "triton/common/logging.h"
#include "triton_shm.h"

#if defined(__SANITIZE_ADDRESS__)
#define TRITON_SHM_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TRITON_SHM_TEST_ASAN 1
#endif
#endif

namespace metrics = triton::core::standin;

using triton::common::TritonJson;
using triton::server::SharedMemoryManager;

namespace {

// ---- checks ------------------------------------------------------------------

int scenario_failures = 0;

#define CHECK(cond)                                                        \
  do {                                                                     \
    if (!(cond)) {                                                         \
      std::fprintf(stderr, "  %s:%d: check failed: %s\n", __FILE__,       \
                   __LINE__, #cond);                                       \
      scenario_failures++;                                                 \
    }                                                                      \
  } while (false)

// Success: nullptr. Prints the error's code and message otherwise.
#define CHECK_OK(expr)                                                     \
  do {                                                                     \
    TRITONSERVER_Error* e__ = (expr);                                      \
    if (e__ != nullptr) {                                                  \
      std::fprintf(stderr, "  %s:%d: %s failed: %s: %s\n", __FILE__,      \
                   __LINE__, #expr, TRITONSERVER_ErrorCodeString(e__),     \
                   TRITONSERVER_ErrorMessage(e__));                        \
      TRITONSERVER_ErrorDelete(e__);                                       \
      scenario_failures++;                                                 \
    }                                                                      \
  } while (false)

// A failure with `code` whose message is exactly `message`.
#define CHECK_ERROR(expr, code, message) \
  CheckError((expr), (code), (message), true, #expr, __FILE__, __LINE__)
// A failure with `code` whose message contains `part`.
#define CHECK_ERROR_HAS(expr, code, part) \
  CheckError((expr), (code), (part), false, #expr, __FILE__, __LINE__)

void
CheckError(
    TRITONSERVER_Error* err, TRITONSERVER_Error_Code code,
    const std::string& text, bool exact, const char* what, const char* file,
    int line)
{
  if (err == nullptr) {
    std::fprintf(stderr, "  %s:%d: %s succeeded; expected an error\n", file,
                 line, what);
    scenario_failures++;
    return;
  }
  const std::string message = TRITONSERVER_ErrorMessage(err);
  const bool text_ok = exact ? message == text
                             : message.find(text) != std::string::npos;
  if (TRITONSERVER_ErrorCode(err) != code || !text_ok) {
    std::fprintf(stderr,
                 "  %s:%d: %s gave %d '%s'; expected %d and %s '%s'\n", file,
                 line, what, static_cast<int>(TRITONSERVER_ErrorCode(err)),
                 message.c_str(), static_cast<int>(code),
                 exact ? "the message" : "a message containing", text.c_str());
    scenario_failures++;
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

// ---- the configuration -------------------------------------------------------

bool
OnXnuModel()
{
  const char* backend = std::getenv("TRITON_SHM_BACKEND");
  return backend != nullptr && std::string(backend) == "xnu-model";
}

bool
DarwinNaming()
{
  return TRITON_SHM_SERVER_NAMING_POLICY == TRITON_SHM_NAMING_DARWIN;
}

// The size the system reports for an object of `size` bytes: the model of
// macOS rounds up to its 16 KiB page, as XNU does.
size_t
ReportedSize(size_t size)
{
  const size_t page = OnXnuModel() ? 16384 : 1;
  return (size + page - 1) / page * page;
}

size_t
PageSize()
{
  return OnXnuModel() ? 16384 : static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

// ---- clients -----------------------------------------------------------------

enum class ClientKind { kCpp, kPython };

struct ClientRegion {
  std::string key;     // what the client registers with the server
  std::string object;  // the name the client handed shm_open
  uint8_t* base = nullptr;
  size_t size = 0;
  triton_shm_region* model_region = nullptr;  // on the model only
  bool destroyed = false;
};

// Creates, probes and destroys regions as a client process would.
class Client {
 public:
  virtual ~Client() = default;
  // false when the client itself cannot create it (printed).
  virtual bool Create(ClientKind kind, const std::string& key, size_t size,
                      ClientRegion* out) = 0;
  virtual bool Exists(const std::string& object) = 0;
  // The client's own destroy: true when it found and removed its object.
  virtual bool Destroy(ClientRegion* region) = 0;
};

std::string
ObjectName(ClientKind kind, const std::string& key)
{
  return kind == ClientKind::kCpp ? key : "/" + key;
}

class SystemClient : public Client {
 public:
  bool Create(ClientKind kind, const std::string& key, size_t size,
              ClientRegion* out) override
  {
    out->key = key;
    out->object = ObjectName(kind, key);
    out->size = size;
    const int flags =
        O_RDWR | O_CREAT | (kind == ClientKind::kPython ? O_EXCL : 0);
    int fd = shm_open(out->object.c_str(), flags, 0600);
    if (fd == -1) {
      std::fprintf(stderr, "  client: shm_open('%s'): %s\n",
                   out->object.c_str(), std::strerror(errno));
      return false;
    }
    bool ok = ftruncate(fd, static_cast<off_t>(size)) == 0;
    void* base = ok ? mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED,
                           fd, 0)
                    : MAP_FAILED;
    close(fd);
    if (base == MAP_FAILED) {
      std::fprintf(stderr, "  client: sizing or mapping '%s': %s\n",
                   out->object.c_str(), std::strerror(errno));
      shm_unlink(out->object.c_str());
      return false;
    }
    out->base = static_cast<uint8_t*>(base);
    return true;
  }

  bool Exists(const std::string& object) override
  {
    int fd = shm_open(object.c_str(), O_RDONLY, 0);
    if (fd == -1) {
      return false;
    }
    close(fd);
    return true;
  }

  bool Destroy(ClientRegion* region) override
  {
    region->destroyed = true;
    munmap(region->base, region->size);
    return shm_unlink(region->object.c_str()) == 0;
  }
};

// On the model of macOS: objects made through triton-shm with posix naming,
// which hands the name to the model as given.
class ModelClient : public Client {
 public:
  ModelClient()
  {
    triton_shm_options options;
    if (TRITON_SHM_OPTIONS_INIT(&options) != TRITON_SHM_OK) {
      return;
    }
    options.naming_policy = TRITON_SHM_NAMING_POSIX;
    options.backend = TRITON_SHM_BACKEND_XNU_MODEL;
    options.journal = 0;
    options.reap_on_create = 0;
    options.unlink_policy = TRITON_SHM_UNLINK_OWNED_ONLY;
    (void)triton_shm_registry_new(&options, &creator_);
    options.unlink_policy = TRITON_SHM_UNLINK_NEVER;
    (void)triton_shm_registry_new(&options, &prober_);
  }
  ~ModelClient() override
  {
    triton_shm_registry_free(creator_);
    triton_shm_registry_free(prober_);
  }

  bool Create(ClientKind kind, const std::string& key, size_t size,
              ClientRegion* out) override
  {
    out->key = key;
    out->object = ObjectName(kind, key);
    out->size = size;
    if (triton_shm_region_create(creator_, out->object.c_str(), size, 0,
                                 &out->model_region) != TRITON_SHM_OK) {
      char why[512];
      (void)triton_shm_last_error_message(why, sizeof why, nullptr);
      std::fprintf(stderr, "  client: creating '%s' in the model: %s\n",
                   out->object.c_str(), why);
      return false;
    }
    out->base = static_cast<uint8_t*>(triton_shm_region_data(out->model_region));
    return true;
  }

  bool Exists(const std::string& object) override
  {
    triton_shm_region* probe = nullptr;
    if (triton_shm_region_open(prober_, object.c_str(), 0, 1, 0, &probe) !=
        TRITON_SHM_OK) {
      return false;
    }
    (void)triton_shm_region_close(probe);
    return true;
  }

  bool Destroy(ClientRegion* region) override
  {
    region->destroyed = true;
    const bool existed = Exists(region->object);
    const bool closed = triton_shm_region_close(region->model_region) ==
                        TRITON_SHM_OK;
    return existed && closed && !Exists(region->object);
  }

 private:
  triton_shm_registry* creator_ = nullptr;
  triton_shm_registry* prober_ = nullptr;
};

Client* client = nullptr;

// Regions of one scenario, destroyed by the client at its end; each must
// still be there for the client to destroy.
class Regions {
 public:
  ~Regions()
  {
    for (ClientRegion& r : regions_) {
      if (!r.destroyed) {
        if (!client->Destroy(&r)) {
          std::fprintf(stderr,
                       "  the client could not destroy its region '%s'\n",
                       r.object.c_str());
          scenario_failures++;
        }
      }
    }
  }
  ClientRegion* Create(ClientKind kind, const std::string& key, size_t size)
  {
    regions_.emplace_back();
    if (!client->Create(kind, key, size, &regions_.back())) {
      regions_.back().destroyed = true;
      scenario_failures++;
      return nullptr;
    }
    return &regions_.back();
  }

 private:
  std::deque<ClientRegion> regions_;  // push_back keeps pointers valid
};

int key_counter = 0;

// A fresh key with one leading '/', short enough for macOS after the
// Python client's extra '/'.
std::string
NewKey()
{
  return "/t" + std::to_string(getpid() % 100000) + "_" +
         std::to_string(++key_counter);
}

std::unique_ptr<SharedMemoryManager>
NewManager()
{
  return std::unique_ptr<SharedMemoryManager>(new SharedMemoryManager(true));
}

size_t
StatusCount(SharedMemoryManager& manager)
{
  TritonJson::Value status(TritonJson::ValueType::ARRAY);
  TRITONSERVER_Error* err =
      manager.GetStatus("", TRITONSERVER_MEMORY_CPU, &status);
  if (err != nullptr) {
    TRITONSERVER_ErrorDelete(err);
    scenario_failures++;
    return SIZE_MAX;
  }
  return status.ArraySize();
}

uint8_t*
Block(SharedMemoryManager& manager, const std::string& name, size_t offset,
      size_t byte_size,
      std::shared_ptr<const SharedMemoryManager::SharedMemoryInfo>* holder =
          nullptr)
{
  void* addr = nullptr;
  TRITONSERVER_MemoryType type = TRITONSERVER_MEMORY_GPU;
  int64_t device = -1;
  TRITONSERVER_Error* err = manager.GetMemoryInfo(
      name, offset, byte_size, &addr, &type, &device, holder);
  if (err != nullptr) {
    std::fprintf(stderr, "  GetMemoryInfo('%s', %zu, %zu): %s\n",
                 name.c_str(), offset, byte_size,
                 TRITONSERVER_ErrorMessage(err));
    TRITONSERVER_ErrorDelete(err);
    scenario_failures++;
    return nullptr;
  }
  CHECK(type == TRITONSERVER_MEMORY_CPU);
  CHECK(device == 0);
  return static_cast<uint8_t*>(addr);
}

const ClientKind kBothClients[] = {ClientKind::kCpp, ClientKind::kPython};

// ---- scenarios: register, unregister, status -----------------------------------

void
RegisterThenStatus()
{
  for (ClientKind kind : kBothClients) {
    Regions regions;
    ClientRegion* r = regions.Create(kind, NewKey(), 64);
    if (r == nullptr) continue;
    auto manager = NewManager();
    CHECK_OK(manager->RegisterSystemSharedMemory("input0_data", r->key, 0, 64));

    TritonJson::Value all(TritonJson::ValueType::ARRAY);
    CHECK_OK(manager->GetStatus("", TRITONSERVER_MEMORY_CPU, &all));
    CHECK(all.ArraySize() == 1);
    if (all.ArraySize() == 1) {
      std::string name, key;
      uint64_t offset = 99, byte_size = 0;
      CHECK(all.At(0).HasString("name", &name) && name == "input0_data");
      CHECK(all.At(0).HasString("key", &key) && key == r->key);
      CHECK(all.At(0).HasUInt("offset", &offset) && offset == 0);
      CHECK(all.At(0).HasUInt("byte_size", &byte_size) && byte_size == 64);
      CHECK(all.At(0).MemberCount() == 4);
    }
    TritonJson::Value one(TritonJson::ValueType::ARRAY);
    CHECK_OK(manager->GetStatus("input0_data", TRITONSERVER_MEMORY_CPU, &one));
    CHECK(one.ArraySize() == 1);
    TritonJson::Value cuda(TritonJson::ValueType::ARRAY);
    CHECK_OK(manager->GetStatus("", TRITONSERVER_MEMORY_GPU, &cuda));
    CHECK(cuda.ArraySize() == 0);

    TritonJson::Value none(TritonJson::ValueType::ARRAY);
    CHECK_ERROR(manager->GetStatus("missing", TRITONSERVER_MEMORY_CPU, &none),
                TRITONSERVER_ERROR_NOT_FOUND,
                "Unable to find system shared memory region: 'missing'");
    CHECK_ERROR(manager->GetStatus("missing", TRITONSERVER_MEMORY_GPU, &none),
                TRITONSERVER_ERROR_NOT_FOUND,
                "Unable to find cuda shared memory region: 'missing'");
    CHECK_ERROR(
        manager->GetStatus("input0_data", TRITONSERVER_MEMORY_GPU, &none),
        TRITONSERVER_ERROR_NOT_FOUND,
        "The region named 'input0_data' is registered as system shared "
        "memory, not CUDA shared memory");
    CHECK(none.ArraySize() == 0);
  }
}

void
UnregisterBeforeAndAfterRegister()
{
  for (ClientKind kind : kBothClients) {
    Regions regions;
    ClientRegion* r = regions.Create(kind, NewKey(), 8);
    if (r == nullptr) continue;
    auto manager = NewManager();
    // Unregistering what was never registered is not an error.
    CHECK_OK(manager->Unregister("dummy_data", TRITONSERVER_MEMORY_CPU));
    CHECK(StatusCount(*manager) == 0);
    CHECK_OK(manager->RegisterSystemSharedMemory("dummy_data", r->key, 0, 8));
    CHECK(StatusCount(*manager) == 1);
    CHECK_OK(manager->Unregister("dummy_data", TRITONSERVER_MEMORY_CPU));
    CHECK(StatusCount(*manager) == 0);
    CHECK_OK(manager->Unregister("dummy_data", TRITONSERVER_MEMORY_CPU));
    // The client's object is untouched by the server.
    CHECK(client->Exists(r->object));
    // And can be registered again.
    CHECK_OK(manager->RegisterSystemSharedMemory("dummy_data", r->key, 0, 8));
    CHECK(StatusCount(*manager) == 1);
  }
}

void
UnregisterAllRemovesEveryRegion()
{
  Regions regions;
  auto manager = NewManager();
  const char* names[] = {"input0_data", "input1_data", "output0_data",
                         "output1_data"};
  std::vector<ClientRegion*> made;
  for (int i = 0; i < 4; i++) {
    ClientRegion* r = regions.Create(kBothClients[i % 2], NewKey(), 64);
    if (r == nullptr) return;
    made.push_back(r);
    CHECK_OK(manager->RegisterSystemSharedMemory(names[i], r->key, 0, 64));
  }
  CHECK(StatusCount(*manager) == 4);
  CHECK_OK(manager->UnregisterAll(TRITONSERVER_MEMORY_CPU));
  CHECK(StatusCount(*manager) == 0);
  CHECK_OK(manager->UnregisterAll(TRITONSERVER_MEMORY_CPU));
  CHECK_OK(manager->UnregisterAll(TRITONSERVER_MEMORY_GPU));
  for (ClientRegion* r : made) CHECK(client->Exists(r->object));
}

void
DuplicateNamesAreRefused()
{
  for (ClientKind kind : kBothClients) {
    Regions regions;
    ClientRegion* r = regions.Create(kind, NewKey(), 8);
    ClientRegion* other = regions.Create(kind, NewKey(), 8);
    if (r == nullptr || other == nullptr) continue;
    auto manager = NewManager();
    CHECK_OK(manager->RegisterSystemSharedMemory("dummy_data", r->key, 0, 8));
    CHECK_ERROR(
        manager->RegisterSystemSharedMemory("dummy_data", r->key, 0, 8),
        TRITONSERVER_ERROR_ALREADY_EXISTS,
        "shared memory region 'dummy_data' already in manager");
    CHECK_ERROR(
        manager->RegisterSystemSharedMemory("dummy_data", other->key, 0, 8),
        TRITONSERVER_ERROR_ALREADY_EXISTS,
        "shared memory region 'dummy_data' already in manager");
    // Whatever else is wrong with it: upstream looks the name up first.
    const std::string wrong_keys[] = {
        NewKey(),                       // no such object
        other->key,                     // with a size past the object, below
        std::string("/dummy\0key", 10),  // a NUL in the key
    };
    const size_t sizes[] = {8, 4096, 8};
    for (size_t i = 0; i < 3; i++) {
      CHECK_ERROR(
          manager->RegisterSystemSharedMemory(
              "dummy_data", wrong_keys[i], 0, sizes[i]),
          TRITONSERVER_ERROR_ALREADY_EXISTS,
          "shared memory region 'dummy_data' already in manager");
    }
    CHECK(StatusCount(*manager) == 1);
    uint8_t* block = Block(*manager, "dummy_data", 0, 8);
    if (block != nullptr) {
      r->base[5] = 55;
      CHECK(block[5] == 55);  // still r's region
    }
  }
}

// qa/L0_grpc/python_grpc_aio_test.py test_register_system_shared_memory:
// a key nothing was created under, byte_size 0, reads
// "[StatusCode.INTERNAL] Unable to open shared memory region: '/test_shm'".
// The object is looked for before the size is judged, so a positive size
// and an overflowing offset + size read the same.
void
MissingKeysAreRefused()
{
  auto manager = NewManager();
  const std::string key = NewKey();
  const std::string message =
      "Unable to open shared memory region: '" + key + "'";
  CHECK_ERROR(manager->RegisterSystemSharedMemory("test_shm", key, 0, 0),
              TRITONSERVER_ERROR_INTERNAL, message);
  CHECK_ERROR(manager->RegisterSystemSharedMemory("dummy_data", key, 0, 8),
              TRITONSERVER_ERROR_INTERNAL, message);
  CHECK_ERROR(
      manager->RegisterSystemSharedMemory("dummy_data", key, SIZE_MAX, 2),
      TRITONSERVER_ERROR_INTERNAL, message);
  CHECK(StatusCount(*manager) == 0);
  void* addr = nullptr;
  TRITONSERVER_MemoryType type;
  int64_t device;
  CHECK_ERROR(manager->GetMemoryInfo("dummy_data", 0, 8, &addr, &type, &device,
                                     nullptr),
              TRITONSERVER_ERROR_NOT_FOUND,
              "Unable to find shared memory region: 'dummy_data'");
}

// ---- scenarios: keys -----------------------------------------------------------

void
ReservedKeysAreRefusedWithAnySlashes()
{
  auto manager = NewManager();
  const std::string slashes[] = {"", "/", "//", "///"};
  for (const std::string& lead : slashes) {
    // Upstream's check, with upstream's message.
    const std::string key =
        lead + "triton_python_backend_shm_region__my_test_shm_key";
    CHECK_ERROR(
        manager->RegisterSystemSharedMemory("my_test_shm_name", key, 0, 10000),
        TRITONSERVER_ERROR_INVALID_ARG,
        "cannot register shared memory region 'my_test_shm_name' with key '" +
            key +
            "' as the key contains the reserved prefix "
            "'triton_python_backend_shm_region_'");
    // Every Python-based backend's prefix, which upstream's check misses.
    const std::string other = lead + "triton_pytorch_backend_shm_region_k";
    CHECK_ERROR(
        manager->RegisterSystemSharedMemory("my_test_shm_name", other, 0, 8),
        TRITONSERVER_ERROR_INVALID_ARG,
        "cannot register shared memory region 'my_test_shm_name' with key '" +
            other + "' as the key contains a prefix reserved for Triton's "
                    "backends");
  }
  CHECK(StatusCount(*manager) == 0);
}

// qa/L0_shared_memory test_register_invalid_shm_key: keys of slashes only.
void
InvalidKeysAreRefused()
{
  auto manager = NewManager();
  for (const std::string key : {"/", "///"}) {
    CHECK_ERROR(
        manager->RegisterSystemSharedMemory("my_test_shm_name", key, 0, 10000),
        TRITONSERVER_ERROR_INVALID_ARG,
        "cannot register shared memory region 'my_test_shm_name' - invalid "
        "shm key '" +
            key + "'");
  }
  CHECK(StatusCount(*manager) == 0);
}

// qa/L0_http/python_http_aio_test.py test_register_system_shared_memory:
// an empty name and key with byte_size 0 fail (the test's regex is "").
void
EmptyNameAndKeyAreRefused()
{
  auto manager = NewManager();
  TRITONSERVER_Error* err = manager->RegisterSystemSharedMemory("", "", 0, 0);
  CHECK(err != nullptr);
  if (err != nullptr) TRITONSERVER_ErrorDelete(err);
  CHECK(StatusCount(*manager) == 0);
}

void
OneKeyUnderTwoNames()
{
  for (ClientKind kind : kBothClients) {
    Regions regions;
    ClientRegion* r = regions.Create(kind, NewKey(), 128);
    if (r == nullptr) continue;
    auto manager = NewManager();
    CHECK_OK(manager->RegisterSystemSharedMemory("first", r->key, 0, 64));
    CHECK_OK(manager->RegisterSystemSharedMemory("second", r->key, 64, 64));
    uint8_t* first = Block(*manager, "first", 0, 64);
    uint8_t* second = Block(*manager, "second", 0, 64);
    if (first != nullptr && second != nullptr) {
      r->base[0] = 11;
      r->base[64] = 22;
      CHECK(first[0] == 11);
      CHECK(second[0] == 22);
    }
    CHECK_OK(manager->Unregister("first", TRITONSERVER_MEMORY_CPU));
    second = Block(*manager, "second", 0, 64);
    if (second != nullptr) CHECK(second[0] == 22);
    CHECK(client->Exists(r->object));
  }
}

// ---- scenarios: offsets and sizes ------------------------------------------------

void
GetMemoryInfoChecksOffsets()
{
  Regions regions;
  ClientRegion* r = regions.Create(ClientKind::kCpp, NewKey(), 128);
  if (r == nullptr) return;
  auto manager = NewManager();
  CHECK_OK(manager->RegisterSystemSharedMemory("output0_data", r->key, 64, 64));
  for (size_t i = 0; i < 128; i++) r->base[i] = static_cast<uint8_t>(i);

  uint8_t* start = Block(*manager, "output0_data", 0, 64);
  if (start != nullptr) CHECK(start[0] == 64);
  uint8_t* last = Block(*manager, "output0_data", 63, 1);
  if (last != nullptr) CHECK(last[0] == 127);

  void* addr = nullptr;
  TRITONSERVER_MemoryType type;
  int64_t device;
  CHECK_ERROR(manager->GetMemoryInfo("output0_data", 64, 0, &addr, &type,
                                     &device, nullptr),
              TRITONSERVER_ERROR_INVALID_ARG,
              "Invalid offset for shared memory region: 'output0_data'");
  // HTTP's -32 in an unsigned offset.
  CHECK_ERROR(manager->GetMemoryInfo("output0_data", SIZE_MAX - 31, 64, &addr,
                                     &type, &device, nullptr),
              TRITONSERVER_ERROR_INVALID_ARG,
              "Invalid offset for shared memory region: 'output0_data'");
  CHECK_ERROR(manager->GetMemoryInfo("output0_data", 1, 64, &addr, &type,
                                     &device, nullptr),
              TRITONSERVER_ERROR_INVALID_ARG,
              "Invalid offset + byte size for shared memory region: "
              "'output0_data'");
  const size_t huge = SIZE_MAX - 31;
  CHECK_ERROR(
      manager->GetMemoryInfo("output0_data", 32, huge, &addr, &type, &device,
                             nullptr),
      TRITONSERVER_ERROR_INVALID_ARG,
      "Integer overflow detected: byte_size (" + std::to_string(huge) +
          ") + offset (32) exceeds maximum value (" +
          std::to_string(SIZE_MAX) + ") for region 'output0_data'");
  CHECK(addr == nullptr);
}

void
RegistrationsOutOfBoundsAreRefused()
{
  const size_t size = 64;
  for (ClientKind kind : kBothClients) {
    Regions regions;
    ClientRegion* r = regions.Create(kind, NewKey(), size);
    if (r == nullptr) continue;
    auto manager = NewManager();
    const std::string invalid_args =
        "failed to register shared memory region 'input0_data': invalid args";
    // (byte_size, offset) pairs of test_register_out_of_bound, past the
    // size the system reports (on macOS the page-rounded one: see README).
    const size_t reported = ReportedSize(size);
    const struct {
      size_t byte_size, offset;
    } past[] = {{reported + 1, 0}, {reported, 1}, {1, reported},
                {0, reported + 1}};
    for (const auto& c : past) {
      CHECK_ERROR(manager->RegisterSystemSharedMemory("input0_data", r->key,
                                                      c.offset, c.byte_size),
                  TRITONSERVER_ERROR_INVALID_ARG, invalid_args);
    }
    // offset + byte_size overflowing SIZE_MAX is refused at registration.
    CHECK_ERROR(manager->RegisterSystemSharedMemory("input0_data", r->key,
                                                    SIZE_MAX - 10, 64),
                TRITONSERVER_ERROR_INVALID_ARG, invalid_args);
    CHECK_ERROR(manager->RegisterSystemSharedMemory("input0_data", r->key, 32,
                                                    SIZE_MAX - 31),
                TRITONSERVER_ERROR_INVALID_ARG, invalid_args);
    CHECK(StatusCount(*manager) == 0);
    // The last byte is in range.
    CHECK_OK(manager->RegisterSystemSharedMemory("input0_data", r->key,
                                                 size - 1, 1));
  }
}

// On macOS a registration a few bytes past the client's size succeeds: the
// kernel reports only the page-rounded size (README: what cannot change).
void
MacosReportsPageRoundedSizes()
{
  if (!OnXnuModel()) {
    std::printf("  skipped: only the model of macOS rounds sizes to a page\n");
    return;
  }
  Regions regions;
  ClientRegion* r = regions.Create(ClientKind::kCpp, NewKey(), 64);
  if (r == nullptr) return;
  auto manager = NewManager();
  CHECK_OK(manager->RegisterSystemSharedMemory("input0_data", r->key, 0, 65));
}

void
LargeRegionAtALargeOffset()
{
  // test_large_shm_register_offset: a region of 1024 pages registered one
  // page before its end.
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  for (ClientKind kind : kBothClients) {
    Regions regions;
    ClientRegion* r = regions.Create(kind, NewKey(), page * 1024);
    if (r == nullptr) continue;
    auto manager = NewManager();
    CHECK_OK(manager->RegisterSystemSharedMemory("input0_data", r->key,
                                                 page * 1023, 64));
    r->base[page * 1023] = 7;
    r->base[page * 1023 + 63] = 9;
    uint8_t* block = Block(*manager, "input0_data", 0, 64);
    if (block != nullptr) CHECK(block[0] == 7 && block[63] == 9);
  }
}

void
UnalignedOffsetsWork()
{
  for (ClientKind kind : kBothClients) {
    Regions regions;
    ClientRegion* r = regions.Create(kind, NewKey(), 3 * PageSize());
    if (r == nullptr) continue;
    auto manager = NewManager();
    for (size_t i = 0; i < 3 * PageSize(); i++) {
      r->base[i] = static_cast<uint8_t>(i * 7);
    }
    const size_t offsets[] = {1, 13, PageSize() - 1, PageSize() + 5};
    for (size_t offset : offsets) {
      const std::string name = "unaligned_" + std::to_string(offset);
      CHECK_OK(
          manager->RegisterSystemSharedMemory(name, r->key, offset, 100));
      uint8_t* block = Block(*manager, name, 0, 100);
      if (block != nullptr) {
        CHECK(block[0] == static_cast<uint8_t>(offset * 7));
        CHECK(block[99] == static_cast<uint8_t>((offset + 99) * 7));
      }
    }
    CHECK_OK(manager->UnregisterAll(TRITONSERVER_MEMORY_CPU));
  }
}

// ---- scenarios: data and lifetimes ---------------------------------------------

void
DataIsVisibleBothWays()
{
  for (ClientKind kind : kBothClients) {
    Regions regions;
    ClientRegion* r = regions.Create(kind, NewKey(), 256);
    if (r == nullptr) continue;
    auto manager = NewManager();
    CHECK_OK(manager->RegisterSystemSharedMemory("io", r->key, 16, 128));
    uint8_t* block = Block(*manager, "io", 0, 128);
    if (block == nullptr) continue;
    std::memcpy(r->base + 16, "from the client", 16);
    CHECK(std::memcmp(block, "from the client", 16) == 0);
    std::memcpy(block + 64, "from the server", 16);
    CHECK(std::memcmp(r->base + 80, "from the server", 16) == 0);
  }
}

void
ClientRegionsOutliveTheManager()
{
  for (ClientKind kind : kBothClients) {
    Regions regions;
    ClientRegion* r = regions.Create(kind, NewKey(), 64);
    ClientRegion* kept = regions.Create(kind, NewKey(), 64);
    if (r == nullptr || kept == nullptr) continue;
    {
      auto manager = NewManager();
      CHECK_OK(manager->RegisterSystemSharedMemory("a", r->key, 0, 64));
      CHECK_OK(manager->RegisterSystemSharedMemory("b", kept->key, 0, 64));
      CHECK_OK(manager->Unregister("a", TRITONSERVER_MEMORY_CPU));
      // "b" is still registered when the manager goes.
    }
    std::memcpy(r->base, "intact", 7);
    std::memcpy(kept->base, "intact", 7);
    CHECK(client->Exists(r->object));
    CHECK(client->Exists(kept->object));
    // The client's own destroy succeeds: Regions checks it.
  }
}

void
DeferredUnregisterWithOneHolder()
{
  Regions regions;
  ClientRegion* r = regions.Create(ClientKind::kPython, NewKey(), 64);
  if (r == nullptr) return;
  auto manager = NewManager();
  CHECK_OK(manager->RegisterSystemSharedMemory("input0_data", r->key, 0, 64));
  std::shared_ptr<const SharedMemoryManager::SharedMemoryInfo> held;
  uint8_t* block = Block(*manager, "input0_data", 0, 64, &held);
  CHECK(held != nullptr);
  if (held == nullptr || block == nullptr) return;
  CHECK(!held->awaiting_unregister_);

  // In flight: unregister is deferred, the block stays mapped and listed.
  CHECK_OK(manager->Unregister("input0_data", TRITONSERVER_MEMORY_CPU));
  CHECK(held->awaiting_unregister_);
  CHECK(StatusCount(*manager) == 1);
  r->base[5] = 55;
  CHECK(block[5] == 55);
  // UnregisterAll defers it too, without an error.
  CHECK_OK(manager->UnregisterAll(TRITONSERVER_MEMORY_CPU));
  CHECK(StatusCount(*manager) == 1);

  // The request completes, drops its reference and unregisters again, as
  // Triton's HTTP and gRPC request objects do.
  const bool awaiting = held->awaiting_unregister_;
  held.reset();
  CHECK(awaiting);
  CHECK_OK(manager->Unregister("input0_data", TRITONSERVER_MEMORY_CPU));
  CHECK(StatusCount(*manager) == 0);
  CHECK(client->Exists(r->object));
}

void
DeferredUnregisterWithTwoHolders()
{
  Regions regions;
  ClientRegion* r = regions.Create(ClientKind::kCpp, NewKey(), 64);
  if (r == nullptr) return;
  auto manager = NewManager();
  CHECK_OK(manager->RegisterSystemSharedMemory("input0_data", r->key, 0, 64));
  std::shared_ptr<const SharedMemoryManager::SharedMemoryInfo> first, second;
  (void)Block(*manager, "input0_data", 0, 32, &first);
  uint8_t* block = Block(*manager, "input0_data", 32, 32, &second);
  if (first == nullptr || second == nullptr || block == nullptr) {
    scenario_failures++;
    return;
  }
  CHECK_OK(manager->Unregister("input0_data", TRITONSERVER_MEMORY_CPU));
  CHECK(first->awaiting_unregister_);

  first.reset();
  CHECK_OK(manager->Unregister("input0_data", TRITONSERVER_MEMORY_CPU));
  CHECK(StatusCount(*manager) == 1);
  r->base[32] = 3;
  CHECK(block[0] == 3);

  second.reset();
  CHECK_OK(manager->Unregister("input0_data", TRITONSERVER_MEMORY_CPU));
  CHECK(StatusCount(*manager) == 0);
}

// A request may hold a block past the manager's life; the block stays
// mapped until it lets go.
void
AHolderOutlivesTheManager()
{
  Regions regions;
  ClientRegion* r = regions.Create(ClientKind::kCpp, NewKey(), 64);
  if (r == nullptr) return;
  std::shared_ptr<const SharedMemoryManager::SharedMemoryInfo> held;
  uint8_t* block = nullptr;
  {
    auto manager = NewManager();
    CHECK_OK(manager->RegisterSystemSharedMemory("input0_data", r->key, 0, 64));
    block = Block(*manager, "input0_data", 0, 64, &held);
  }
  if (block == nullptr) return;
  r->base[1] = 42;
  CHECK(block[1] == 42);
  CHECK(held->name_ == "input0_data");
  held.reset();
  CHECK(client->Exists(r->object));
}

// ---- scenarios: the server role --------------------------------------------------

std::string state_root;  // TMPDIR of this run, empty of anything else

size_t
EntriesIn(const std::string& dir)
{
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return 0;
  size_t n = 0;
  while (dirent* e = readdir(d)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
      n++;
    }
  }
  closedir(d);
  return n;
}

// Both run alone in a fresh process (--only), since any earlier registry
// of the process could have made a state directory.
void
ADisabledManagerTouchesNoFile()
{
  {
    // allow_client_shm off: Triton's frontends refuse registrations before
    // they reach the manager; making and destroying it touches nothing.
    SharedMemoryManager disabled(false);
    CHECK(!disabled.AllowClientSharedMemory());
    TritonJson::Value status(TritonJson::ValueType::ARRAY);
    CHECK_OK(disabled.GetStatus("", TRITONSERVER_MEMORY_CPU, &status));
    CHECK(status.ArraySize() == 0);
    CHECK_OK(disabled.UnregisterAll(TRITONSERVER_MEMORY_CPU));
  }
  CHECK(EntriesIn(state_root) == 0);
}

// A server that maps client regions needs no journal: registering,
// unregistering and destroying the manager leave nothing under TMPDIR.
void
AServingManagerTouchesNoFile()
{
  {
    Regions regions;
    ClientRegion* r = regions.Create(ClientKind::kCpp, NewKey(), 64);
    if (r == nullptr) return;
    auto manager = NewManager();
    CHECK(manager->AllowClientSharedMemory());
    CHECK_OK(manager->RegisterSystemSharedMemory("a", r->key, 0, 64));
    CHECK_OK(manager->Unregister("a", TRITONSERVER_MEMORY_CPU));
  }
  CHECK(EntriesIn(state_root) == 0);
}

void
TheEnvironmentCannotMakeTheServerUnlink()
{
  setenv("TRITON_SHM_UNLINK_POLICY", "all", 1);
  setenv("TRITON_SHM_NAMING", "not-a-policy", 1);
  setenv("TRITON_SHM_JOURNAL", "on", 1);
  setenv("TRITON_SHM_STATE_DIR", "/proc/triton-shm-not-here", 1);
  for (ClientKind kind : kBothClients) {
    Regions regions;
    ClientRegion* r = regions.Create(kind, NewKey(), 64);
    ClientRegion* s = regions.Create(kind, NewKey(), 64);
    if (r == nullptr || s == nullptr) continue;
    {
      auto manager = NewManager();
      CHECK_OK(manager->RegisterSystemSharedMemory("a", r->key, 0, 64));
      CHECK_OK(manager->RegisterSystemSharedMemory("b", s->key, 0, 64));
      CHECK_OK(manager->Unregister("a", TRITONSERVER_MEMORY_CPU));
      CHECK(client->Exists(r->object));
      CHECK_OK(manager->UnregisterAll(TRITONSERVER_MEMORY_CPU));
      CHECK(client->Exists(s->object));
      CHECK_OK(manager->RegisterSystemSharedMemory("b", s->key, 0, 64));
    }
    CHECK(client->Exists(s->object));
  }
  unsetenv("TRITON_SHM_UNLINK_POLICY");
  unsetenv("TRITON_SHM_NAMING");
  unsetenv("TRITON_SHM_JOURNAL");
  unsetenv("TRITON_SHM_STATE_DIR");
}

// The registry is made by the first registration of the process, so a
// registry the library cannot make is that registration's error, and a
// later one can succeed. Alone: an earlier scenario would have made it.
void
ARegistryThatCannotBeMadeFailsTheRegistration()
{
#ifndef TRITON_SHM_TEST_XNU_MODEL
  std::printf("  skipped: a library without the model ignores "
              "TRITON_SHM_BACKEND (the_backend_variable_does_not_reach_"
              "the_server checks it)\n");
  return;
#endif
  Regions regions;
  ClientRegion* r = regions.Create(ClientKind::kCpp, NewKey(), 64);
  if (r == nullptr) return;
  const char* was = std::getenv("TRITON_SHM_BACKEND");
  const std::string backend = was != nullptr ? was : "";
  auto manager = NewManager();
  setenv("TRITON_SHM_BACKEND", "windows", 1);
  CHECK_ERROR_HAS(manager->RegisterSystemSharedMemory("a", r->key, 0, 64),
                  TRITONSERVER_ERROR_INTERNAL,
                  "unable to set up system shared memory: TRITON_SHM_BACKEND='windows'");
  if (was != nullptr) {
    setenv("TRITON_SHM_BACKEND", backend.c_str(), 1);
  } else {
    unsetenv("TRITON_SHM_BACKEND");
  }
  CHECK(StatusCount(*manager) == 0);
  CHECK_OK(manager->RegisterSystemSharedMemory("a", r->key, 0, 64));
  CHECK(StatusCount(*manager) == 1);
}

void
LibraryDetailGoesToTheVerboseLog()
{
  triton::common::standin::ClearLog();
  auto manager = NewManager();
  const std::string key = NewKey();
  TRITONSERVER_Error* err =
      manager->RegisterSystemSharedMemory("dummy_data", key, 0, 8);
  CHECK(err != nullptr);
  if (err != nullptr) TRITONSERVER_ErrorDelete(err);
  bool found = false;
  for (const std::string& line : triton::common::standin::LogLines()) {
    if (line.rfind("VERBOSE ", 0) == 0 &&
        line.find("TRITON_SHM_NOT_FOUND") != std::string::npos &&
        line.find(key) != std::string::npos) {
      found = true;
    }
  }
  CHECK(found);
}

// The library's own lines reach the verbose log only while it is on; with
// it off the library is given no callback, so it formats nothing.
void
LibraryLinesFollowTheVerboseLevel()
{
  Regions regions;
  ClientRegion* r = regions.Create(ClientKind::kCpp, NewKey(), 64);
  if (r == nullptr) return;
  auto manager = NewManager();
  auto library_lines = [] {
    size_t n = 0;
    for (const std::string& line : triton::common::standin::LogLines()) {
      if (line.find("triton-shm: ") != std::string::npos) n++;
    }
    return n;
  };
  triton::common::standin::SetVerboseLevel(0);
  triton::common::standin::ClearLog();
  CHECK_OK(manager->RegisterSystemSharedMemory("a", r->key, 0, 64));
  CHECK_OK(manager->Unregister("a", TRITONSERVER_MEMORY_CPU));
  CHECK(library_lines() == 0);
  triton::common::standin::SetVerboseLevel(1);
  CHECK_OK(manager->RegisterSystemSharedMemory("a", r->key, 0, 64));
  CHECK_OK(manager->Unregister("a", TRITONSERVER_MEMORY_CPU));
  CHECK(library_lines() > 0);
}

// Linux: "/k", "k" and "//k" are one object (glibc strips leading slashes).
// Upstream registers each, and so does the drop-in: the server never
// unlinks, so no unlink can reach the object through another key.
void
OneObjectUnderTwoKeys()
{
  if (OnXnuModel()) {
    std::printf("  skipped: on macOS '/k', 'k' and '//k' are three objects\n");
    return;
  }
  Regions regions;
  ClientRegion* r = regions.Create(ClientKind::kCpp, NewKey(), 64);
  if (r == nullptr) return;
  auto manager = NewManager();
  const std::string bare = r->key.substr(1);
  CHECK_OK(manager->RegisterSystemSharedMemory("slash", r->key, 0, 64));
  CHECK_OK(manager->RegisterSystemSharedMemory("bare", bare, 0, 64));
  CHECK_OK(manager->RegisterSystemSharedMemory("double", "/" + r->key, 0, 64));
  uint8_t* a = Block(*manager, "slash", 0, 64);
  uint8_t* b = Block(*manager, "bare", 0, 64);
  if (a != nullptr && b != nullptr) {
    a[0] = 99;
    CHECK(b[0] == 99);
  }
  CHECK_OK(manager->UnregisterAll(TRITONSERVER_MEMORY_CPU));
  CHECK(client->Exists(r->object));
}

// macOS: the C++ client creates its key verbatim, so key "k" is the object
// "k", which the darwin policy finds after the normalised "/k".
void
VerbatimKeysWithoutASlash()
{
  Regions regions;
  const std::string key = NewKey().substr(1);
  ClientRegion* r = regions.Create(ClientKind::kCpp, key, 64);
  if (r == nullptr) return;
  auto manager = NewManager();
  CHECK_OK(manager->RegisterSystemSharedMemory("bare", key, 0, 64));
  uint8_t* block = Block(*manager, "bare", 0, 64);
  if (block != nullptr) {
    r->base[3] = 33;
    CHECK(block[3] == 33);
  }
}


// A library built as it ships never reads TRITON_SHM_BACKEND: no value in
// the server's environment changes its backend or fails its registry.
// Alone, so that the registry is made under the variable.
void
TheBackendVariableDoesNotReachTheServer()
{
#ifdef TRITON_SHM_TEST_XNU_MODEL
  std::printf("  skipped: this library has the model, so it reads "
              "TRITON_SHM_BACKEND (the installed package's run checks "
              "this)\n");
  return;
#endif
  Regions regions;
  ClientRegion* r = regions.Create(ClientKind::kCpp, NewKey(), 64);
  if (r == nullptr) return;
  const char* was = std::getenv("TRITON_SHM_BACKEND");
  const std::string backend = was != nullptr ? was : "";
  for (const char* value : {"windows", "xnu-model"}) {
    setenv("TRITON_SHM_BACKEND", value, 1);
    auto manager = NewManager();
    CHECK_OK(manager->RegisterSystemSharedMemory("a", r->key, 0, 64));
    uint8_t* block = Block(*manager, "a", 0, 64);
    if (block != nullptr) {
      r->base[7] = 77;
      CHECK(block[7] == 77);  // the real object, not a model's
    }
  }
  if (was != nullptr) {
    setenv("TRITON_SHM_BACKEND", backend.c_str(), 1);
  } else {
    unsetenv("TRITON_SHM_BACKEND");
  }
}

// An mmap the system refuses (here: past the address-space limit) is
// upstream's INVALID_ARG "...unable to process address space", not an
// open failure. Alone: it lowers this process's RLIMIT_AS.
void
AnMmapFailureIsInvalidArg()
{
#ifdef TRITON_SHM_TEST_ASAN
  std::printf("  skipped: AddressSanitizer needs more address space than "
              "the limit this scenario sets\n");
  return;
#endif
  if (OnXnuModel()) {
    std::printf("  skipped: the model of macOS maps through the real OS "
                "only what it holds\n");
    return;
  }
  const size_t size = size_t(1) << 30;  // 1 GiB, sparse: never touched
  const std::string key = NewKey();
  int fd = shm_open(key.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
  if (fd == -1 || ftruncate(fd, static_cast<off_t>(size)) != 0) {
    std::fprintf(stderr, "  client: %s\n", std::strerror(errno));
    scenario_failures++;
    if (fd != -1) close(fd);
    shm_unlink(key.c_str());
    return;
  }
  close(fd);
  auto manager = NewManager();
  // The registry is made before the limit.
  CHECK_ERROR_HAS(manager->RegisterSystemSharedMemory("warm", NewKey(), 0, 1),
                  TRITONSERVER_ERROR_INTERNAL, "Unable to open");
  rlimit was{};
  getrlimit(RLIMIT_AS, &was);
  // What the process maps now, plus 256 MiB: room for the registration's
  // own allocations, not for a 1 GiB mapping.
  size_t mapped = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    unsigned long pages = 0;
    if (std::fscanf(f, "%lu", &pages) == 1) mapped = pages * PageSize();
    std::fclose(f);
  }
  rlimit low = was;
  low.rlim_cur = mapped + (size_t(256) << 20);
  CHECK(setrlimit(RLIMIT_AS, &low) == 0);
  CHECK_ERROR(manager->RegisterSystemSharedMemory("big", key, 0, size),
              TRITONSERVER_ERROR_INVALID_ARG,
              "failed to register shared memory region 'big': unable to "
              "process address space");
  setrlimit(RLIMIT_AS, &was);
  CHECK(StatusCount(*manager) == 0);
  CHECK_OK(manager->RegisterSystemSharedMemory("big", key, 0, size));
  CHECK_OK(manager->Unregister("big", TRITONSERVER_MEMORY_CPU));
  shm_unlink(key.c_str());
}

// ---- scenarios: metrics --------------------------------------------------------

const char* const kFamilies[] = {
    "nv_shared_memory_regions", "nv_shared_memory_mapped_bytes",
    "nv_shared_memory_registrations", "nv_shared_memory_unregistrations",
    "nv_shared_memory_registration_failures",
    "nv_shared_memory_regions_awaiting_unregister"};

size_t
CallsStartingWith(const std::string& prefix)
{
  size_t n = 0;
  for (const std::string& call : metrics::MetricCalls()) {
    if (call.rfind(prefix, 0) == 0) n++;
  }
  return n;
}

// Alone: the families are made by the first registration, not before
// (making, querying and unregistering on a manager make none), and once.
void
MetricsAreMadeAtTheFirstRegistration()
{
  metrics::ClearMetricCalls();
  Regions regions;
  ClientRegion* r = regions.Create(ClientKind::kCpp, NewKey(), 64);
  if (r == nullptr) return;
  auto manager = NewManager();
  CHECK(StatusCount(*manager) == 0);
  CHECK_OK(manager->Unregister("a", TRITONSERVER_MEMORY_CPU));
  CHECK_OK(manager->UnregisterAll(TRITONSERVER_MEMORY_CPU));
  CHECK(metrics::MetricCalls().empty());

  CHECK_OK(manager->RegisterSystemSharedMemory("a", r->key, 0, 64));
  for (const char* family : kFamilies) {
    CHECK(CallsStartingWith(std::string("MetricFamilyNew ") + family + " ") ==
          1);
  }
  CHECK_OK(manager->RegisterSystemSharedMemory("b", r->key, 0, 64));
  CHECK(CallsStartingWith("MetricFamilyNew ") == 6);
  CHECK(metrics::MetricValue("nv_shared_memory_regions", "kind=system") == 2);
}

// Alone: a server built without metrics answers UNSUPPORTED; the manager
// works and makes no other metrics call.
void
MetricsAreANoOpWhenUnsupported()
{
  metrics::SetMetricsSupported(false);
  metrics::ClearMetricCalls();
  Regions regions;
  ClientRegion* r = regions.Create(ClientKind::kCpp, NewKey(), 64);
  if (r == nullptr) return;
  auto manager = NewManager();
  CHECK_OK(manager->RegisterSystemSharedMemory("a", r->key, 0, 64));
  CHECK(Fails(manager->RegisterSystemSharedMemory("a", r->key, 0, 64)));
  CHECK_OK(manager->Unregister("a", TRITONSERVER_MEMORY_CPU));
  CHECK(CallsStartingWith("MetricFamilyNew ") == 1);
  CHECK(metrics::MetricCalls().size() == 1);
  for (const std::string& line : triton::common::standin::LogLines()) {
    CHECK(line.find("metrics are off") == std::string::npos);
  }
  metrics::SetMetricsSupported(true);
}

double
Value(const char* family, const std::string& labels)
{
  const double v = metrics::MetricValue(family, labels);
  return v < 0 ? 0 : v;
}

// Registrations, unregistrations (deferred or not), the regions and bytes
// registered now, those awaiting unregister, and failures by reason.
void
MetricsFollowRegistrations()
{
  Regions regions;
  ClientRegion* r = regions.Create(ClientKind::kCpp, NewKey(), 4096);
  if (r == nullptr) return;
  auto manager = NewManager();
  const std::string sys = "kind=system";
  // Values before, since other scenarios of this process count too.
  const double regions0 = Value("nv_shared_memory_regions", sys);
  const double bytes0 = Value("nv_shared_memory_mapped_bytes", sys);
  const double reg0 = Value("nv_shared_memory_registrations", sys);
  const double now0 = Value(
      "nv_shared_memory_unregistrations", "deferred=false,kind=system");
  const double later0 = Value(
      "nv_shared_memory_unregistrations", "deferred=true,kind=system");
  const double await0 =
      Value("nv_shared_memory_regions_awaiting_unregister", sys);
  const double missing0 = Value(
      "nv_shared_memory_registration_failures", "kind=system,reason=NOT_FOUND");
  const double dup0 = Value(
      "nv_shared_memory_registration_failures",
      "kind=system,reason=ALREADY_EXISTS");
  const double oob0 = Value(
      "nv_shared_memory_registration_failures",
      "kind=system,reason=OUT_OF_BOUNDS");

  CHECK_OK(manager->RegisterSystemSharedMemory("a", r->key, 0, 1000));
  CHECK_OK(manager->RegisterSystemSharedMemory("b", r->key, 1000, 24));
  CHECK(Value("nv_shared_memory_regions", sys) == regions0 + 2);
  CHECK(Value("nv_shared_memory_mapped_bytes", sys) == bytes0 + 1024);
  CHECK(Value("nv_shared_memory_registrations", sys) == reg0 + 2);

  CHECK(Fails(manager->RegisterSystemSharedMemory("a", r->key, 0, 8)));
  CHECK(Fails(manager->RegisterSystemSharedMemory("c", NewKey(), 0, 8)));
  CHECK(Fails(manager->RegisterSystemSharedMemory("d", r->key, 0, 1 << 20)));
  CHECK(Value("nv_shared_memory_registration_failures",
              "kind=system,reason=ALREADY_EXISTS") == dup0 + 1);
  CHECK(Value("nv_shared_memory_registration_failures",
              "kind=system,reason=NOT_FOUND") == missing0 + 1);
  CHECK(Value("nv_shared_memory_registration_failures",
              "kind=system,reason=OUT_OF_BOUNDS") == oob0 + 1);
  CHECK(Value("nv_shared_memory_registrations", sys) == reg0 + 2);

  // "a" is held by a request: its unregistration waits.
  std::shared_ptr<const SharedMemoryManager::SharedMemoryInfo> held;
  (void)Block(*manager, "a", 0, 8, &held);
  CHECK_OK(manager->Unregister("a", TRITONSERVER_MEMORY_CPU));
  CHECK_OK(manager->Unregister("a", TRITONSERVER_MEMORY_CPU));  // counted once
  CHECK(Value("nv_shared_memory_regions_awaiting_unregister", sys) ==
        await0 + 1);
  CHECK(Value("nv_shared_memory_regions", sys) == regions0 + 2);
  CHECK_OK(manager->Unregister("b", TRITONSERVER_MEMORY_CPU));
  CHECK(Value("nv_shared_memory_unregistrations",
              "deferred=false,kind=system") == now0 + 1);
  held.reset();
  CHECK_OK(manager->Unregister("a", TRITONSERVER_MEMORY_CPU));
  CHECK(Value("nv_shared_memory_unregistrations",
              "deferred=true,kind=system") == later0 + 1);
  CHECK(Value("nv_shared_memory_regions_awaiting_unregister", sys) == await0);
  CHECK(Value("nv_shared_memory_regions", sys) == regions0);
  CHECK(Value("nv_shared_memory_mapped_bytes", sys) == bytes0);
  CHECK(Value("nv_shared_memory_regions", "kind=cuda") <= 0);
}

// No label value is a client's region name or key, and GetMemoryInfo, on
// every request's path, makes no metrics call.
void
MetricsCarryNoClientNameAndSkipGetMemoryInfo()
{
  Regions regions;
  const std::string unusual = "/client_chosen_" + std::to_string(getpid());
  ClientRegion* r = regions.Create(ClientKind::kCpp, unusual, 64);
  if (r == nullptr) return;
  auto manager = NewManager();
  CHECK_OK(manager->RegisterSystemSharedMemory("region_name_x", r->key, 0, 64));
  CHECK(Fails(manager->RegisterSystemSharedMemory("region_name_y", unusual + "_no",
                                            0, 64)));
  metrics::ClearMetricCalls();
  for (int i = 0; i < 100; i++) (void)Block(*manager, "region_name_x", 0, 64);
  CHECK(metrics::MetricCalls().empty());
  CHECK_OK(manager->Unregister("region_name_x", TRITONSERVER_MEMORY_CPU));
  for (const std::string& line : metrics::Scrape()) {
    CHECK(line.find("region_name") == std::string::npos);
    CHECK(line.find("client_chosen") == std::string::npos);
  }
}

// ---- the runner ------------------------------------------------------------------

struct Scenario {
  const char* name;
  void (*run)();
  bool alone = false;  // only with --only, in a process of its own
};

// Scenarios named l0_* mirror a test of Triton's qa/ (see ../QA.md); the
// others check what the drop-in does beyond upstream.
const Scenario kScenarios[] = {
    {"l0_shm_valid_create_set_register", RegisterThenStatus},
    {"l0_shm_unregister_before_and_after_register",
     UnregisterBeforeAndAfterRegister},
    {"l0_shm_unregisterall", UnregisterAllRemovesEveryRegion},
    {"l0_shm_reregister_after_register", DuplicateNamesAreRefused},
    {"l0_grpc_aio_register_system_shared_memory", MissingKeysAreRefused},
    {"l0_http_aio_register_system_shared_memory", EmptyNameAndKeyAreRefused},
    {"l0_shm_register_reserved_names", ReservedKeysAreRefusedWithAnySlashes},
    {"l0_shm_register_invalid_shm_key", InvalidKeysAreRefused},
    {"one_key_under_two_names", OneKeyUnderTwoNames},
    {"l0_shm_infer_offset_byte_size_overflow", GetMemoryInfoChecksOffsets},
    {"l0_shm_register_out_of_bound", RegistrationsOutOfBoundsAreRefused},
    {"macos_reports_page_rounded_sizes", MacosReportsPageRoundedSizes},
    {"l0_shm_large_shm_register_offset", LargeRegionAtALargeOffset},
    {"unaligned_offsets_work", UnalignedOffsetsWork},
    {"data_is_visible_both_ways", DataIsVisibleBothWays},
    {"client_regions_outlive_the_manager", ClientRegionsOutliveTheManager},
    {"l0_shm_unregister_shm_during_inference_single_req",
     DeferredUnregisterWithOneHolder},
    {"l0_shm_unregister_shm_during_inference_multiple_req",
     DeferredUnregisterWithTwoHolders},
    {"a_holder_outlives_the_manager", AHolderOutlivesTheManager},
    {"a_disabled_manager_touches_no_file", ADisabledManagerTouchesNoFile, true},
    {"a_serving_manager_touches_no_file", AServingManagerTouchesNoFile, true},
    {"the_environment_cannot_make_the_server_unlink",
     TheEnvironmentCannotMakeTheServerUnlink},
    {"a_registry_that_cannot_be_made_fails_the_registration",
     ARegistryThatCannotBeMadeFailsTheRegistration, true},
    {"the_backend_variable_does_not_reach_the_server",
     TheBackendVariableDoesNotReachTheServer, true},
    {"library_detail_goes_to_the_verbose_log",
     LibraryDetailGoesToTheVerboseLog},
    {"library_lines_follow_the_verbose_level",
     LibraryLinesFollowTheVerboseLevel},
    {"one_object_under_two_keys", OneObjectUnderTwoKeys},
    {"verbatim_keys_without_a_slash", VerbatimKeysWithoutASlash},
    {"an_mmap_failure_is_invalid_arg", AnMmapFailureIsInvalidArg, true},
    {"metrics_are_made_at_the_first_registration",
     MetricsAreMadeAtTheFirstRegistration, true},
    {"metrics_are_a_no_op_when_unsupported", MetricsAreANoOpWhenUnsupported,
     true},
    {"metrics_follow_registrations", MetricsFollowRegistrations},
    {"metrics_carry_no_client_name_and_skip_get_memory_info",
     MetricsCarryNoClientNameAndSkipGetMemoryInfo},
};

}  // namespace

int
main(int argc, char** argv)
{
  std::string only;
  for (int i = 1; i < argc; i++) {
    const std::string arg = argv[i];
    if (arg == "--only" && i + 1 < argc) {
      only = argv[++i];
    } else if (arg == "--list") {
      for (const Scenario& s : kScenarios) {
        std::printf("%s%s\n", s.name, s.alone ? " (alone)" : "");
      }
      return 0;
    } else {
      std::fprintf(stderr,
                   "usage: %s [--only SCENARIO] [--list]\n",
                   argv[0]);
      return 2;
    }
  }

  // A TMPDIR of our own, so that a state directory would show.
  char root[] = "/tmp/triton-manager-XXXXXX";
  if (mkdtemp(root) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  state_root = root;
  setenv("TMPDIR", root, 1);

  SystemClient system_client;
  ModelClient model_client;
  client = OnXnuModel() ? static_cast<Client*>(&model_client)
                        : static_cast<Client*>(&system_client);
  std::printf("naming %s, backend %s, scenarios '%s'\n",
              DarwinNaming() ? "darwin" : "posix",
              OnXnuModel() ? "xnu-model" : "system",
              only.empty() ? "all" : only.c_str());

  int passed = 0, failed = 0;
  for (const Scenario& s : kScenarios) {
    if (only.empty() ? s.alone : only != s.name) continue;
    scenario_failures = 0;
    s.run();
    if (scenario_failures == 0) {
      passed++;
      std::printf("PASS %s\n", s.name);
    } else {
      failed++;
      std::printf("FAIL %s (%d check(s))\n", s.name, scenario_failures);
    }
  }
  rmdir(root);
  std::printf("%d scenario(s): %d passed, %d failed (naming %s, backend %s)\n",
              passed + failed, passed, failed,
              DarwinNaming() ? "darwin" : "posix",
              OnXnuModel() ? "xnu-model" : "system");
  return failed == 0 && passed > 0 ? 0 : 1;
}
