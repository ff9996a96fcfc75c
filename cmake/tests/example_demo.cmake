# The example (examples/) builds against the installed package and its demo
# runs, leaving no shared-memory object behind. The object is probed with
# the installed tool (`triton-shm inspect`, which calls shm_open), not by
# listing /dev/shm, which macOS does not have.
include("${CMAKE_CURRENT_LIST_DIR}/TestSupport.cmake")

set(build "${SCRATCH_DIR}/example-demo")
tsm_fresh_dir("${build}")
tsm_configure_and_build("${TRITON_SHM_SOURCE_DIR}/examples" "${build}" "-DCMAKE_PREFIX_PATH=${PREFIX}")

tsm_run("run the demo" OUTPUT output COMMAND "${build}/triton_shm_demo")
message(STATUS "${output}")
foreach(expected "/path_with_slashes" "region is gone" "demo finished")
  if(NOT output MATCHES "${expected}")
    tsm_fail("the demo's output lacks '${expected}':\n${output}")
  endif()
endforeach()

if(NOT output MATCHES "system name +[^\n]* -> ([^ \n]+)")
  tsm_fail("the demo's output names no system name:\n${output}")
endif()
set(system_name "${CMAKE_MATCH_1}")
set(tool "${PREFIX}/bin/triton-shm")
if(NOT EXISTS "${tool}")
  tsm_fail("${tool} is not installed")
endif()
execute_process(COMMAND "${tool}" --naming posix inspect "${system_name}"
  RESULT_VARIABLE inspect_result OUTPUT_VARIABLE inspect_output ERROR_VARIABLE inspect_output)
if(NOT inspect_result EQUAL 1 OR NOT inspect_output MATCHES "does not exist")
  tsm_fail("the demo left ${system_name} behind (triton-shm inspect, exit ${inspect_result}):\n"
           "${inspect_output}")
endif()
message(STATUS "${system_name} is gone: ${inspect_output}")
