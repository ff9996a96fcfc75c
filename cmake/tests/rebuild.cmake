# Building again does not run cargo; changing a Rust source does. Uses a
# copy of the checkout so the real one is not touched, and a copy of the
# shared cargo target dir: cargo names the cdylib and staticlib the same for
# every checkout, so two checkouts must not share one target dir. The copy
# keeps the compiled dependencies; only the crate itself is built again.
include("${CMAKE_CURRENT_LIST_DIR}/TestSupport.cmake")

set(root "${SCRATCH_DIR}/rebuild")
set(copy "${root}/triton-shm")
set(build "${root}/build")
tsm_fresh_dir("${root}")
# What cargo and the package read, not build products or git data.
file(MAKE_DIRECTORY "${copy}")
foreach(item Cargo.toml Cargo.lock build.rs cbindgen.toml src include cmake
             tests benches examples .cargo rust-toolchain rust-toolchain.toml README.md)
  if(EXISTS "${TRITON_SHM_SOURCE_DIR}/${item}")
    file(COPY "${TRITON_SHM_SOURCE_DIR}/${item}" DESTINATION "${copy}")
  endif()
endforeach()

# The host's profiles only (the package builds release and tool, and probes
# its system libraries in native-static-libs), not other targets' builds.
foreach(part release tool native-static-libs)
  if(IS_DIRECTORY "${CARGO_TARGET_DIR}/${part}")
    file(COPY "${CARGO_TARGET_DIR}/${part}" DESTINATION "${root}/cargo-target")
  endif()
endforeach()
set(CARGO_TARGET_DIR "${root}/cargo-target")

set(marker "Building triton-shm")
tsm_configure_and_build("${CONSUMERS_DIR}/add_subdirectory" "${build}"
  "-DTRITON_SHM_SOURCE_DIR=${copy}")
tsm_run_consumer("${build}/consumer_shared" shared)

tsm_run("build again, nothing changed" OUTPUT output
  COMMAND "${CMAKE_COMMAND}" --build "${build}")
if(output MATCHES "${marker}")
  tsm_fail("an unchanged tree ran cargo again:\n${output}")
endif()

# Changing a Rust source runs cargo, which compiles the crate again.
file(READ "${copy}/src/lib.rs" lib_rs)
file(WRITE "${copy}/src/lib.rs" "${lib_rs}\n// Changed by the rebuild test.\n")
tsm_run("build after a source change" OUTPUT output
  COMMAND "${CMAKE_COMMAND}" --build "${build}")
if(NOT output MATCHES "${marker}" OR NOT output MATCHES "Compiling triton-shm")
  tsm_fail("changing src/lib.rs did not rebuild the crate:\n${output}")
endif()
tsm_run_consumer("${build}/consumer_shared" shared)
tsm_run_consumer("${build}/consumer_static" static)
