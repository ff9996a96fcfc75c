// A program linked the way Triton links its tritonserver executable
// (SKIP_BUILD_RPATH, BUILD_WITH_INSTALL_RPATH, INSTALL_RPATH
// $ORIGIN/../lib): it starts, registers a region a client created, reads it
// through the manager and exits 0. Linked to TritonShm::triton_shm_static it
// needs no shared triton-shm at run time; linked to the shared library the
// loader cannot find libtriton_shm.so.0 and it never reaches main.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "shared_memory_manager.h"

int
main()
{
  const std::string key = "/tritonserver_rpath_" + std::to_string(getpid());
  int fd = shm_open(key.c_str(), O_RDWR | O_CREAT, 0600);
  if (fd == -1 || ftruncate(fd, 64) != 0) {
    std::perror("client: shm_open/ftruncate");
    return 1;
  }
  void* base = mmap(nullptr, 64, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (base == MAP_FAILED) {
    std::perror("client: mmap");
    shm_unlink(key.c_str());
    return 1;
  }
  std::memcpy(base, "started", 8);

  int rc = 1;
  {
    triton::server::SharedMemoryManager manager(true);
    TRITONSERVER_Error* err =
        manager.RegisterSystemSharedMemory("input0_data", key, 0, 64);
    void* addr = nullptr;
    TRITONSERVER_MemoryType type;
    int64_t device;
    if (err == nullptr) {
      err = manager.GetMemoryInfo(
          "input0_data", 0, 8, &addr, &type, &device, nullptr);
    }
    if (err != nullptr) {
      std::fprintf(stderr, "%s\n", TRITONSERVER_ErrorMessage(err));
      TRITONSERVER_ErrorDelete(err);
    } else if (std::memcmp(addr, "started", 8) == 0) {
      std::printf("tritonserver-like program started and read '%s'\n",
                  static_cast<const char*>(addr));
      rc = 0;
    }
  }
  munmap(base, 64);
  if (shm_unlink(key.c_str()) != 0) {
    std::perror("client: shm_unlink");
    rc = 1;
  }
  return rc;
}
