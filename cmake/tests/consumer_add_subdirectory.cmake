# (a) A project that adds the package with add_subdirectory(<repo>/cmake)
# builds and runs a shared and a static consumer.
include("${CMAKE_CURRENT_LIST_DIR}/TestSupport.cmake")

set(build "${SCRATCH_DIR}/consumer-add-subdirectory")
tsm_fresh_dir("${build}")
tsm_check_consumer_project("${CONSUMERS_DIR}/add_subdirectory" "${build}"
  "-DTRITON_SHM_SOURCE_DIR=${TRITON_SHM_SOURCE_DIR}")
