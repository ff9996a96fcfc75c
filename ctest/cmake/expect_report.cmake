# Run PROGRAM, which must fail and print a report matching EXPECT: the
# control that proves a checker (ASan, LSan, UBSan) is active and fatal.
#
#   cmake -DPROGRAM=<exe> -DEXPECT=<regex> -P expect_report.cmake
#
# Fails if the program exits 0 (the checker let it pass), or if its output
# lacks the expected report (it failed for some other reason).
cmake_minimum_required(VERSION 3.18)

foreach(var PROGRAM EXPECT)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "expect_report.cmake: -D${var}=... is required")
  endif()
endforeach()

execute_process(
  COMMAND "${PROGRAM}"
  OUTPUT_VARIABLE out
  ERROR_VARIABLE err
  RESULT_VARIABLE result)
set(output "${out}${err}")
if(result EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} exited 0: the checker did not stop it. Output:\n${output}")
endif()
if(NOT output MATCHES "${EXPECT}")
  message(FATAL_ERROR "${PROGRAM} failed (${result}) without a report matching '${EXPECT}'. "
                      "Output:\n${output}")
endif()
message(STATUS "${PROGRAM} was stopped (${result}) with the expected report '${EXPECT}'")
