//! Mappings: a client's region mapped into memory the caller owns, with
//! nothing kept by the library.

use super::{boundary, pointers};
use crate::os::Mapping;
use crate::registry::Registry;
use crate::status::{Error, Result, Status};
use std::ffi::{c_char, c_void};
use std::ptr::NonNull;

/// A client's region as `triton_shm_mapping_open` mapped it, held by the
/// caller (on its stack or inside its own table entry): the library keeps
/// nothing of it. All zero means "not mapped"; `triton_shm_mapping_close`
/// leaves it so.
///
/// Its layout is fixed: it will never grow (a mapping needs nothing more),
/// so it is not passed with its size.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
#[allow(non_camel_case_types)]
pub struct triton_shm_mapping {
    /// The byte at the offset asked for: the caller's data, `byte_size`
    /// bytes long. NULL when not mapped.
    pub data: *mut c_void,
    /// Where the mapping starts, as `mmap` returned it: the page boundary at
    /// or below the offset. What `triton_shm_mapping_close` unmaps.
    pub base: *mut c_void,
    /// The mapping's length in bytes from `base`: `data - base` plus
    /// `byte_size`.
    pub length: usize,
}

impl triton_shm_mapping {
    /// Not mapped.
    const UNMAPPED: Self = triton_shm_mapping {
        data: std::ptr::null_mut(),
        base: std::ptr::null_mut(),
        length: 0,
    };

    /// The struct describing `mapping`, which it now owns.
    fn owning(mapping: Mapping) -> Self {
        let data = mapping.data().cast();
        let (base, length, _) = mapping.into_raw();
        triton_shm_mapping {
            data,
            base: base.as_ptr(),
            length,
        }
    }

    /// The [`Mapping`] this struct describes, or `None` when it is not
    /// mapped (`base` NULL).
    ///
    /// # Safety
    /// `base` and `length` are NULL and anything, or what
    /// [`triton_shm_mapping::owning`] stored, not unmapped since.
    unsafe fn take(&self) -> Result<Option<Mapping>> {
        let Some(base) = NonNull::new(self.base) else {
            return Ok(None);
        };
        let lead = (self.data as usize).wrapping_sub(base.as_ptr() as usize);
        if self.length == 0 || lead >= self.length {
            return Err(Error::new(
                Status::INVALID_ARGUMENT,
                format!(
                    "mapping {{data {:p}, base {:p}, length {}}} is no mapping \
                     triton_shm_mapping_open made: data must lie in [base, base + length)",
                    self.data, self.base, self.length
                ),
            ));
        }
        // SAFETY: per this function's contract, base/length are a live
        // mapping from a successful mmap that nothing else unmaps, and
        // lead < length was just checked.
        Ok(Some(unsafe { Mapping::from_raw(base, self.length, lead) }))
    }
}

/// Map `byte_size` bytes at `offset` of the shared-memory region a client
/// created under `key` into `*out`, keeping nothing of it in the library:
/// the server side of Triton's `RegisterSystemSharedMemory` for a host that
/// keeps its own table of what it mapped and unlinks nothing. It runs the
/// name checks, tries the names and judges the size exactly as
/// `triton_shm_region_open` with `TRITON_SHM_OPEN_UNTRACKED` does, and
/// closes the descriptor before returning; what it saves is the region
/// handle (its allocation and the registry's counters: the mapping is not
/// counted in `triton_shm_stats.mapped_bytes`), so that a registration
/// costs little more than its system calls.
///
/// Arguments: `reg` the registry (its naming policy and reserved prefixes
/// apply); `key` a NUL-terminated name; `offset` need not be page-aligned;
/// `flags` must be 0; `*out` receives the mapping, only on success.
///
/// Returns `TRITON_SHM_OK` and the statuses of `triton_shm_region_open`
/// with `TRITON_SHM_OPEN_UNTRACKED`: `TRITON_SHM_NULL_ARGUMENT` (`reg`,
/// `key`, `out`); `TRITON_SHM_INVALID_ARGUMENT` (`byte_size` 0, non-zero
/// `flags`); `TRITON_SHM_OUT_OF_BOUNDS`; `TRITON_SHM_INVALID_NAME`;
/// `TRITON_SHM_RESERVED_NAME`; `TRITON_SHM_NOT_FOUND`;
/// `TRITON_SHM_NAME_TOO_LONG`; `TRITON_SHM_PERMISSION_DENIED`;
/// `TRITON_SHM_OS_ERROR`.
///
/// Ownership: the caller owns the mapping in `*out` and ends it with
/// `triton_shm_mapping_close`; it does not depend on `reg`, which may be
/// freed first.
///
/// # Safety
/// `reg` is NULL or a live registry; `key` is NULL or a NUL-terminated
/// string; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn triton_shm_mapping_open(
    reg: *mut Registry,
    key: *const c_char,
    offset: usize,
    byte_size: usize,
    flags: u32,
    out: *mut triton_shm_mapping,
) -> Status {
    boundary::status(|| {
        // SAFETY: forwarded from this function's contract.
        let reg = unsafe { pointers::object(reg, "reg") }?;
        // SAFETY: forwarded from this function's contract.
        let key = unsafe { pointers::c_str(key, "key") }?;
        pointers::require_out(out, "out")?;
        if flags != 0 {
            return Err(Error::new(
                Status::INVALID_ARGUMENT,
                format!("flags is {flags:#x}; triton_shm_mapping_open has no flag, pass 0"),
            ));
        }
        let mapping = reg.map_client_region_c(key, offset, byte_size)?;
        // SAFETY: `out` is non-NULL and writable per the contract.
        unsafe { out.write(triton_shm_mapping::owning(mapping)) };
        Ok(())
    })
}

/// Unmap a mapping `triton_shm_mapping_open` made and set `*mapping` to all
/// zero. A mapping that is all zero (never mapped, or closed already) is
/// left alone: closing twice does nothing.
///
/// Returns `TRITON_SHM_OK`; `TRITON_SHM_NULL_ARGUMENT` (`mapping`);
/// `TRITON_SHM_INVALID_ARGUMENT` when `base` is set but `data` does not lie
/// in `[base, base + length)` (a struct `triton_shm_mapping_open` did not
/// fill; nothing is unmapped); `TRITON_SHM_OS_ERROR` when `munmap` failed:
/// then nothing changed, `*mapping` is still mapped and usable, and the
/// call can be retried.
///
/// Ownership: `*mapping` stays the caller's.
///
/// # Safety
/// `mapping` is NULL, or points to a struct that is all zero or holds what
/// `triton_shm_mapping_open` wrote there (copies of it included: close one
/// copy only), not used by another thread during the call. The caller uses
/// no pointer into the mapping after it is closed.
#[no_mangle]
pub unsafe extern "C" fn triton_shm_mapping_close(mapping: *mut triton_shm_mapping) -> Status {
    boundary::status(|| {
        // SAFETY: forwarded from this function's contract.
        let slot = unsafe { pointers::object_mut(mapping, "mapping") }?;
        // SAFETY: per this function's contract, `slot` is unmapped (base
        // NULL) or a live mapping from triton_shm_mapping_open.
        let Some(taken) = (unsafe { slot.take() })? else {
            return Ok(());
        };
        match taken.unmap() {
            Ok(()) => {
                *slot = triton_shm_mapping::UNMAPPED;
                Ok(())
            }
            Err((still_mapped, errno)) => {
                // The range stays mapped and `*slot` still describes it:
                // give up this value's ownership so that nothing unmaps it.
                let _ = still_mapped.into_raw();
                Err(Error::from_errno(
                    errno,
                    format_args!("munmap of the mapping at {:p}", slot.base),
                ))
            }
        }
    })
}
