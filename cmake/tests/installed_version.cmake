# (f) The package's version rule (SameMajorVersion): the same major version,
# not older than requested. 0.1, the exact version and an older minor of the
# same major are found; the next major (1.0) and a newer minor are not.
include("${CMAKE_CURRENT_LIST_DIR}/TestSupport.cmake")

tsm_crate_version(version)
string(REGEX MATCH "^([0-9]+)\\.([0-9]+)" _ "${version}")
set(major "${CMAKE_MATCH_1}")
set(minor "${CMAKE_MATCH_2}")
math(EXPR next_major "${major} + 1")
math(EXPR next_minor "${minor} + 1")
# For 0.1.0: 0.1, 0.1.0 and 0.0 are found; 1.0 and 0.2 are not.
set(found_requests "${major}.${minor}" "${version}" "${major}.0")
set(refused_requests "${next_major}.0" "${major}.${next_minor}")

set(root "${SCRATCH_DIR}/version")
tsm_fresh_dir("${root}")
foreach(request IN LISTS found_requests refused_requests)
  set(build "${root}/request-${request}")
  set(command "${CMAKE_COMMAND}" -S "${CONSUMERS_DIR}/version" -B "${build}" -G "${GENERATOR}"
    "-DCMAKE_PREFIX_PATH=${PREFIX}" "-DTRITON_SHM_REQUESTED_VERSION=${request}")
  if(request IN_LIST found_requests)
    tsm_run("find_package(TritonShm ${request})" OUTPUT output COMMAND ${command})
    if(NOT output MATCHES "found TritonShm ${version}")
      tsm_fail("find_package(TritonShm ${request}) should find ${version}:\n${output}")
    endif()
  else()
    tsm_run("find_package(TritonShm ${request})" EXPECT_FAILURE OUTPUT output COMMAND ${command})
    if(NOT output MATCHES "${version}")
      tsm_fail("find_package(TritonShm ${request}) failed without naming the installed version "
               "${version}:\n${output}")
    endif()
  endif()
  message(STATUS "find_package(TritonShm ${request}) behaves as expected")
endforeach()
