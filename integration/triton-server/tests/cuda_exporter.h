// A second process that owns CUDA allocations and exports them, as a
// Triton client does: it allocates on a device, fills the allocation with a
// known pattern, hands the parent a cudaIpcMemHandle_t through a pipe, and
// frees the allocation and exits when the parent closes its end. CUDA IPC
// handles open only in another process, hence the child.
//
// Programs that use it call MaybeRunCudaExporter(argc, argv) first thing in
// main: in the child (started as `<self> --cuda-export ...`) it never
// returns.
#pragma once

#include <cuda_runtime_api.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

// Byte `i` of an exported allocation made with `seed`.
inline unsigned char
CudaPatternByte(size_t i, unsigned seed)
{
  return static_cast<unsigned char>((i * 7 + seed) & 0xff);
}

inline void
MaybeRunCudaExporter(int argc, char** argv)
{
  if (argc != 7 || std::strcmp(argv[1], "--cuda-export") != 0) {
    return;
  }
  const size_t size = std::strtoull(argv[2], nullptr, 10);
  const int device = std::atoi(argv[3]);
  const unsigned seed = static_cast<unsigned>(std::atoi(argv[4]));
  const int to_parent = std::atoi(argv[5]);
  const int from_parent = std::atoi(argv[6]);
  void* memory = nullptr;
  cudaIpcMemHandle_t handle;
  std::memset(&handle, 0, sizeof handle);
  std::vector<unsigned char> pattern(size);
  for (size_t i = 0; i < size; i++) pattern[i] = CudaPatternByte(i, seed);
  cudaError_t err = cudaSetDevice(device);
  if (err == cudaSuccess) err = cudaMalloc(&memory, size);
  if (err == cudaSuccess) {
    err = cudaMemcpy(memory, pattern.data(), size, cudaMemcpyHostToDevice);
  }
  if (err == cudaSuccess) err = cudaIpcGetMemHandle(&handle, memory);
  if (err != cudaSuccess) {
    std::fprintf(stderr, "cuda exporter: %s\n", cudaGetErrorString(err));
    _exit(1);
  }
  if (write(to_parent, &handle, sizeof handle) !=
      static_cast<ssize_t>(sizeof handle)) {
    _exit(1);
  }
  close(to_parent);
  char byte;
  while (read(from_parent, &byte, 1) > 0) {
  }
  cudaFree(memory);
  _exit(0);
}

// The parent's side: one exporting child per allocation.
class CudaExporter {
 public:
  CudaExporter() = default;
  CudaExporter(const CudaExporter&) = delete;
  CudaExporter& operator=(const CudaExporter&) = delete;
  ~CudaExporter() { Stop(); }

  // Starts the child; false (and a message on stderr) if it could not
  // export.
  bool Start(size_t size, int device, unsigned seed)
  {
    int up[2], down[2];
    if (pipe(up) != 0) return false;
    if (pipe(down) != 0) {
      close(up[0]);
      close(up[1]);
      return false;
    }
    fcntl(up[0], F_SETFD, FD_CLOEXEC);
    fcntl(down[1], F_SETFD, FD_CLOEXEC);
    // This program's path, read through the link (under valgrind, which
    // cannot exec /proc/self/exe itself, the link reads as the program),
    // and the child's arguments, all made before fork: a child of a
    // threaded process may only exec.
    char self[4096];
    const ssize_t self_len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (self_len <= 0) {
      for (int fd : {up[0], up[1], down[0], down[1]}) close(fd);
      return false;
    }
    self[self_len] = '\0';
    std::string args[] = {
        self, "--cuda-export", std::to_string(size), std::to_string(device),
        std::to_string(seed), std::to_string(up[1]), std::to_string(down[0])};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(&a[0]);
    argv.push_back(nullptr);
    child_ = fork();
    if (child_ == 0) {
      execv(self, argv.data());
      _exit(127);
    }
    close(up[1]);
    close(down[0]);
    to_child_ = down[1];
    const ssize_t got = read(up[0], &handle_, sizeof handle_);
    close(up[0]);
    if (child_ < 0 || got != static_cast<ssize_t>(sizeof handle_)) {
      std::fprintf(stderr, "  the exporting process gave no IPC handle\n");
      Stop();
      return false;
    }
    return true;
  }

  const cudaIpcMemHandle_t& handle() const { return handle_; }

  // The child frees its allocation and exits.
  void Stop()
  {
    if (to_child_ >= 0) {
      close(to_child_);
      to_child_ = -1;
    }
    if (child_ > 0) {
      int status = 0;
      waitpid(child_, &status, 0);
      child_ = -1;
    }
  }

 private:
  pid_t child_ = -1;
  int to_child_ = -1;
  cudaIpcMemHandle_t handle_{};
};
