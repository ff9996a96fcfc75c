// A model of Triton's SharedMemoryManager on top of triton_shm.hpp, with no
// platform #ifdefs and no shared-memory syscalls of its own: the library
// decides names, checks bounds, maps and decides what to unlink.
//
// A "client" creates regions; the manager maps them (not owned) and creates
// two of its own (owned); the manager is destroyed. Afterwards none of the
// manager's regions may exist and every client region must, with its data.

#include <triton_shm.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace {

using triton_shm::Status;

// Maps named regions of system shared memory, as Triton's server does. All
// platform knowledge (names, bounds, alignment, what to unlink) lives in the
// library; this class only keeps the name -> region map.
class SharedMemoryManager {
 public:
  static Status Create(std::unique_ptr<SharedMemoryManager>* manager) {
    auto [status, registry] = triton_shm::Registry::Create();
    if (!status.ok()) return status;
    manager->reset(new SharedMemoryManager(std::move(registry)));
    return Status();
  }

  // Closes every region (unmapping it); the registry's destructor then
  // unlinks what this manager created and leaves the clients' regions alone.
  ~SharedMemoryManager() { (void)UnregisterAll(); }

  SharedMemoryManager(const SharedMemoryManager&) = delete;
  SharedMemoryManager& operator=(const SharedMemoryManager&) = delete;

  // Map `byte_size` bytes at `offset` of the client's region `shm_key`.
  Status RegisterSystemSharedMemory(const std::string& name, const std::string& shm_key,
                                    std::size_t offset, std::size_t byte_size) {
    std::lock_guard<std::mutex> lock(mu_);
    if (regions_.count(name) != 0) {
      return Status(TRITON_SHM_INVALID_ARGUMENT, "region '" + name + "' already registered");
    }
    auto [status, region] = registry_.OpenRegion(shm_key, offset, byte_size);
    if (!status.ok()) return status;
    regions_.emplace(name, std::move(region));
    return Status();
  }

  // Create a region of the manager's own under `shm_key`.
  Status CreateSystemSharedMemory(const std::string& name, const std::string& shm_key,
                                  std::size_t byte_size) {
    std::lock_guard<std::mutex> lock(mu_);
    if (regions_.count(name) != 0) {
      return Status(TRITON_SHM_INVALID_ARGUMENT, "region '" + name + "' already registered");
    }
    auto [status, region] = registry_.CreateRegion(shm_key, byte_size);
    if (!status.ok()) return status;
    regions_.emplace(name, std::move(region));
    return Status();
  }

  Status Unregister(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = regions_.find(name);
    if (it == regions_.end()) {
      return Status(TRITON_SHM_NOT_FOUND, "region '" + name + "' is not registered");
    }
    // A region whose unmap failed stays open and mapped: keep its entry, as
    // Triton keeps the block, so that a later Unregister can retry.
    Status closed = it->second.Close();
    if (it->second.empty()) regions_.erase(it);
    return closed;
  }

  Status UnregisterAll() {
    std::lock_guard<std::mutex> lock(mu_);
    Status first;
    for (auto it = regions_.begin(); it != regions_.end();) {
      Status s = it->second.Close();
      if (first.ok()) first = s;
      it = it->second.empty() ? regions_.erase(it) : std::next(it);
    }
    return first;
  }

  // The mapped bytes of region `name`, or nullptr.
  char* Data(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = regions_.find(name);
    return it == regions_.end() ? nullptr : static_cast<char*>(it->second.data());
  }

  std::size_t TrackedKeys() const { return registry_.Count(); }

 private:
  explicit SharedMemoryManager(triton_shm::Registry registry) : registry_(std::move(registry)) {}

  mutable std::mutex mu_;
  // Declared before the map, so regions close before the registry goes.
  triton_shm::Registry registry_;
  std::map<std::string, triton_shm::Region> regions_;
};

// ---- the test ------------------------------------------------------------

int failures = 0;

#define EXPECT(cond)                                                              \
  do {                                                                            \
    if (!(cond)) {                                                                \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                                 \
    }                                                                             \
  } while (0)

#define EXPECT_OK(expr)                                                              \
  do {                                                                               \
    Status s_ = (expr);                                                              \
    if (!s_.ok()) {                                                                  \
      std::fprintf(stderr, "%s:%d: %s failed: %s: %s\n", __FILE__, __LINE__, #expr, \
                   s_.code_name(), s_.message().c_str());                            \
      ++failures;                                                                    \
    }                                                                                \
  } while (0)

// A multiple of every page size (4 KiB, 16 KiB), so macOS's page-rounded
// sizes are the exact ones.
const std::size_t kClientSize = 64 * 1024;

// A client region created as Triton's C++ client does: the key verbatim,
// O_RDWR|O_CREAT, mode 0600, one ftruncate; filled with a pattern.
bool ClientCreate(const std::string& key, char fill) {
  int fd = shm_open(key.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
  if (fd < 0) {
    std::perror(("client shm_open " + key).c_str());
    return false;
  }
  bool ok = ftruncate(fd, kClientSize) == 0;
  void* base = ok ? mmap(nullptr, kClientSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
                  : MAP_FAILED;
  close(fd);
  if (base == MAP_FAILED) {
    shm_unlink(key.c_str());
    return false;
  }
  std::memset(base, fill, kClientSize);
  munmap(base, kClientSize);
  return true;
}

// Whether the object exists and still holds `fill` throughout.
bool ClientIntact(const std::string& key, char fill) {
  int fd = shm_open(key.c_str(), O_RDONLY, 0);
  if (fd < 0) return false;
  void* base = mmap(nullptr, kClientSize, PROT_READ, MAP_SHARED, fd, 0);
  close(fd);
  if (base == MAP_FAILED) return false;
  const char* bytes = static_cast<const char*>(base);
  bool intact = true;
  for (std::size_t i = 0; i < kClientSize; ++i) intact = intact && bytes[i] == fill;
  munmap(base, kClientSize);
  return intact;
}

bool Exists(const std::string& name) {
  int fd = shm_open(name.c_str(), O_RDONLY, 0);
  if (fd < 0) return false;
  close(fd);
  return true;
}

}  // namespace

int main() {
  const std::string pid = std::to_string(static_cast<long>(getpid()));
  const std::string input = "/m" + pid + "_input";
  const std::string output = "/m" + pid + "_output";
  const std::string shared = "/m" + pid + "_shared";
  const std::string own_a = "/m" + pid + "_own_a";
  const std::string own_b = "/m" + pid + "_own_b";
  const std::vector<std::string> client_keys = {input, output, shared};

  if (!ClientCreate(input, 'i') || !ClientCreate(output, 'o') || !ClientCreate(shared, 's')) {
    for (const auto& key : client_keys) shm_unlink(key.c_str());
    return 1;
  }

  {
    std::unique_ptr<SharedMemoryManager> manager;
    EXPECT_OK(SharedMemoryManager::Create(&manager));
    if (!manager) return 1;

    EXPECT_OK(manager->RegisterSystemSharedMemory("input0", input, 0, 4096));
    EXPECT_OK(manager->RegisterSystemSharedMemory("output0", output, 100, 1000));
    // Two regions in one object, at unaligned offsets.
    EXPECT_OK(manager->RegisterSystemSharedMemory("shared_lo", shared, 3, 4000));
    EXPECT_OK(manager->RegisterSystemSharedMemory("shared_hi", shared, 4099, 4000));
    EXPECT(manager->Data("input0") != nullptr && manager->Data("input0")[0] == 'i');
    EXPECT(manager->Data("output0") != nullptr && manager->Data("output0")[999] == 'o');
    EXPECT(manager->Data("shared_hi") != nullptr && manager->Data("shared_hi")[3999] == 's');

    // Refusals: too large, overflowing, missing, duplicate name.
    Status too_big = manager->RegisterSystemSharedMemory("big", input, kClientSize - 500, 1000);
    EXPECT(too_big.code() == TRITON_SHM_OUT_OF_BOUNDS);
    Status overflow = manager->RegisterSystemSharedMemory("wrap", input, SIZE_MAX, 2);
    EXPECT(overflow.code() == TRITON_SHM_OUT_OF_BOUNDS);
    Status missing = manager->RegisterSystemSharedMemory("none", "/m" + pid + "_none", 0, 1);
    EXPECT(missing.code() == TRITON_SHM_NOT_FOUND);
    EXPECT(missing.message().find("_none") != std::string::npos);
    Status duplicate = manager->RegisterSystemSharedMemory("input0", input, 0, 1);
    EXPECT(duplicate.code() == TRITON_SHM_INVALID_ARGUMENT);
    Status invalid = manager->RegisterSystemSharedMemory("bad", "///", 0, 1);
    EXPECT(invalid.code() == TRITON_SHM_INVALID_NAME);

    // The manager's own regions.
    EXPECT_OK(manager->CreateSystemSharedMemory("own_a", own_a, 4096));
    EXPECT_OK(manager->CreateSystemSharedMemory("own_b", own_b, 100));
    EXPECT(Exists(own_a) && Exists(own_b));
    Status exists = manager->CreateSystemSharedMemory("own_again", own_a, 64);
    EXPECT(exists.code() == TRITON_SHM_ALREADY_EXISTS);
    // A Triton backend's own region is refused in any slash spelling.
    Status reserved =
        manager->RegisterSystemSharedMemory("py", "//triton_python_backend_shm_region_7", 0, 1);
    EXPECT(reserved.code() == TRITON_SHM_RESERVED_NAME);
    EXPECT(Exists(own_a));  // a failed create must not remove the existing object
    if (char* data = manager->Data("own_a")) std::memcpy(data, "result", 7);

    // input, output, shared, own_a, own_b
    EXPECT(manager->TrackedKeys() == 5);

    // Unregistering a client region unmaps it and leaves the object.
    EXPECT_OK(manager->Unregister("output0"));
    EXPECT(Exists(output));
    // One of two regions on a key: the key stays tracked.
    EXPECT_OK(manager->Unregister("shared_lo"));
    EXPECT(manager->TrackedKeys() == 4);
    EXPECT(manager->Data("shared_hi") != nullptr && manager->Data("shared_hi")[0] == 's');
    // Unregistering an own region unlinks it at once.
    EXPECT_OK(manager->Unregister("own_b"));
    EXPECT(!Exists(own_b));
    EXPECT(manager->Unregister("own_b").code() == TRITON_SHM_NOT_FOUND);
  }  // the manager is destroyed with input0, shared_hi and own_a registered

  EXPECT(!Exists(own_a));
  EXPECT(!Exists(own_b));
  EXPECT(ClientIntact(input, 'i'));
  EXPECT(ClientIntact(output, 'o'));
  EXPECT(ClientIntact(shared, 's'));

  // The client destroys its regions: each removal must succeed, i.e. the
  // manager did not unlink them behind the client's back.
  for (const auto& key : client_keys) {
    if (shm_unlink(key.c_str()) != 0) {
      std::fprintf(stderr, "client shm_unlink %s: %s\n", key.c_str(), std::strerror(errno));
      ++failures;
    }
  }
  shm_unlink(own_a.c_str());
  shm_unlink(own_b.c_str());
  if (failures != 0) {
    std::fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  return 0;
}
