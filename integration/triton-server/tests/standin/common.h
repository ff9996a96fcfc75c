// Stand-in for triton-inference-server/server's src/common.h: the parts the
// drop-in manager uses (RETURN_IF_ERR, the Python backend's reserved key
// prefix, ValidateSharedMemoryKey). validate_shared_memory_key.cc gives
// these tests their own ValidateSharedMemoryKey with the contract and
// messages of upstream's src/common.cc.
#pragma once

#include <string>

#include "triton/core/tritonserver.h"

namespace triton { namespace server {

constexpr char kTritonSharedMemoryRegionPrefix[] =
    "triton_python_backend_shm_region_";

#define RETURN_IF_ERR(X)             \
  do {                               \
    TRITONSERVER_Error* err__ = (X); \
    if (err__ != nullptr) {          \
      return err__;                  \
    }                                \
  } while (false)

// Refuse a key made only of slashes, and a key that starts, after its
// leading slashes, with kTritonSharedMemoryRegionPrefix.
TRITONSERVER_Error* ValidateSharedMemoryKey(
    const std::string& name, const std::string& shm_key);

}}  // namespace triton::server
