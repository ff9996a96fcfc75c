//! Checked conversions from the raw pointers C hands in. All the ABI's
//! pointer handling lives here, so the exports stay one-line calls into safe
//! code.

use crate::status::{Error, Result, Status};
use std::ffi::{c_char, CStr};

fn null(what: &str) -> Error {
    Error::new(Status::NULL_ARGUMENT, format!("'{what}' is NULL"))
}

/// The bytes of the C string `ptr`, without its NUL.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string that stays valid and
/// unmodified for `'a`.
pub(crate) unsafe fn c_bytes<'a>(ptr: *const c_char, what: &str) -> Result<&'a [u8]> {
    if ptr.is_null() {
        return Err(null(what));
    }
    // SAFETY: non-NULL and NUL-terminated per this function's contract.
    Ok(unsafe { CStr::from_ptr(ptr) }.to_bytes())
}

/// A shared reference to the object behind `ptr`.
///
/// # Safety
/// `ptr` is NULL or points to a live `T` that outlives `'a`.
pub(crate) unsafe fn object<'a, T>(ptr: *const T, what: &str) -> Result<&'a T> {
    // SAFETY: per this function's contract, a non-NULL `ptr` is a live `T`.
    unsafe { ptr.as_ref() }.ok_or_else(|| null(what))
}

/// Fail with `TRITON_SHM_NULL_ARGUMENT` when a required output is NULL.
pub(crate) fn require_out<T>(ptr: *mut T, what: &str) -> Result<()> {
    if ptr.is_null() {
        Err(null(what))
    } else {
        Ok(())
    }
}

/// Store `value` through `ptr` if it is not NULL.
///
/// # Safety
/// `ptr` is NULL or valid for writing a `T` (it need not be initialised).
pub(crate) unsafe fn write_opt<T>(ptr: *mut T, value: T) {
    if !ptr.is_null() {
        // SAFETY: non-NULL and writable per this function's contract; `write`
        // does not read or drop the old contents.
        unsafe { ptr.write(value) };
    }
}

/// Copy `bytes` and a NUL into the caller's buffer `out` of `out_len` bytes
/// and store the length without the NUL in `*out_written` (optional).
///
/// When the buffer is too small, `out` is not written, `*out_written`
/// receives the length needed (without the NUL), and the result is
/// `TRITON_SHM_BUFFER_TOO_SMALL`.
///
/// # Safety
/// `out` is NULL or valid for writing `out_len` bytes; `out_written` is NULL
/// or valid for writing a `usize`.
pub(crate) unsafe fn write_c_string(
    bytes: &[u8],
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
) -> Result<()> {
    require_out(out, "out")?;
    if out_len <= bytes.len() {
        // SAFETY: forwarded contract.
        unsafe { write_opt(out_written, bytes.len()) };
        return Err(Error::new(
            Status::BUFFER_TOO_SMALL,
            format!(
                "the result needs {} bytes plus a NUL, the buffer holds {out_len}",
                bytes.len()
            ),
        ));
    }
    // SAFETY: `out` is writable for `out_len > bytes.len()` bytes, so the
    // copy and the NUL after it fit. `copy` (memmove) stays correct even if
    // `bytes` were to alias the caller's buffer.
    unsafe {
        std::ptr::copy(bytes.as_ptr(), out.cast::<u8>(), bytes.len());
        out.add(bytes.len()).write(0);
        write_opt(out_written, bytes.len());
    }
    Ok(())
}
