# Run PROGRAM and require its stdout to equal the file EXPECTED byte for byte.
#
#   cmake -DPROGRAM=<exe> -DEXPECTED=<file> -DACTUAL=<file> -P run_and_compare.cmake
#
# The program's stdout is saved in ACTUAL. On any difference, or a non-zero
# exit, the script prints a unified diff (with `diff` when there is one, else
# both texts) and fails. Its stderr is passed through.
cmake_minimum_required(VERSION 3.18)

foreach(var PROGRAM EXPECTED ACTUAL)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_and_compare.cmake: -D${var}=... is required")
  endif()
endforeach()

execute_process(
  COMMAND "${PROGRAM}"
  OUTPUT_VARIABLE actual
  ERROR_VARIABLE errors
  RESULT_VARIABLE result)
file(WRITE "${ACTUAL}" "${actual}")
if(NOT errors STREQUAL "")
  message("${PROGRAM} wrote to stderr:\n${errors}")
endif()

file(READ "${EXPECTED}" expected)
if(NOT actual STREQUAL expected)
  find_program(DIFF diff)
  if(DIFF)
    execute_process(COMMAND "${DIFF}" -u "${EXPECTED}" "${ACTUAL}"
                    OUTPUT_VARIABLE difference)
    message("diff -u expected actual:\n${difference}")
  else()
    message("expected:\n[${expected}]\nactual:\n[${actual}]")
  endif()
  message(FATAL_ERROR "stdout differs from ${EXPECTED} (actual output kept in ${ACTUAL})")
endif()

if(NOT result EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} exited with '${result}' although its stdout matched")
endif()
