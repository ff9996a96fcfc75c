//! Name normalisation and system names.

use super::{boundary, pointers};
use crate::name;
use crate::registry::{default_registry, Registry};
use crate::status::{Result, Status};
use std::ffi::c_char;

/// The seed's `NormalizeSharedMemoryName`: strip every leading `/`, replace
/// every other `/` with `_`, prepend one `/`. `"/path/with/slashes"` becomes
/// `"/path_with_slashes"`. No length limit applies (see
/// `triton_shm_system_name` for the name a policy hands the OS).
///
/// Arguments: `name` is a NUL-terminated byte string (UTF-8 not required);
/// `out` receives the NUL-terminated result and must hold `out_len` bytes;
/// `out_written` (may be NULL) receives the result's length without the
/// NUL, or on `TRITON_SHM_BUFFER_TOO_SMALL` the length needed without the
/// NUL.
///
/// Returns `TRITON_SHM_OK`; `TRITON_SHM_NULL_ARGUMENT` if `name` or `out`
/// is NULL; `TRITON_SHM_INVALID_NAME` if nothing is left after the leading
/// slashes (`""`, `"/"`, `"///"`), never the name `"/"`;
/// `TRITON_SHM_BUFFER_TOO_SMALL` if `out_len` cannot hold the result and
/// its NUL, in which case `out` is not written.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string; `out` is NULL or writable for
/// `out_len` bytes; `out_written` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn triton_shm_normalize_name(
    name: *const c_char,
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
) -> Status {
    boundary::status(|| {
        // SAFETY: forwarded from this function's contract.
        let c_key = unsafe { pointers::c_str(name, "name") }?;
        let key = c_key.to_bytes();
        pointers::require_out(out, "out")?;
        let normalized =
            name::Normalized::from_c_str(c_key).map_err(|e| e.for_key(key, "normalisation"))?;
        if pointers::overlaps(key, out, out_len) {
            // Normalising in place: go through a copy.
            // SAFETY: forwarded from this function's contract.
            return unsafe {
                pointers::write_c_string(&normalized.to_vec(), out, out_len, out_written)
            };
        }
        // SAFETY: forwarded from this function's contract; `out` does not
        // overlap `key`, the only thing `write_to` reads.
        unsafe {
            pointers::write_c_string_with(normalized.len(), out, out_len, out_written, |dst| {
                normalized.write_to(dst)
            })
        }
    })
}

/// The name the default registry's naming policy hands the OS for `name`:
/// on macOS (policy `darwin`) the normalised name, at most 31 bytes; on
/// other platforms (policy `posix`) the name as given, once checked.
///
/// Arguments and outputs as for `triton_shm_normalize_name`.
///
/// Returns `TRITON_SHM_OK`; `TRITON_SHM_NULL_ARGUMENT`;
/// `TRITON_SHM_INVALID_NAME` (empty after the leading slashes, or an inner
/// `/` under `posix`); `TRITON_SHM_NAME_TOO_LONG` (over 31 bytes under
/// `darwin`, over 255 bytes after the slashes under `posix`);
/// `TRITON_SHM_BUFFER_TOO_SMALL` (then `out` is not written).
///
/// # Safety
/// As for `triton_shm_normalize_name`.
#[no_mangle]
pub unsafe extern "C" fn triton_shm_system_name(
    name: *const c_char,
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
) -> Status {
    // SAFETY: forwarded from this function's contract.
    boundary::status(|| unsafe { system_name(default_registry(), name, out, out_len, out_written) })
}

/// The body of the system-name exports: `reg`'s system name for `name`,
/// into the caller's buffer.
///
/// # Safety
/// As for `triton_shm_normalize_name`.
pub(super) unsafe fn system_name(
    reg: &Registry,
    name: *const c_char,
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
) -> Result<()> {
    // SAFETY: forwarded from this function's contract.
    let key = unsafe { pointers::c_bytes(name, "name") }?;
    pointers::require_out(out, "out")?;
    let system = reg.system_name(key)?;
    // SAFETY: forwarded from this function's contract.
    unsafe { pointers::write_c_string(&system, out, out_len, out_written) }
}
