/*
 * The pinned ABI, checked by a C compiler (layout.h: compiling is the
 * check). At run time: the loaded library is the one the header describes.
 */
#include <stdio.h>
#include <string.h>

#include <triton_shm.h>

#include "layout.h"

int main(void) {
  if (strcmp(triton_shm_version(), TRITON_SHM_VERSION_STRING) != 0) {
    fprintf(stderr, "loaded library %s, header %s\n", triton_shm_version(),
            TRITON_SHM_VERSION_STRING);
    return 1;
  }
  printf("layout of %s pinned (C)\n", TRITON_SHM_VERSION_STRING);
  return 0;
}
