// Stand-in for triton-inference-server/server's src/shared_memory_manager.h
// (r26.09), written for these tests: the SharedMemoryManager class as that
// header declares it, which the drop-in shared_memory_manager.cc
// implements unchanged. Only the declarations; the CUDA members appear
// with TRITON_ENABLE_GPU, as upstream.
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "triton/core/tritonserver.h"

// TritonJson reports errors as TRITONSERVER_Error*, as in the server.
#define TRITONJSON_STATUSTYPE TRITONSERVER_Error*
#define TRITONJSON_STATUSRETURN(M) \
  return TRITONSERVER_ErrorNew(TRITONSERVER_ERROR_INTERNAL, (M).c_str())
#define TRITONJSON_STATUSSUCCESS nullptr
#include "triton/common/triton_json.h"

#ifdef TRITON_ENABLE_GPU
#include <cuda.h>
#include <cuda_runtime_api.h>
#endif

namespace triton { namespace server {

class SharedMemoryManager {
 public:
  explicit SharedMemoryManager(bool allow_client_shm)
      : allow_client_shm_(allow_client_shm)
  {
  }
  SharedMemoryManager() = delete;
  SharedMemoryManager(const SharedMemoryManager&) = delete;
  ~SharedMemoryManager();

  // One registered block, as requests see it through GetMemoryInfo.
  struct SharedMemoryInfo {
    SharedMemoryInfo(
        const std::string& name, const std::string& shm_key,
        const size_t offset, const size_t byte_size, int shm_fd,
        void* mapped_addr, const TRITONSERVER_MemoryType kind,
        const int64_t device_id)
        : name_(name), shm_key_(shm_key), offset_(offset),
          byte_size_(byte_size), mapped_addr_(mapped_addr), kind_(kind),
          device_id_(device_id), awaiting_unregister_(false)
    {
      (void)shm_fd;
    }

    std::string name_;
    std::string shm_key_;
    size_t offset_;
    size_t byte_size_;
    void* mapped_addr_;
    TRITONSERVER_MemoryType kind_;
    int64_t device_id_;
    bool awaiting_unregister_;
  };

#ifdef TRITON_ENABLE_GPU
  struct CUDASharedMemoryInfo : SharedMemoryInfo {
    CUDASharedMemoryInfo(
        const std::string& name, const std::string& shm_key,
        const size_t offset, const size_t byte_size, int shm_fd,
        void* mapped_addr, const TRITONSERVER_MemoryType kind,
        const int64_t device_id, const cudaIpcMemHandle_t* cuda_ipc_handle)
        : SharedMemoryInfo(
              name, shm_key, offset, byte_size, shm_fd, mapped_addr, kind,
              device_id),
          cuda_ipc_handle_(*cuda_ipc_handle)
    {
    }
    cudaIpcMemHandle_t cuda_ipc_handle_;
  };
#endif

  TRITONSERVER_Error* RegisterSystemSharedMemory(
      const std::string& name, const std::string& shm_key, const size_t offset,
      const size_t byte_size);

#ifdef TRITON_ENABLE_GPU
  TRITONSERVER_Error* RegisterCUDASharedMemory(
      const std::string& name, const cudaIpcMemHandle_t* cuda_shm_handle,
      const size_t byte_size, const int device_id);
#endif

  TRITONSERVER_Error* GetMemoryInfo(
      const std::string& name, size_t offset, size_t byte_size,
      void** shm_mapped_addr, TRITONSERVER_MemoryType* memory_type,
      int64_t* device_id, std::shared_ptr<const SharedMemoryInfo>* shm_info);

#ifdef TRITON_ENABLE_GPU
  TRITONSERVER_Error* GetCUDAHandle(
      const std::string& name, cudaIpcMemHandle_t** cuda_mem_handle);
#endif

  TRITONSERVER_Error* GetStatus(
      const std::string& name, TRITONSERVER_MemoryType memory_type,
      triton::common::TritonJson::Value* shm_status);

  inline bool AllowClientSharedMemory() const { return allow_client_shm_; }

  TRITONSERVER_Error* Unregister(
      const std::string& name, TRITONSERVER_MemoryType memory_type);

  TRITONSERVER_Error* UnregisterAll(TRITONSERVER_MemoryType memory_type);

 private:
  TRITONSERVER_Error* UnregisterHelper(
      const std::string& name, TRITONSERVER_MemoryType memory_type);

  using SharedMemoryStateMap =
      std::map<std::string, std::shared_ptr<SharedMemoryInfo>>;
  SharedMemoryStateMap shared_memory_map_;
  std::mutex mu_;
  const bool allow_client_shm_;
};

}}  // namespace triton::server
