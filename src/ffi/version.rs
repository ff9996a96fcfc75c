//! The library's version.

use super::boundary;
use std::ffi::c_char;

/// The version of the loaded library as a static string, `"MAJOR.MINOR.PATCH"`.
/// It equals `TRITON_SHM_VERSION_STRING` from the header the caller was
/// compiled against when header and library match; ABI compatibility holds
/// within one major version.
///
/// Ownership: the string is static; never free it.
#[no_mangle]
pub extern "C" fn triton_shm_version() -> *const c_char {
    const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
    boundary::value(VERSION.as_ptr().cast(), || VERSION.as_ptr().cast())
}
