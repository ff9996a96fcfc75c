# (d) The installed tree can be moved: install into one prefix, mv it
# elsewhere, then build and run the find_package consumers against the new
# place, and check that pkg-config resolves to it too.
include("${CMAKE_CURRENT_LIST_DIR}/TestSupport.cmake")

set(root "${SCRATCH_DIR}/relocation")
set(original "${root}/installed-here")
set(moved "${root}/moved/somewhere/else")
tsm_fresh_dir("${root}")
tsm_run("install" COMMAND "${CMAKE_COMMAND}" --install "${PACKAGE_BUILD_DIR}" --prefix "${original}")

get_filename_component(moved_parent "${moved}" DIRECTORY)
file(MAKE_DIRECTORY "${moved_parent}")
tsm_run("move the prefix" COMMAND mv "${original}" "${moved}")
if(EXISTS "${original}" OR NOT EXISTS "${moved}/include/triton_shm.h")
  tsm_fail("mv ${original} ${moved} did not move the installed tree")
endif()

# CMake: the consumers find and link the moved tree.
set(build "${root}/consumer-find-package")
tsm_check_consumer_project("${CONSUMERS_DIR}/find_package" "${build}"
  "-DCMAKE_PREFIX_PATH=${moved}")
tsm_cache_value("${build}" TritonShm_DIR found)
tsm_cache_value("${PACKAGE_BUILD_DIR}" CMAKE_INSTALL_LIBDIR libdir)
if(NOT found STREQUAL "${moved}/${libdir}/cmake/TritonShm")
  tsm_fail("find_package used ${found}, not the moved package in ${moved}")
endif()

# pkg-config, when there is one.
find_program(PKG_CONFIG NAMES pkg-config pkgconf)
if(NOT PKG_CONFIG)
  message(STATUS "pkg-config not found: the .pc file is not checked")
  return()
endif()
set(pc_env "${CMAKE_COMMAND}" -E env "PKG_CONFIG_PATH=${moved}/${libdir}/pkgconfig")
tsm_run("pkg-config flags" OUTPUT flags COMMAND ${pc_env}
  "${PKG_CONFIG}" --libs --cflags triton_shm)
string(STRIP "${flags}" flags)
message(STATUS "pkg-config --libs --cflags triton_shm: ${flags}")
separate_arguments(flag_list UNIX_COMMAND "${flags}")
set(saw_include FALSE)
set(saw_libdir FALSE)
foreach(flag IN LISTS flag_list)
  if(flag MATCHES "^-([IL])(.+)$")
    set(kind "${CMAKE_MATCH_1}")
    get_filename_component(dir "${CMAKE_MATCH_2}" ABSOLUTE)
    if(kind STREQUAL "I" AND dir STREQUAL "${moved}/include")
      set(saw_include TRUE)
    elseif(kind STREQUAL "L" AND dir STREQUAL "${moved}/${libdir}")
      set(saw_libdir TRUE)
    else()
      tsm_fail("pkg-config gave ${flag}, which is not in the moved prefix ${moved}")
    endif()
  endif()
endforeach()
if(NOT saw_include OR NOT saw_libdir OR NOT flags MATCHES "(^| )-ltriton_shm( |$)")
  tsm_fail("pkg-config should give -I${moved}/include -L${moved}/${libdir} -ltriton_shm, "
           "gave: ${flags}")
endif()

tsm_run("pkg-config static flags" OUTPUT static_flags COMMAND ${pc_env}
  "${PKG_CONFIG}" --static --libs triton_shm)
file(STRINGS "${moved}/${libdir}/pkgconfig/triton_shm.pc" private REGEX "^Libs.private:")
string(REGEX REPLACE "^Libs.private:[ \t]*" "" private "${private}")
separate_arguments(private UNIX_COMMAND "${private}")
list(GET private 0 first_private)
if(NOT static_flags MATCHES "-ltriton_shm" OR NOT static_flags MATCHES "${first_private}")
  tsm_fail("pkg-config --static should add Libs.private (${private}), gave: ${static_flags}")
endif()

# And a program compiled with those flags alone runs.
if(C_COMPILER)
  set(program "${root}/consumer-pkg-config")
  tsm_run("compile with pkg-config flags" COMMAND "${C_COMPILER}" -std=c11
    -D_POSIX_C_SOURCE=200809L "-DCONSUMER_KIND=\"shared\""
    "${CONSUMERS_DIR}/common/consumer.c" -o "${program}"
    ${flag_list} "-Wl,-rpath,${moved}/${libdir}")
  tsm_check_linkage("${program}" shared)
  tsm_run_consumer("${program}" shared)
endif()
