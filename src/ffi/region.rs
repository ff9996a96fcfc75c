//! Regions: open a client's region, create one, read its properties, close.

use super::{boundary, pointers};
use crate::region::{Region, Tracking};
use crate::registry::Registry;
use crate::status::{Error, Result, Status};
use std::ffi::{c_char, c_void};

/// `flags` of `triton_shm_region_open`: do not track the region in the
/// registry. It gets no entry: it is not counted in the statistics'
/// `tracked` or `registered`, not listed, never refused as a collision and
/// never unlinked through the registry (closing it only unmaps it, whatever
/// the unlink policy); its bytes count in `mapped_bytes` while it is
/// mapped. For a server that never unlinks what clients created and keeps
/// its own table of what it opened (Triton's), it leaves out the registry's
/// bookkeeping on every registration and unregistration.
pub const TRITON_SHM_OPEN_UNTRACKED: u32 = 1;

/// `flags` must hold only the bits in `known`, which `call` defines.
fn check_flags(flags: u32, known: u32, call: &str) -> Result<()> {
    let unknown = flags & !known;
    if unknown != 0 {
        return Err(Error::new(
            Status::INVALID_ARGUMENT,
            format!("flags is {flags:#x}; {unknown:#x} is no flag of {call}"),
        ));
    }
    Ok(())
}

/// Open and map `byte_size` bytes at `offset` of the shared-memory region a
/// client created under `key`: the server side of Triton's
/// `RegisterSystemSharedMemory`. The name checks run first, then the object
/// is looked for, then the size is judged (so a missing object is
/// `TRITON_SHM_NOT_FOUND` even with `byte_size` 0); the descriptor is closed
/// before returning, on success and error.
///
/// Under the `posix` naming policy the object is opened by its system name.
/// Under `darwin` (XNU checks only a name's length and compares names byte
/// for byte) the names real clients create are tried in this order, each
/// once: the normalised name, the key as given (Triton's C++ client), and
/// `/` + key (Triton's Python client: CPython prepends `/`);
/// `triton_shm_region_system_name` reports the name actually opened, and
/// only that name is ever unlinked. `offset` need not be page-aligned. The
/// region is tracked as not owned, or not at all with
/// `TRITON_SHM_OPEN_UNTRACKED`.
///
/// Arguments: `reg` the registry; `key` a NUL-terminated name; `flags` 0 or
/// `TRITON_SHM_OPEN_UNTRACKED`; `*out` receives the region, only on
/// success.
///
/// Returns `TRITON_SHM_OK`; `TRITON_SHM_NULL_ARGUMENT` (`reg`, `key`,
/// `out`); `TRITON_SHM_INVALID_ARGUMENT` (`byte_size` 0, unknown flags);
/// `TRITON_SHM_OUT_OF_BOUNDS` (`offset + byte_size` overflows or passes the
/// object's size, which on macOS is rounded up to a page);
/// `TRITON_SHM_INVALID_NAME`;
/// `TRITON_SHM_RESERVED_NAME` (a Triton backend's own region, in any slash
/// spelling, or a host-reserved prefix); `TRITON_SHM_NAME_COLLISION` (a
/// different tracked key reaches the same object and the registry could
/// unlink it through either: that key is owned, or the unlink policy is
/// `TRITON_SHM_UNLINK_ALL`; never for an untracked region);
/// `TRITON_SHM_NOT_FOUND`
/// (no object under any name tried; the message lists them);
/// `TRITON_SHM_NAME_TOO_LONG` (also when nothing was found and a name a
/// client would use is longer than the OS allows: the message says which
/// client could not have created it); `TRITON_SHM_PERMISSION_DENIED`;
/// `TRITON_SHM_OS_ERROR`.
///
/// Ownership: the caller owns `*out` and must pass it to
/// `triton_shm_region_close`. A region keeps its registry alive, but close
/// regions before freeing their registry's handle to keep tracking simple.
///
/// # Safety
/// `reg` is NULL or a live registry; `key` is NULL or a NUL-terminated
/// string; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn triton_shm_region_open(
    reg: *mut Registry,
    key: *const c_char,
    offset: usize,
    byte_size: usize,
    flags: u32,
    out: *mut *mut Region,
) -> Status {
    boundary::status(|| {
        // SAFETY: forwarded from this function's contract.
        let reg = unsafe { pointers::object(reg, "reg") }?;
        // SAFETY: forwarded from this function's contract.
        let key = unsafe { pointers::c_str(key, "key") }?;
        pointers::require_out(out, "out")?;
        check_flags(flags, TRITON_SHM_OPEN_UNTRACKED, "triton_shm_region_open")?;
        let tracking = if flags & TRITON_SHM_OPEN_UNTRACKED == 0 {
            Tracking::Tracked
        } else {
            Tracking::Untracked
        };
        let region = reg.open_region_c(key, offset, byte_size, tracking)?;
        // SAFETY: `out` is non-NULL and writable per the contract.
        unsafe { pointers::write_opt(out, pointers::into_handle(region)) };
        Ok(())
    })
}

/// Create a new region of `byte_size` bytes under `key` and map it: the
/// client side, and what a server needs for regions of its own. The object
/// is created with `O_CREAT|O_EXCL`, mode 0600, and sized by exactly one
/// `ftruncate` (never `O_TRUNC`, which macOS refuses). It is tracked as
/// owned: closing the region unlinks it.
///
/// Arguments: as for `triton_shm_region_open`, but no flag is defined here:
/// `flags` must be 0.
///
/// Returns `TRITON_SHM_OK`; `TRITON_SHM_NULL_ARGUMENT`;
/// `TRITON_SHM_INVALID_ARGUMENT` (`byte_size` 0, unknown flags);
/// `TRITON_SHM_INVALID_NAME`; `TRITON_SHM_NAME_TOO_LONG`;
/// `TRITON_SHM_RESERVED_NAME`; `TRITON_SHM_NAME_COLLISION`;
/// `TRITON_SHM_ALREADY_EXISTS` (an object with that name exists; it is left
/// untouched); `TRITON_SHM_PERMISSION_DENIED`; `TRITON_SHM_OS_ERROR`. When a
/// step after the creation fails, the object is removed again.
///
/// Ownership: as for `triton_shm_region_open`.
///
/// # Safety
/// As for `triton_shm_region_open`.
#[no_mangle]
pub unsafe extern "C" fn triton_shm_region_create(
    reg: *mut Registry,
    key: *const c_char,
    byte_size: usize,
    flags: u32,
    out: *mut *mut Region,
) -> Status {
    boundary::status(|| {
        // SAFETY: forwarded from this function's contract.
        let reg = unsafe { pointers::object(reg, "reg") }?;
        // SAFETY: forwarded from this function's contract.
        let key = unsafe { pointers::c_bytes(key, "key") }?;
        pointers::require_out(out, "out")?;
        check_flags(flags, 0, "triton_shm_region_create")?;
        let region = reg.create_region(key, byte_size)?;
        // SAFETY: `out` is non-NULL and writable per the contract.
        unsafe { pointers::write_opt(out, pointers::into_handle(region)) };
        Ok(())
    })
}

/// The region's first byte (the byte at the offset it was opened at), valid
/// until `triton_shm_region_close`; NULL if `region` is NULL.
///
/// # Safety
/// `region` is NULL or a live region.
#[no_mangle]
pub unsafe extern "C" fn triton_shm_region_data(region: *const Region) -> *mut c_void {
    boundary::value(std::ptr::null_mut(), || {
        // SAFETY: forwarded from this function's contract.
        match unsafe { pointers::optional_object(region) } {
            Some(region) => region.data().cast(),
            None => std::ptr::null_mut(),
        }
    })
}

/// The region's size in bytes, as asked for when it was opened or created;
/// 0 if `region` is NULL.
///
/// # Safety
/// `region` is NULL or a live region.
#[no_mangle]
pub unsafe extern "C" fn triton_shm_region_size(region: *const Region) -> usize {
    boundary::value(0, || {
        // SAFETY: forwarded from this function's contract.
        unsafe { pointers::optional_object(region) }.map_or(0, Region::size)
    })
}

/// Copy the name of the object actually opened into `out`.
///
/// Arguments and outputs as for `triton_shm_normalize_name`. Returns
/// `TRITON_SHM_OK`; `TRITON_SHM_NULL_ARGUMENT` (`region`, `out`);
/// `TRITON_SHM_BUFFER_TOO_SMALL` (then `out` is not written).
///
/// # Safety
/// `region` is NULL or a live region; `out` is NULL or writable for
/// `out_len` bytes; `out_written` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn triton_shm_region_system_name(
    region: *const Region,
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
) -> Status {
    // SAFETY: forwarded from this function's contract.
    unsafe { copy_name(region, Region::system_name, out, out_len, out_written) }
}

/// Copy the key the region was opened or created with into `out`.
/// Arguments, outputs and statuses as for `triton_shm_region_system_name`.
///
/// # Safety
/// As for `triton_shm_region_system_name`.
#[no_mangle]
pub unsafe extern "C" fn triton_shm_region_key(
    region: *const Region,
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
) -> Status {
    // SAFETY: forwarded from this function's contract.
    unsafe { copy_name(region, Region::key, out, out_len, out_written) }
}

/// Copy the name `pick` takes from `region` into the caller's buffer.
///
/// # Safety
/// As for `triton_shm_region_system_name`.
unsafe fn copy_name(
    region: *const Region,
    pick: fn(&Region) -> &[u8],
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
) -> Status {
    boundary::status(|| {
        // SAFETY: forwarded from this function's contract.
        let region = unsafe { pointers::object(region, "region") }?;
        // SAFETY: forwarded from this function's contract.
        unsafe { pointers::write_c_string(pick(region), out, out_len, out_written) }
    })
}

/// Unmap the region now (with the base and length `mmap` returned), keeping
/// the region and its registry entry: afterwards `triton_shm_region_data`
/// is NULL and `triton_shm_region_close` only releases the entry. This is
/// the step that can fail and be retried: a host that keeps a region whose
/// unmap failed (as Triton's manager keeps the entry) calls it before
/// `triton_shm_region_close`. Unmapping an unmapped region does nothing.
///
/// Returns `TRITON_SHM_OK`; `TRITON_SHM_NULL_ARGUMENT` (`region`);
/// `TRITON_SHM_OS_ERROR` when `munmap` failed: then nothing changed, the
/// region is still mapped and usable.
///
/// Ownership: `region` stays the caller's.
///
/// # Safety
/// `region` is NULL or a live region, not used by another thread during the
/// call.
#[no_mangle]
pub unsafe extern "C" fn triton_shm_region_unmap(region: *mut Region) -> Status {
    boundary::status(|| {
        // SAFETY: forwarded from this function's contract.
        unsafe { pointers::object_mut(region, "region") }?.unmap()
    })
}

/// Unmap the region (unless `triton_shm_region_unmap` did) and release its
/// registry entry; when no other open region or registration holds the
/// entry, it is untracked and the object unlinked if this process created it
/// (or if the unlink policy is `TRITON_SHM_UNLINK_ALL`), and only if the
/// object under the name is still the one it created or opened (Linux:
/// device and inode; macOS: owner and size in 16 KiB granules): an object
/// that replaced it is left alone, logged and counted in
/// `triton_shm_stats.regions_replaced`. NULL is a no-op.
///
/// Returns `TRITON_SHM_OK`; `TRITON_SHM_OS_ERROR` when `munmap` failed (the
/// mapping is left in place, unreachable: call `triton_shm_region_unmap`
/// first to keep such a region); `TRITON_SHM_OS_ERROR` or
/// `TRITON_SHM_PERMISSION_DENIED` when the unlink failed (the entry then
/// stays tracked for `triton_shm_registry_cleanup_all`).
///
/// Ownership: `region` is freed in every case; do not use it again.
///
/// # Safety
/// `region` is NULL or a region from `triton_shm_region_open` or
/// `triton_shm_region_create` not yet closed.
#[no_mangle]
pub unsafe extern "C" fn triton_shm_region_close(region: *mut Region) -> Status {
    boundary::status(|| {
        if region.is_null() {
            return Ok(());
        }
        // SAFETY: per the contract, `region` came from into_handle in
        // open/create and is closed once.
        let region = unsafe { pointers::take_handle(region) };
        region.close()
    })
}
