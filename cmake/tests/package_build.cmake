# Fixture: configure and build the package (cmake/) on its own, as
# scripts/install.sh does, for the tests that install it.
include("${CMAKE_CURRENT_LIST_DIR}/TestSupport.cmake")

tsm_fresh_dir("${PACKAGE_BUILD_DIR}")
tsm_configure_and_build("${TRITON_SHM_SOURCE_DIR}/cmake" "${PACKAGE_BUILD_DIR}")
