# (c) A project that finds the installed package with
# find_package(TritonShm 0.1 CONFIG REQUIRED) builds and runs a shared and a
# static consumer.
include("${CMAKE_CURRENT_LIST_DIR}/TestSupport.cmake")

set(build "${SCRATCH_DIR}/consumer-find-package")
tsm_fresh_dir("${build}")
tsm_check_consumer_project("${CONSUMERS_DIR}/find_package" "${build}"
  "-DCMAKE_PREFIX_PATH=${PREFIX}")
tsm_cache_value("${build}" TritonShm_DIR found)
tsm_cache_value("${PACKAGE_BUILD_DIR}" CMAKE_INSTALL_LIBDIR libdir)
if(NOT found STREQUAL "${PREFIX}/${libdir}/cmake/TritonShm")
  tsm_fail("find_package used ${found}, not the package installed in ${PREFIX}")
endif()
