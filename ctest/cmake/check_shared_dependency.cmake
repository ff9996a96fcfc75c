# Check whether EXECUTABLE loads the shared triton_shm library at run time.
#
#   cmake -DEXECUTABLE=<file> -DEXPECT=absent|present -P check_shared_dependency.cmake
#
# Reads the executable's dynamic dependencies (ELF DT_NEEDED, Mach-O load
# commands) with file(GET_RUNTIME_DEPENDENCIES), resolved or not, and fails
# unless a libtriton_shm dependency is absent or present as EXPECT says.
cmake_minimum_required(VERSION 3.18)

if(NOT EXISTS "${EXECUTABLE}")
  message(FATAL_ERROR "check_shared_dependency.cmake: no executable '${EXECUTABLE}'")
endif()
if(NOT EXPECT MATCHES "^(absent|present)$")
  message(FATAL_ERROR "check_shared_dependency.cmake: -DEXPECT=absent|present is required")
endif()

file(GET_RUNTIME_DEPENDENCIES
  EXECUTABLES "${EXECUTABLE}"
  RESOLVED_DEPENDENCIES_VAR resolved
  UNRESOLVED_DEPENDENCIES_VAR unresolved)
set(all ${resolved} ${unresolved})
list(FILTER all INCLUDE REGEX "libtriton_shm[^/]*$")

string(REPLACE ";" "\n  " listing "${resolved};${unresolved}")
if(EXPECT STREQUAL "absent" AND all)
  message(FATAL_ERROR "${EXECUTABLE} depends on ${all}; all dependencies:\n  ${listing}")
elseif(EXPECT STREQUAL "present" AND NOT all)
  message(FATAL_ERROR "${EXECUTABLE} does not depend on libtriton_shm; all dependencies:\n  ${listing}")
endif()
message(STATUS "libtriton_shm dependency ${EXPECT} as expected (${all})")
