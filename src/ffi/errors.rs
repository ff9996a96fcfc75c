//! Status names, the last error message and errno.

use super::{boundary, last_error, pointers};
use crate::status::Status;
use std::ffi::c_char;

/// The name of a status as a static NUL-terminated string, e.g.
/// `"TRITON_SHM_NOT_FOUND"`, or `"TRITON_SHM_UNKNOWN_STATUS"` for a value
/// that is not a status.
///
/// `status` is a `uint32_t` rather than a `triton_shm_status` so that any
/// value, even one this version does not know, is safe to pass.
///
/// Ownership: the returned string is static; never free it.
#[no_mangle]
pub extern "C" fn triton_shm_status_name(status: u32) -> *const c_char {
    const UNKNOWN: &std::ffi::CStr = c"TRITON_SHM_UNKNOWN_STATUS";
    boundary::value(UNKNOWN.as_ptr(), || {
        Status::from_code(status)
            .map_or(UNKNOWN, Status::c_name)
            .as_ptr()
    })
}

/// Copy this thread's last error message into `buf`.
///
/// Every call that returns a `triton_shm_status` resets the message: it is
/// empty after `TRITON_SHM_OK` and describes the failure otherwise, naming
/// the original and the system name and, when a system call failed, its
/// errno and the errno's text. Reading the message (this function,
/// `triton_shm_last_errno`) does not change it, so a retry with a larger
/// buffer sees the same text.
///
/// Arguments: `buf` receives the NUL-terminated message and must hold
/// `len` bytes; `out_written` (may be NULL) receives the message length
/// without the NUL, or on `TRITON_SHM_BUFFER_TOO_SMALL` the length needed
/// without the NUL.
///
/// Returns `TRITON_SHM_OK`; `TRITON_SHM_NULL_ARGUMENT` if `buf` is NULL;
/// `TRITON_SHM_BUFFER_TOO_SMALL` if `len` cannot hold the message and its
/// NUL. Then, when `len` is at least 1, `buf` still receives as much of the
/// message as fits in `len - 1` bytes (cut before a UTF-8 sequence, never
/// inside one) and a NUL, so a fixed buffer always holds a printable string;
/// with `len` 0 nothing is written.
///
/// # Safety
/// `buf` is NULL or writable for `len` bytes; `out_written` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn triton_shm_last_error_message(
    buf: *mut c_char,
    len: usize,
    out_written: *mut usize,
) -> Status {
    boundary::query(|| {
        let message = last_error::message();
        // SAFETY: forwarded from this function's contract.
        let written =
            unsafe { pointers::write_c_string(message.as_bytes(), buf, len, out_written) };
        if let Err(e) = &written {
            if e.status() == Status::BUFFER_TOO_SMALL && len > 0 {
                let cut = truncation_point(&message, len - 1);
                let fitting = message.as_bytes().get(..cut).unwrap_or_default();
                // SAFETY: forwarded from this function's contract. `cut <
                // len`, so the bytes and their NUL fit and the result is Ok;
                // `*out_written` keeps the length needed, stored above.
                let _ =
                    unsafe { pointers::write_c_string(fitting, buf, len, std::ptr::null_mut()) };
            }
        }
        written
    })
}

/// The longest prefix of `message` of at most `limit` bytes that ends on a
/// character boundary.
fn truncation_point(message: &str, limit: usize) -> usize {
    let mut cut = limit.min(message.len());
    while !message.is_char_boundary(cut) {
        cut -= 1;
    }
    cut
}

/// The errno of the system call that made this thread's last status-returning
/// call fail, or 0 when it succeeded or failed without a system call.
#[no_mangle]
pub extern "C" fn triton_shm_last_errno() -> i32 {
    boundary::value(0, last_error::errno)
}

#[cfg(test)]
mod tests {
    use super::truncation_point;

    #[test]
    fn truncation_keeps_whole_characters() {
        assert_eq!(truncation_point("abcdef", 3), 3);
        assert_eq!(truncation_point("ab", 10), 2);
        // 'é' is two bytes: a cut inside it moves before it.
        assert_eq!(truncation_point("aé", 2), 1);
        assert_eq!(truncation_point("aé", 3), 3);
        assert_eq!(truncation_point("", 0), 0);
    }
}
