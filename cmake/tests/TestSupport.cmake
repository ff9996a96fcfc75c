# Helpers for the package tests, included by each test script (cmake -P).
#
# Every test script is given:
#   TRITON_SHM_SOURCE_DIR  the checkout under test
#   SCRATCH_DIR            where builds and prefixes go
#   CARGO_TARGET_DIR       cargo target dir shared by every build
#   GENERATOR, C_COMPILER, CXX_COMPILER  for the consumer builds
#   PACKAGE_BUILD_DIR      the package's own build (tests that install)
#   PREFIX                 the shared install prefix

cmake_minimum_required(VERSION 3.18)

set(TESTS_DIR "${CMAKE_CURRENT_LIST_DIR}")
set(CONSUMERS_DIR "${TESTS_DIR}/consumers")

# Stop the test: print the whole story (the arguments joined; the first line
# says what failed, what follows is the evidence), then fail with that line.
function(tsm_fail)
  set(text "")
  math(EXPR last "${ARGC} - 1")
  foreach(i RANGE ${last})
    string(APPEND text "${ARGV${i}}")
  endforeach()
  string(REGEX MATCH "^[^\n]*" summary "${text}")
  message("\n==== FAILED ====\n${text}\n================")
  message(FATAL_ERROR "FAILED: ${summary}")
endfunction()

foreach(_tsm_var TRITON_SHM_SOURCE_DIR SCRATCH_DIR CARGO_TARGET_DIR GENERATOR)
  if(NOT DEFINED ${_tsm_var} OR "${${_tsm_var}}" STREQUAL "")
    tsm_fail("the test script needs -D${_tsm_var}=...; run it through ctest "
             "(see cmake/tests/CMakeLists.txt)")
  endif()
endforeach()

# Empty directory, created afresh.
function(tsm_fresh_dir dir)
  file(REMOVE_RECURSE "${dir}")
  file(MAKE_DIRECTORY "${dir}")
endfunction()

# tsm_run(<what> [OUTPUT <var>] [EXPECT_FAILURE] COMMAND <cmd>...)
# Runs a command; fails the test with its output unless it exits 0 (or,
# with EXPECT_FAILURE, unless it exits non-zero).
function(tsm_run what)
  cmake_parse_arguments(PARSE_ARGV 1 arg "EXPECT_FAILURE" "OUTPUT" "COMMAND")
  string(REPLACE ";" " " shown "${arg_COMMAND}")
  message(STATUS "${what}: ${shown}")
  execute_process(COMMAND ${arg_COMMAND}
    RESULT_VARIABLE result
    OUTPUT_VARIABLE output
    ERROR_VARIABLE output)
  if(arg_EXPECT_FAILURE)
    if(result EQUAL 0)
      tsm_fail("${what}: expected a failure but it succeeded\n  command: ${shown}\n"
               "--- output ---\n${output}")
    endif()
  elseif(NOT result EQUAL 0)
    tsm_fail("${what}: exit status '${result}'\n  command: ${shown}\n"
             "--- output ---\n${output}")
  endif()
  if(arg_OUTPUT)
    set(${arg_OUTPUT} "${output}" PARENT_SCOPE)
  endif()
endfunction()

# Configure <source> in <build> (Release, shared cargo target dir) and build it.
function(tsm_configure_and_build source build)
  set(compilers)
  if(C_COMPILER)
    list(APPEND compilers "-DCMAKE_C_COMPILER=${C_COMPILER}")
  endif()
  if(CXX_COMPILER)
    list(APPEND compilers "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}")
  endif()
  tsm_run("configure ${source}" COMMAND
    "${CMAKE_COMMAND}" -S "${source}" -B "${build}" -G "${GENERATOR}"
    -DCMAKE_BUILD_TYPE=Release
    "-DTRITON_SHM_CARGO_TARGET_DIR=${CARGO_TARGET_DIR}"
    ${compilers} ${ARGN})
  tsm_run("build ${build}" COMMAND "${CMAKE_COMMAND}" --build "${build}" --parallel 2)
endfunction()

# Run a built consumer program and check its report line.
function(tsm_run_consumer program kind)
  if(NOT EXISTS "${program}")
    tsm_fail("consumer program ${program} was not built")
  endif()
  tsm_run("run ${program}" OUTPUT output COMMAND "${program}")
  if(NOT output MATCHES "consumer ${kind}: triton-shm [0-9]+\\.[0-9]+\\.[0-9]+ OK")
    tsm_fail("${program} did not report success:\n${output}")
  endif()
  message(STATUS "${output}")
endfunction()

# Check that <program> loads libtriton_shm at run time (shared) or not (static).
function(tsm_check_linkage program kind)
  if(APPLE)
    find_program(OTOOL NAMES otool llvm-otool)
    if(NOT OTOOL)
      tsm_fail("otool is needed to check how ${program} is linked")
    endif()
    tsm_run("libraries of ${program}" OUTPUT deps COMMAND "${OTOOL}" -L "${program}")
    set(pattern "@rpath/libtriton_shm\\.[0-9]+\\.dylib")
  else()
    find_program(READELF readelf)
    if(NOT READELF)
      tsm_fail("readelf is needed to check how ${program} is linked")
    endif()
    tsm_run("dynamic section of ${program}" OUTPUT deps COMMAND "${READELF}" -d "${program}")
    set(pattern "\\(NEEDED\\)[^\n]*\\[libtriton_shm\\.so\\.0\\]")
  endif()
  if(kind STREQUAL "shared" AND NOT deps MATCHES "${pattern}")
    tsm_fail("${program} should load libtriton_shm at run time:\n${deps}")
  elseif(kind STREQUAL "static" AND deps MATCHES "libtriton_shm")
    tsm_fail("${program} is linked statically but still loads libtriton_shm:\n${deps}")
  endif()
endfunction()

# Build and run both programs of a consumer project.
function(tsm_check_consumer_project source build)
  tsm_configure_and_build("${source}" "${build}" ${ARGN})
  foreach(kind shared static)
    tsm_check_linkage("${build}/consumer_${kind}" ${kind})
    tsm_run_consumer("${build}/consumer_${kind}" ${kind})
  endforeach()
endfunction()

# The value of <entry> in the CMake cache of <build>.
function(tsm_cache_value build entry out)
  file(STRINGS "${build}/CMakeCache.txt" line REGEX "^${entry}:")
  if(NOT line MATCHES "=(.*)$")
    tsm_fail("no ${entry} in ${build}/CMakeCache.txt")
  endif()
  set(${out} "${CMAKE_MATCH_1}" PARENT_SCOPE)
endfunction()

# The crate's version, from the checkout's Cargo.toml.
function(tsm_crate_version out)
  file(STRINGS "${TRITON_SHM_SOURCE_DIR}/Cargo.toml" line
    REGEX "^version[ \t]*=[ \t]*\"[0-9]+\\.[0-9]+\\.[0-9]+" LIMIT_COUNT 1)
  if(NOT line MATCHES "\"([0-9]+\\.[0-9]+\\.[0-9]+)")
    tsm_fail("no version in ${TRITON_SHM_SOURCE_DIR}/Cargo.toml")
  endif()
  set(${out} "${CMAKE_MATCH_1}" PARENT_SCOPE)
endfunction()
