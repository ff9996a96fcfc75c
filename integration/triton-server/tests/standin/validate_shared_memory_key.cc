// ValidateSharedMemoryKey for the tests, with the contract and the messages
// of upstream's src/common.cc (Triton's QA matches these messages).
#include <string>

#include "common.h"

namespace triton { namespace server {

TRITONSERVER_Error*
ValidateSharedMemoryKey(const std::string& name, const std::string& shm_key)
{
  const size_t start = shm_key.find_first_not_of('/');
  if (start == std::string::npos) {
    const std::string message = "cannot register shared memory region '" +
                                name + "' - invalid shm key '" + shm_key + "'";
    return TRITONSERVER_ErrorNew(TRITONSERVER_ERROR_INVALID_ARG, message.c_str());
  }
  if (shm_key.compare(
          start, sizeof kTritonSharedMemoryRegionPrefix - 1,
          kTritonSharedMemoryRegionPrefix) == 0) {
    const std::string message =
        "cannot register shared memory region '" + name + "' with key '" +
        shm_key + "' as the key contains the reserved prefix '" +
        kTritonSharedMemoryRegionPrefix + "'";
    return TRITONSERVER_ErrorNew(TRITONSERVER_ERROR_INVALID_ARG, message.c_str());
  }
  return nullptr;
}

}}  // namespace triton::server
