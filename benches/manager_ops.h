// One SharedMemoryManager implementation behind plain function pointers,
// so that the benchmark can hold the drop-in and upstream's manager in one
// process: manager_ops.cpp is compiled once per implementation, and for
// upstream's with -Dserver=upstream_server, which moves its class (and the
// stand-in ValidateSharedMemoryKey it calls) out of triton::server.
#pragma once

#include <cstddef>
#include <string>

#include "triton/core/tritonserver.h"

struct ManagerOps {
  const char* name;
  void* (*make)();
  void (*destroy)(void* manager);
  // Each returns true on success and deletes any error it got.
  bool (*register_system)(
      void* manager, const std::string& name, const std::string& key,
      size_t offset, size_t byte_size);
  // nullptr unless built with TRITON_ENABLE_GPU; `handle` points to a
  // cudaIpcMemHandle_t.
  bool (*register_cuda)(
      void* manager, const std::string& name, const void* handle,
      size_t byte_size, int device_id);
  bool (*unregister)(
      void* manager, const std::string& name, TRITONSERVER_MemoryType kind);
  // As a request does: the block's address, keeping the entry alive until
  // the call returns.
  bool (*lookup)(
      void* manager, const std::string& name, size_t offset, size_t byte_size,
      void** address);
};

extern const ManagerOps dropin_ops;
#ifdef TRITON_SHM_BENCH_HAVE_UPSTREAM
extern const ManagerOps upstream_ops;
#endif
