//! Checked conversions from the raw pointers C hands in. All the ABI's
//! pointer handling lives here, so the exports stay one-line calls into safe
//! code.

use crate::status::{Error, Result, Status};
use std::ffi::{c_char, CStr};
use std::mem::{size_of, MaybeUninit};

fn null(what: &str) -> Error {
    Error::new(Status::NULL_ARGUMENT, format!("'{what}' is NULL"))
}

/// The bytes of the C string `ptr`, without its NUL.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string that stays valid and
/// unmodified for `'a`.
pub(crate) unsafe fn c_bytes<'a>(ptr: *const c_char, what: &str) -> Result<&'a [u8]> {
    // SAFETY: forwarded contract.
    Ok(unsafe { c_str(ptr, what) }?.to_bytes())
}

/// The C string `ptr`.
///
/// # Safety
/// As for [`c_bytes`].
#[inline]
pub(crate) unsafe fn c_str<'a>(ptr: *const c_char, what: &str) -> Result<&'a CStr> {
    if ptr.is_null() {
        return Err(null(what));
    }
    // SAFETY: non-NULL and NUL-terminated per this function's contract.
    Ok(unsafe { CStr::from_ptr(ptr) })
}

/// The `len` elements of the C array `ptr` (`what`, its length
/// `len_what`); with `len` 0, empty whatever `ptr` is.
///
/// # Safety
/// `ptr` is NULL or points to `len` initialised `T`s, aligned, that stay
/// valid and unmodified for `'a`.
pub(crate) unsafe fn slice<'a, T>(
    ptr: *const T,
    len: usize,
    what: &str,
    len_what: &str,
) -> Result<&'a [T]> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(Error::new(
            Status::NULL_ARGUMENT,
            format!("'{what}' is NULL but {len_what} is {len}"),
        ));
    }
    // No array in memory has more bytes than an isize holds.
    if len > isize::MAX.unsigned_abs() / size_of::<T>().max(1) {
        return Err(Error::new(
            Status::INVALID_ARGUMENT,
            format!("{len_what} is {len}, more than memory holds"),
        ));
    }
    // SAFETY: non-NULL, and `len` valid elements per this function's
    // contract.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// The `size_t` that the caller's struct at `ptr` starts with (its own
/// size, for the structs that carry one).
///
/// # Safety
/// `ptr` is non-NULL and readable for a `usize`; it need not be aligned.
pub(crate) unsafe fn leading_size<T>(ptr: *const T) -> usize {
    // SAFETY: readable per this function's contract; `read_unaligned`
    // makes no claim about alignment.
    unsafe { ptr.cast::<usize>().read_unaligned() }
}

/// Copy the first `min(size, size_of::<T>())` bytes of the caller's struct
/// of `size` bytes at `ptr` over `value`, which keeps the rest of its
/// bytes: a caller compiled against an older, shorter struct leaves the
/// fields it does not know as `value` had them.
///
/// # Safety
/// `ptr` is readable for `size` bytes, and `value` is a valid `T` whatever
/// those bytes are.
pub(crate) unsafe fn read_sized<T>(ptr: *const T, size: usize, value: &mut T) {
    let copied = size.min(size_of::<T>());
    // SAFETY: `ptr` is readable for `size >= copied` bytes per the
    // contract; `value` is writable for `size_of::<T>() >= copied` bytes,
    // and a `&mut` cannot overlap the caller's memory it is read from.
    unsafe {
        std::ptr::copy_nonoverlapping(
            ptr.cast::<u8>(),
            std::ptr::from_mut(value).cast::<u8>(),
            copied,
        );
    }
}

/// Store `value` in the caller's struct of `size` bytes at `ptr`, if `ptr`
/// is not NULL: its first `min(size, size_of::<T>())` bytes, then zeroes up
/// to `size`, so a caller compiled against a newer, longer struct reads
/// zero in the fields this library does not know, and one compiled against
/// an older, shorter struct is never written past its end.
///
/// # Safety
/// `ptr` is NULL or valid for writing `size` bytes.
pub(crate) unsafe fn write_sized<T>(ptr: *mut T, size: usize, value: &T) {
    if ptr.is_null() {
        return;
    }
    let ours = size_of::<T>();
    let copied = size.min(ours);
    let dst = ptr.cast::<u8>();
    // SAFETY: `dst` is writable for `size >= copied` bytes per the contract,
    // `value` is readable for `ours >= copied` bytes (an untyped copy, so
    // its padding may be copied too), and a shared reference cannot overlap
    // the caller's memory being written.
    unsafe { std::ptr::copy_nonoverlapping(std::ptr::from_ref(value).cast::<u8>(), dst, copied) };
    if size > ours {
        // SAFETY: the bytes from `ours` to `size` are the caller's, writable
        // per the contract.
        unsafe { std::ptr::write_bytes(dst.add(ours), 0, size - ours) };
    }
}

/// A shared reference to the object behind `ptr`.
///
/// # Safety
/// `ptr` is NULL or points to a live `T` that outlives `'a`.
pub(crate) unsafe fn object<'a, T>(ptr: *const T, what: &str) -> Result<&'a T> {
    // SAFETY: forwarded from this function's contract.
    unsafe { optional_object(ptr) }.ok_or_else(|| null(what))
}

/// [`object`] for the getters that answer a NULL handle with a value
/// (NULL, 0) instead of an error: `None` for NULL, without making an error.
///
/// # Safety
/// As for [`object`].
pub(crate) unsafe fn optional_object<'a, T>(ptr: *const T) -> Option<&'a T> {
    // SAFETY: per this function's contract, a non-NULL `ptr` is a live `T`.
    unsafe { ptr.as_ref() }
}

/// An exclusive reference to the object behind `ptr`.
///
/// # Safety
/// `ptr` is NULL or points to a live `T` that outlives `'a` and that nothing
/// else reads or writes during `'a`.
pub(crate) unsafe fn object_mut<'a, T>(ptr: *mut T, what: &str) -> Result<&'a mut T> {
    // SAFETY: per this function's contract, a non-NULL `ptr` is a live `T`
    // used by nobody else meanwhile.
    unsafe { ptr.as_mut() }.ok_or_else(|| null(what))
}

/// Move `value` to the heap and hand C its address: the handle that
/// [`take_handle`] takes back.
pub(crate) fn into_handle<T>(value: T) -> *mut T {
    Box::into_raw(Box::new(value))
}

/// The handle C gets for an object that lives as long as the process. Every
/// export turns a handle back into a shared reference only (see
/// [`object`]), so handing out `*mut` grants nothing a `&T` does not.
pub(crate) fn static_handle<T>(value: &'static T) -> *mut T {
    std::ptr::from_ref(value).cast_mut()
}

/// Take back the object behind a non-NULL handle from [`into_handle`].
///
/// # Safety
/// `ptr` is non-NULL, came from [`into_handle`] for the same `T`, and is
/// neither taken before nor used after this call.
pub(crate) unsafe fn take_handle<T>(ptr: *mut T) -> T {
    // SAFETY: per this function's contract, `ptr` is a live Box of `T` that
    // nobody else frees or uses again.
    *unsafe { Box::from_raw(ptr) }
}

/// Fail with `TRITON_SHM_NULL_ARGUMENT` when a required output is NULL.
#[inline]
pub(crate) fn require_out<T>(ptr: *mut T, what: &str) -> Result<()> {
    if ptr.is_null() {
        Err(null(what))
    } else {
        Ok(())
    }
}

/// Fail with `TRITON_SHM_NULL_ARGUMENT` when a required input is NULL.
pub(crate) fn require_in<T>(ptr: *const T, what: &str) -> Result<()> {
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
#[inline]
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
        return Err(too_small(bytes.len(), out_len));
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

fn too_small(len: usize, out_len: usize) -> Error {
    Error::new(
        Status::BUFFER_TOO_SMALL,
        format!("the result needs {len} bytes plus a NUL, the buffer holds {out_len}"),
    )
}

/// Whether `bytes` shares memory with the caller's buffer `out` of
/// `out_len` bytes (a caller normalising a name in place).
pub(crate) fn overlaps(bytes: &[u8], out: *const c_char, out_len: usize) -> bool {
    let (a, b) = (bytes.as_ptr() as usize, out as usize);
    a < b.saturating_add(out_len) && b < a.saturating_add(bytes.len().saturating_add(1))
}

/// Like [`write_c_string`] for a string of `len` bytes that `fill` writes
/// straight into the caller's buffer (it must initialise the whole slice it
/// is given), so the result never needs a buffer of its own.
///
/// # Safety
/// As for [`write_c_string`], and the caller's buffer must not overlap
/// anything `fill` reads (see [`overlaps`]).
pub(crate) unsafe fn write_c_string_with(
    len: usize,
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
    fill: impl FnOnce(&mut [MaybeUninit<u8>]),
) -> Result<()> {
    require_out(out, "out")?;
    if out_len <= len {
        // SAFETY: forwarded contract.
        unsafe { write_opt(out_written, len) };
        return Err(too_small(len, out_len));
    }
    // SAFETY: `out` is writable for `out_len > len` bytes, so the slice and
    // the NUL after it fit; MaybeUninit makes no claim about the caller's
    // bytes, and nothing else refers to them during the call.
    unsafe {
        let dst = std::slice::from_raw_parts_mut(out.cast::<MaybeUninit<u8>>(), len);
        fill(dst);
        out.add(len).write(0);
        write_opt(out_written, len);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_array_may_be_null() {
        // SAFETY: a length of 0 reads nothing.
        let items = unsafe { slice::<u32>(std::ptr::null(), 0, "a", "n") }.unwrap();
        assert!(items.is_empty());
    }

    #[test]
    fn a_null_array_with_a_length_is_refused() {
        // SAFETY: NULL is refused before anything is read.
        let err = unsafe { slice::<u32>(std::ptr::null(), 2, "a", "n") }.unwrap_err();
        assert_eq!(err.status(), Status::NULL_ARGUMENT);
        assert_eq!(err.message(), "'a' is NULL but n is 2");
    }

    #[test]
    fn a_length_no_memory_holds_is_refused() {
        let one = 7u64;
        // SAFETY: the length is refused before anything is read.
        let err = unsafe { slice(std::ptr::from_ref(&one), usize::MAX / 4, "a", "n") }.unwrap_err();
        assert_eq!(err.status(), Status::INVALID_ARGUMENT);
    }

    #[test]
    fn a_sized_write_then_read_round_trips_the_shared_bytes() {
        let mut buf = [0xA5u8; 24];
        // SAFETY: `buf` holds 24 bytes, the 12 written and more.
        unsafe { write_sized(buf.as_mut_ptr().cast::<[u32; 2]>(), 12, &[1u32, 2]) };
        assert_eq!(&buf[..8], [1u32, 2].map(u32::to_ne_bytes).as_flattened());
        assert_eq!(
            &buf[8..12],
            [0; 4],
            "zeroes past ours, up to the caller's size"
        );
        assert!(
            buf[12..].iter().all(|&b| b == 0xA5),
            "nothing past the caller's size"
        );
        let mut back = [9u32; 2];
        // SAFETY: `buf` is readable for 4 bytes; any bytes make a u32.
        unsafe { read_sized(buf.as_ptr().cast::<[u32; 2]>(), 4, &mut back) };
        assert_eq!(back, [1, 9], "only the caller's bytes are read");
    }
}
