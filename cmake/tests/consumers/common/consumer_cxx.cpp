// The header compiled as C++ in the same program, the way Triton includes it.
#include "triton_shm.h"

#include <string>

extern "C" const char *consumer_cxx_version(void)
{
    static const std::string version = triton_shm_version();
    return version.c_str();
}
