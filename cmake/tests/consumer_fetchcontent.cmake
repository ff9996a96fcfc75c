# (b) A project that gets the package with FetchContent (SOURCE_SUBDIR cmake)
# builds and runs a shared and a static consumer.
include("${CMAKE_CURRENT_LIST_DIR}/TestSupport.cmake")

set(build "${SCRATCH_DIR}/consumer-fetchcontent")
tsm_fresh_dir("${build}")
tsm_check_consumer_project("${CONSUMERS_DIR}/fetchcontent" "${build}"
  "-DTRITON_SHM_SOURCE_DIR=${TRITON_SHM_SOURCE_DIR}")
