// The drop-in's claim that no system call runs under the manager's mutex,
// for system shared memory: with shm_open and munmap slowed to a second
// each (slow_system_calls.c), requests made while a registration's
// shm_open, or an unregistration's munmap, is under way must return while
// it still is. A manager that held its mutex across either call would
// answer them only after it.
//
//   manager_slow_system_calls
//
// Exits 0 when every check passed, 1 otherwise.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "shared_memory_manager.h"
#include "slow_system_calls.h"
#include "wait_until.h"

using triton::common::TritonJson;
using triton::server::SharedMemoryManager;

namespace {

int failures = 0;

void
Check(bool ok, const char* what)
{
  if (!ok) {
    std::fprintf(stderr, "  check failed: %s\n", what);
    failures++;
  }
}

// True (and the error freed) when `err` is no error.
bool
Ok(TRITONSERVER_Error* err, const char* what)
{
  if (err == nullptr) return true;
  std::fprintf(stderr, "  %s failed: %s\n", what, TRITONSERVER_ErrorMessage(err));
  TRITONSERVER_ErrorDelete(err);
  failures++;
  return false;
}

// A client's object of `size` bytes under `key`, removed when it goes.
struct ClientObject {
  std::string key;
  explicit ClientObject(const std::string& k, size_t size) : key(k)
  {
    const int fd = shm_open(key.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
    Check(fd >= 0 && ftruncate(fd, static_cast<off_t>(size)) == 0,
          "the client creates its object");
    if (fd >= 0) close(fd);
  }
  ~ClientObject() { shm_unlink(key.c_str()); }
};

// Waits for the slowed call another thread makes, then makes requests that
// must be answered while it is under way.
void
AnsweredDuring(SharedMemoryManager& manager, const char* call)
{
  if (!WaitUntil([] { return slow_calls_under_way() != 0; })) {
    std::fprintf(stderr, "  %s never started\n", call);
    failures++;
    return;
  }
  void* address = nullptr;
  TRITONSERVER_MemoryType type = TRITONSERVER_MEMORY_GPU;
  int64_t device = -1;
  Ok(manager.GetMemoryInfo("a", 0, 64, &address, &type, &device, nullptr),
     "GetMemoryInfo('a')");
  Check(address != nullptr && type == TRITONSERVER_MEMORY_CPU,
        "GetMemoryInfo gives region a's address");
  TritonJson::Value status(TritonJson::ValueType::ARRAY);
  Ok(manager.GetStatus("", TRITONSERVER_MEMORY_CPU, &status), "GetStatus");
  if (slow_calls_under_way() != 1) {
    std::fprintf(stderr, "  the requests were answered only after %s\n", call);
    failures++;
  }
}

}  // namespace

int
main()
{
  const std::string prefix = "/tss" + std::to_string(getpid()) + "_";
  ClientObject a(prefix + "a", 64), b(prefix + "b", 64);
  {
    SharedMemoryManager manager(true);
    Ok(manager.RegisterSystemSharedMemory("a", a.key, 0, 64), "registering a");

    slow_calls_set_us(1000000);
    TRITONSERVER_Error* registered = nullptr;
    std::thread registering([&] {
      registered = manager.RegisterSystemSharedMemory("b", b.key, 0, 64);
    });
    AnsweredDuring(manager, "the registration's shm_open");
    registering.join();
    Ok(registered, "registering b");

    TRITONSERVER_Error* unregistered = nullptr;
    std::thread unregistering([&] {
      unregistered = manager.Unregister("b", TRITONSERVER_MEMORY_CPU);
    });
    AnsweredDuring(manager, "the unregistration's munmap");
    unregistering.join();
    Ok(unregistered, "unregistering b");
    slow_calls_set_us(0);
    Ok(manager.UnregisterAll(TRITONSERVER_MEMORY_CPU), "UnregisterAll");
  }
  std::printf("requests answered during system calls: %s\n",
              failures == 0 ? "PASS" : "FAIL");
  return failures == 0 ? 0 : 1;
}
