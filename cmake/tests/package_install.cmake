# Fixture: install the package build into PREFIX.
include("${CMAKE_CURRENT_LIST_DIR}/TestSupport.cmake")

file(REMOVE_RECURSE "${PREFIX}")
tsm_run("install" COMMAND "${CMAKE_COMMAND}" --install "${PACKAGE_BUILD_DIR}" --prefix "${PREFIX}")
tsm_cache_value("${PACKAGE_BUILD_DIR}" CMAKE_INSTALL_LIBDIR libdir)
foreach(file
    "include/triton_shm.h"
    "${libdir}/cmake/TritonShm/TritonShmConfig.cmake"
    "${libdir}/cmake/TritonShm/TritonShmConfigVersion.cmake"
    "${libdir}/pkgconfig/triton_shm.pc"
    "${libdir}/libtriton_shm.a")
  if(NOT EXISTS "${PREFIX}/${file}")
    tsm_fail("install did not create ${PREFIX}/${file}")
  endif()
endforeach()
