// What the CUDA stand-in (cuda_standin.cpp) adds to CUDA's API, for tests
// linked against it.
#pragma once

extern "C" {

// How many IPC handles this process holds open (each
// cudaIpcOpenMemHandle not yet matched by cudaIpcCloseMemHandle).
int triton_cuda_standin_open_handles();

}  // extern "C"
