//! Statistics of a registry.

use super::{boundary, pointers};
use crate::registry::{Registry, Stats};
use crate::status::Status;
use std::ffi::c_char;

/// Store `reg`'s statistics in `*out`.
///
/// Returns `TRITON_SHM_OK`, or `TRITON_SHM_NULL_ARGUMENT` if `reg` or `out`
/// is NULL.
///
/// # Safety
/// `reg` is NULL or a live registry; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn triton_shm_registry_stats(
    reg: *const Registry,
    out: *mut Stats,
) -> Status {
    boundary::status(|| {
        // SAFETY: forwarded from this function's contract.
        let reg = unsafe { pointers::object(reg, "reg") }?;
        pointers::require_out(out, "out")?;
        // SAFETY: non-NULL and writable per the contract.
        unsafe { pointers::write_opt(out, reg.stats()) };
        Ok(())
    })
}

/// Write `stats` as one line for logs into `out`, e.g.
/// `tracked=2 mapped_bytes=65536 registered=5 unlinked=3 already_gone=0
/// failed=0 collisions_refused=1 reserved_refused=0 reaped=0
/// regions_replaced=0`.
///
/// Arguments and outputs as for `triton_shm_normalize_name`. Returns
/// `TRITON_SHM_OK`; `TRITON_SHM_NULL_ARGUMENT` (`stats`, `out`);
/// `TRITON_SHM_BUFFER_TOO_SMALL` (then `out` is not written; 384 bytes
/// always suffice).
///
/// # Safety
/// `stats` is NULL or readable; `out` is NULL or writable for `out_len`
/// bytes; `out_written` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn triton_shm_stats_format(
    stats: *const Stats,
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
) -> Status {
    boundary::status(|| {
        // SAFETY: forwarded from this function's contract.
        let stats = *unsafe { pointers::object(stats, "stats") }?;
        let line = stats.to_string();
        // SAFETY: forwarded from this function's contract.
        unsafe { pointers::write_c_string(line.as_bytes(), out, out_len, out_written) }
    })
}
