//! Structs that the caller allocates and the library fills (or reads),
//! exchanged at the caller's size.
//!
//! A caller compiled against an older header has a shorter struct, one
//! compiled against a newer header a longer one. The library therefore
//! copies only `min(caller's size, its own)` bytes, and zeroes the caller's
//! bytes past its own struct, never a byte past the caller's. Fields are only
//! ever appended, so the bytes both sides know mean the same thing.
//!
//! The entry points of 0.1.0 (`triton_shm_registry_stats`,
//! `triton_shm_cleanup_all`, `triton_shm_registry_cleanup_all`,
//! `triton_shm_reap_stale`, `triton_shm_stats_format`) carry no size: they
//! exchange exactly the 0.1.0 layout ([`Extensible::SIZE_0_1`]), forever.

use super::pointers;
use crate::journal::ReapReport;
use crate::registry::{CleanupReport, Stats};
use crate::status::{Error, Result, Status};
use std::mem::{offset_of, size_of};

/// A `#[repr(C)]` struct of the ABI whose fields are only ever appended.
///
/// # Safety
/// The implementor is `#[repr(C)]`, has no padding and only integer
/// fields: every byte of a value is initialised and may be copied as bytes,
/// and any bytes make a valid value.
pub(crate) unsafe trait Extensible: Copy + Default {
    /// Its C name, for messages.
    const C_NAME: &'static str;
    /// Its size in 0.1.0, the first release: what the unsized entry points
    /// exchange, and the smallest size the sized ones accept.
    const SIZE_0_1: usize;
}

// SAFETY: #[repr(C)], nine u64 fields, no padding (pinned by the layout
// tests under ctest/abi/).
unsafe impl Extensible for Stats {
    const C_NAME: &'static str = "triton_shm_stats";
    const SIZE_0_1: usize = offset_of!(Stats, reaped) + size_of::<u64>();
}

// SAFETY: #[repr(C)], usize fields only, no padding.
unsafe impl Extensible for CleanupReport {
    const C_NAME: &'static str = "triton_shm_cleanup_report";
    const SIZE_0_1: usize = offset_of!(CleanupReport, released) + size_of::<usize>();
}

// SAFETY: #[repr(C)], usize fields only, no padding.
unsafe impl Extensible for ReapReport {
    const C_NAME: &'static str = "triton_shm_reap_report";
    const SIZE_0_1: usize = offset_of!(ReapReport, regions_failed) + size_of::<usize>();
}

/// Refuse a caller's size below the first published layout: such a size is
/// a mistake (a pointer's size, an uninitialised variable), not an old
/// caller.
pub(crate) fn check_size<T: Extensible>(size: usize, what: &str) -> Result<()> {
    if size < T::SIZE_0_1 {
        return Err(Error::new(
            Status::INVALID_ARGUMENT,
            format!(
                "'{what}' is {size}; pass sizeof({}), at least {} (this library's is {})",
                T::C_NAME,
                T::SIZE_0_1,
                size_of::<T>()
            ),
        ));
    }
    Ok(())
}

/// Store `value` in the caller's struct of `size` bytes at `ptr`, if `ptr`
/// is not NULL: its first `min(size, size_of::<T>())` bytes, then zeroes up
/// to `size`.
///
/// # Safety
/// `ptr` is NULL or valid for writing `size` bytes.
pub(crate) unsafe fn write<T: Extensible>(ptr: *mut T, size: usize, value: T) {
    // SAFETY: forwarded contract; `value` has no padding (Extensible), so
    // every byte the caller receives is initialised.
    unsafe { pointers::write_sized(ptr, size, &value) }
}

/// Read the caller's struct of `size` bytes at `ptr` (not NULL): its first
/// `min(size, size_of::<T>())` bytes; the fields it does not have are zero.
///
/// # Safety
/// `ptr` is valid for reading `size` bytes.
pub(crate) unsafe fn read<T: Extensible>(ptr: *const T, size: usize) -> T {
    let mut value = T::default();
    // SAFETY: `ptr` is readable for `size` bytes per the contract, and any
    // bytes are a valid T (integers only, Extensible).
    unsafe { pointers::read_sized(ptr, size, &mut value) };
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_sizes_are_those_0_1_0_published() {
        assert_eq!(
            (
                Stats::SIZE_0_1,
                CleanupReport::SIZE_0_1,
                ReapReport::SIZE_0_1
            ),
            (72, 40, 48)
        );
    }

    #[test]
    fn a_larger_caller_struct_gets_zeroes_after_ours_and_nothing_past_its_end() {
        let ours = size_of::<CleanupReport>();
        let mut buf = [0xA5u8; 128];
        let value = CleanupReport {
            unlinked: 1,
            ..CleanupReport::default()
        };
        // SAFETY: `buf` holds 128 bytes, more than the `ours + 32` asked for.
        unsafe { write(buf.as_mut_ptr().cast::<CleanupReport>(), ours + 32, value) };
        assert_eq!(buf[0], 1);
        assert!(buf[ours..ours + 32].iter().all(|&b| b == 0));
        assert!(buf[ours + 32..].iter().all(|&b| b == 0xA5));
    }

    #[test]
    fn a_smaller_caller_struct_gets_only_its_bytes() {
        let mut buf = [0xA5u8; 128];
        // SAFETY: `buf` holds 128 bytes, more than the 48 asked for.
        unsafe {
            write(
                buf.as_mut_ptr().cast::<ReapReport>(),
                48,
                ReapReport::default(),
            )
        };
        assert!(buf[..48].iter().all(|&b| b == 0));
        assert!(buf[48..].iter().all(|&b| b == 0xA5));
    }

    #[test]
    fn a_shorter_struct_reads_as_zeroes_past_its_end() {
        let mut source = Stats {
            reaped: 7,
            ..Stats::default()
        };
        source.tracked = 3;
        // SAFETY: `source` is readable for its whole size, more than 72.
        let read_back = unsafe { read(std::ptr::from_ref(&source), Stats::SIZE_0_1) };
        assert_eq!((read_back.tracked, read_back.reaped), (3, 7));
        // SAFETY: as above; 8 bytes cover `tracked` only.
        let first = unsafe { read(std::ptr::from_ref(&source), 8) };
        assert_eq!((first.tracked, first.reaped), (3, 0));
    }

    #[test]
    fn a_size_below_the_first_release_is_refused() {
        let err = check_size::<Stats>(8, "out_size").unwrap_err();
        assert_eq!(err.status(), Status::INVALID_ARGUMENT);
        assert!(check_size::<Stats>(72, "out_size").is_ok());
    }
}
