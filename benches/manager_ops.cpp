// ManagerOps for the SharedMemoryManager this translation unit is built
// with (see manager_ops.h); MANAGER_OPS names the table.
#include "manager_ops.h"

#include <memory>

#include "shared_memory_manager.h"

namespace {

using Manager = triton::server::SharedMemoryManager;

bool
Ok(TRITONSERVER_Error* err)
{
  if (err == nullptr) return true;
  TRITONSERVER_ErrorDelete(err);
  return false;
}

void*
Make()
{
  return new Manager(true);
}

void
Destroy(void* manager)
{
  delete static_cast<Manager*>(manager);
}

bool
RegisterSystem(
    void* manager, const std::string& name, const std::string& key,
    size_t offset, size_t byte_size)
{
  return Ok(static_cast<Manager*>(manager)->RegisterSystemSharedMemory(
      name, key, offset, byte_size));
}

#ifdef TRITON_ENABLE_GPU
bool
RegisterCuda(
    void* manager, const std::string& name, const void* handle,
    size_t byte_size, int device_id)
{
  return Ok(static_cast<Manager*>(manager)->RegisterCUDASharedMemory(
      name, static_cast<const cudaIpcMemHandle_t*>(handle), byte_size,
      device_id));
}
#endif

bool
Unregister(void* manager, const std::string& name, TRITONSERVER_MemoryType kind)
{
  return Ok(static_cast<Manager*>(manager)->Unregister(name, kind));
}

bool
Lookup(
    void* manager, const std::string& name, size_t offset, size_t byte_size,
    void** address)
{
  TRITONSERVER_MemoryType type;
  int64_t device = 0;
  std::shared_ptr<const Manager::SharedMemoryInfo> held;
  return Ok(static_cast<Manager*>(manager)->GetMemoryInfo(
      name, offset, byte_size, address, &type, &device, &held));
}

}  // namespace

extern const ManagerOps MANAGER_OPS;
const ManagerOps MANAGER_OPS = {
    MANAGER_OPS_NAME, Make, Destroy, RegisterSystem,
#ifdef TRITON_ENABLE_GPU
    RegisterCuda,
#else
    nullptr,
#endif
    Unregister, Lookup};
