//! The library's version.

use super::boundary;
use std::ffi::{c_char, CStr};

/// The version, `"MAJOR.MINOR.PATCH"`, as build.rs reads it from
/// Cargo.toml once for everything that names it: the shared library's
/// names, the header's `TRITON_SHM_VERSION_*` macros, this string (which
/// `triton_shm_version` returns) and the tool's `--version`. Public for the
/// tool only, with no stability promise.
#[doc(hidden)]
pub const VERSION: &CStr =
    match CStr::from_bytes_with_nul(concat!(env!("TRITON_SHM_VERSION"), "\0").as_bytes()) {
        Ok(version) => version,
        // Evaluated while compiling: a version with a NUL fails the build.
        Err(_) => panic!("the version holds a NUL byte"),
    };

/// The version of the loaded library as a static string, `"MAJOR.MINOR.PATCH"`.
/// It equals `TRITON_SHM_VERSION_STRING` from the header the caller was
/// compiled against when header and library match; ABI compatibility holds
/// within one major version.
///
/// Ownership: the string is static; never free it.
#[no_mangle]
pub extern "C" fn triton_shm_version() -> *const c_char {
    boundary::value(VERSION.as_ptr(), || VERSION.as_ptr())
}
