// What the CUDA stand-in (cuda_standin.cpp) adds to CUDA's API, for tests
// linked against it.
#pragma once

extern "C" {

// How many IPC handles this process holds open (each
// cudaIpcOpenMemHandle not yet matched by cudaIpcCloseMemHandle).
int triton_cuda_standin_open_handles();

// The microseconds the stand-in adds to each IPC open and close: from
// TRITON_SHM_CUDA_STANDIN_IPC_US until set here.
long triton_cuda_standin_ipc_cost_us();
void triton_cuda_standin_set_ipc_cost_us(long us);

// How many IPC opens and closes are under way in this process.
int triton_cuda_standin_ipc_calls_in_progress();

}  // extern "C"
