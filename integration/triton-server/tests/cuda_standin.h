// What the CUDA stand-in (cuda_standin.cpp) adds to CUDA's API, for tests
// linked against it.
#pragma once

extern "C" {

// How many IPC handles this process holds open (each
// cudaIpcOpenMemHandle not yet matched by cudaIpcCloseMemHandle).
int triton_cuda_standin_open_handles();

// TRITON_SHM_CUDA_STANDIN_IPC_US as the stand-in read it: the microseconds
// it adds to each IPC open and close.
long triton_cuda_standin_ipc_cost_us();

}  // extern "C"
