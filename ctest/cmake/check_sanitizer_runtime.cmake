# Check that the sanitizer runtimes are (or are not) linked into executables.
#
#   cmake -DNM=<nm> -DEXECUTABLES=<exe>|<exe>... -DEXPECT=present|absent
#         -P check_sanitizer_runtime.cmake
#
# "present": every executable has AddressSanitizer (__asan_init) and
# UndefinedBehaviorSanitizer (__ubsan_handle_*) symbols, and each runtime is
# either linked in (clang's default on Linux: the symbol is defined in the
# executable) or a shared dependency (GCC's default: libasan, libubsan).
# "absent": neither runtime is there. Compiling with -fsanitize but linking
# without it, or a flag that never reached the test programs, fails here.
cmake_minimum_required(VERSION 3.18)

foreach(var NM EXECUTABLES EXPECT)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "check_sanitizer_runtime.cmake: -D${var}=... is required")
  endif()
endforeach()
if(NOT EXPECT MATCHES "^(present|absent)$")
  message(FATAL_ERROR "check_sanitizer_runtime.cmake: -DEXPECT=present|absent")
endif()
string(REPLACE "|" ";" EXECUTABLES "${EXECUTABLES}")

set(failures "")
foreach(exe IN LISTS EXECUTABLES)
  if(NOT EXISTS "${exe}")
    message(FATAL_ERROR "check_sanitizer_runtime.cmake: no executable '${exe}'")
  endif()
  execute_process(COMMAND "${NM}" "${exe}"
    OUTPUT_VARIABLE symbols ERROR_VARIABLE nm_errors RESULT_VARIABLE nm_result)
  if(NOT nm_result EQUAL 0)
    message(FATAL_ERROR "${NM} ${exe} failed (${nm_result}): ${nm_errors}")
  endif()
  file(GET_RUNTIME_DEPENDENCIES
    EXECUTABLES "${exe}"
    RESOLVED_DEPENDENCIES_VAR resolved
    UNRESOLVED_DEPENDENCIES_VAR unresolved)
  set(deps ${resolved} ${unresolved})

  # runtime NAME SYMBOL_REGEX LIBRARY_REGEX: how the runtime is there, if it is.
  foreach(runtime asan ubsan)
    if(runtime STREQUAL "asan")
      set(symbol "__asan_init")
      set(library "lib(asan|clang_rt\\.asan)[^/]*$")
    else()
      set(symbol "__ubsan_handle_[A-Za-z0-9_]+")
      set(library "lib(ubsan|clang_rt\\.ubsan|clang_rt\\.asan)[^/]*$")
    endif()
    set(how "")
    # Mach-O symbols carry a leading underscore.
    if(symbols MATCHES "(^|\n)[0-9a-fA-F]* *[TtWw] _?${symbol}(\n|$)")
      set(how "linked into the executable")
    elseif(symbols MATCHES "(^|\n) *U _?${symbol}(@[^\n]*)?(\n|$)")
      set(dynamic ${deps})
      list(FILTER dynamic INCLUDE REGEX "${library}")
      if(dynamic)
        set(how "loaded from ${dynamic}")
      else()
        set(how "referenced, but neither linked in nor a dependency")
        list(APPEND failures "${exe}: ${symbol} is undefined and no sanitizer library is a dependency")
      endif()
    endif()
    if(how MATCHES "^referenced")
      # Already a failure, whatever was expected.
    elseif(EXPECT STREQUAL "present" AND how STREQUAL "")
      list(APPEND failures "${exe}: no ${runtime} runtime (${symbol})")
    elseif(EXPECT STREQUAL "absent" AND NOT how STREQUAL "")
      list(APPEND failures "${exe}: the ${runtime} runtime is ${how}")
    elseif(NOT how STREQUAL "")
      message(STATUS "${exe}: ${runtime} runtime ${how}")
    else()
      message(STATUS "${exe}: no ${runtime} runtime, as expected")
    endif()
  endforeach()
endforeach()

if(failures)
  string(REPLACE ";" "\n  " failures "${failures}")
  message(FATAL_ERROR "sanitizer runtime check (expected ${EXPECT}) failed:\n  ${failures}")
endif()
