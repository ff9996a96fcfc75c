# Defines the two consumer programs every consumer project builds:
#   consumer_shared  C, linked with TritonShm::triton_shm
#   consumer_static  C and C++, linked with TritonShm::triton_shm_static
# Warnings are errors so that the header is checked as well.

function(triton_shm_consumers)
  set(common "${CMAKE_CURRENT_FUNCTION_LIST_DIR}")

  add_executable(consumer_shared "${common}/consumer.c")
  target_compile_definitions(consumer_shared PRIVATE CONSUMER_KIND="shared")
  target_link_libraries(consumer_shared PRIVATE TritonShm::triton_shm)

  add_executable(consumer_static "${common}/consumer.c" "${common}/consumer_cxx.cpp")
  target_compile_definitions(consumer_static PRIVATE CONSUMER_KIND="static" CONSUMER_WITH_CXX)
  target_link_libraries(consumer_static PRIVATE TritonShm::triton_shm_static)

  foreach(program consumer_shared consumer_static)
    set_target_properties(${program} PROPERTIES
      C_STANDARD 11 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF
      CXX_STANDARD 17 CXX_STANDARD_REQUIRED ON CXX_EXTENSIONS OFF)
    # getpid() is POSIX.
    target_compile_definitions(${program} PRIVATE _POSIX_C_SOURCE=200809L)
    if(CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")
      target_compile_options(${program} PRIVATE -Wall -Wextra -Wpedantic -Werror)
    endif()
  endforeach()
endfunction()
