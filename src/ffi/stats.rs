//! Statistics of a registry.

use super::{boundary, pointers, sized};
use crate::registry::{Registry, Stats};
use crate::status::{Result, Status};
use std::ffi::c_char;

/// Store `reg`'s statistics in `*out`: the 0.1.0 layout, the nine fields
/// from `tracked` to `reaped` (72 bytes), and nothing after them. Fields
/// appended since are not written: call `triton_shm_registry_stats_sized`
/// to get them.
///
/// Returns `TRITON_SHM_OK`, or `TRITON_SHM_NULL_ARGUMENT` if `reg` or `out`
/// is NULL.
///
/// # Safety
/// `reg` is NULL or a live registry; `out` is NULL or writable for 72
/// bytes.
#[no_mangle]
pub unsafe extern "C" fn triton_shm_registry_stats(
    reg: *const Registry,
    out: *mut Stats,
) -> Status {
    // SAFETY: forwarded from this function's contract.
    boundary::status(|| unsafe { registry_stats(reg, out, <Stats as sized::Extensible>::SIZE_0_1) })
}

/// Store `reg`'s statistics in the caller's `triton_shm_stats` of
/// `out_size` bytes: pass `sizeof(triton_shm_stats)` as compiled. The
/// library writes the first `min(out_size, its own size)` bytes and zeroes
/// the rest of the caller's struct, so a caller built against an older or
/// a newer header gets the fields both know, and zeroes for the others.
///
/// Returns `TRITON_SHM_OK`; `TRITON_SHM_NULL_ARGUMENT` if `reg` or `out`
/// is NULL; `TRITON_SHM_INVALID_ARGUMENT` if `out_size` is smaller than the
/// first published struct (72 bytes). `*out` is written only on success.
///
/// # Safety
/// `reg` is NULL or a live registry; `out` is NULL or writable for
/// `out_size` bytes.
#[no_mangle]
pub unsafe extern "C" fn triton_shm_registry_stats_sized(
    reg: *const Registry,
    out: *mut Stats,
    out_size: usize,
) -> Status {
    // SAFETY: forwarded from this function's contract.
    boundary::status(|| unsafe { registry_stats(reg, out, out_size) })
}

/// # Safety
/// As for `triton_shm_registry_stats_sized`.
unsafe fn registry_stats(reg: *const Registry, out: *mut Stats, out_size: usize) -> Result<()> {
    // SAFETY: forwarded from this function's contract.
    let reg = unsafe { pointers::object(reg, "reg") }?;
    pointers::require_out(out, "out")?;
    sized::check_size::<Stats>(out_size, "out_size")?;
    // SAFETY: non-NULL and writable for `out_size` bytes per the contract.
    unsafe { sized::write(out, out_size, reg.stats()) };
    Ok(())
}

/// Write `stats` as one line for logs into `out`, e.g.
/// `tracked=2 mapped_bytes=65536 registered=5 unlinked=3 already_gone=0
/// failed=0 collisions_refused=1 reserved_refused=0 reaped=0
/// regions_replaced=0`. Reads the 0.1.0 layout (72 bytes) and nothing after
/// it: fields appended since are printed as 0;
/// `triton_shm_stats_format_sized` reads them.
///
/// Arguments and outputs as for `triton_shm_normalize_name`. Returns
/// `TRITON_SHM_OK`; `TRITON_SHM_NULL_ARGUMENT` (`stats`, `out`);
/// `TRITON_SHM_BUFFER_TOO_SMALL` (then `out` is not written; 512 bytes
/// always suffice).
///
/// # Safety
/// `stats` is NULL or readable for 72 bytes; `out` is NULL or writable for
/// `out_len` bytes; `out_written` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn triton_shm_stats_format(
    stats: *const Stats,
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
) -> Status {
    boundary::status(|| {
        // SAFETY: forwarded from this function's contract.
        unsafe {
            stats_format(
                stats,
                <Stats as sized::Extensible>::SIZE_0_1,
                out,
                out_len,
                out_written,
            )
        }
    })
}

/// Write the caller's `triton_shm_stats` of `stats_size` bytes (pass
/// `sizeof(triton_shm_stats)` as compiled) as one line for logs into `out`,
/// as `triton_shm_stats_format` does. The library reads the first
/// `min(stats_size, its own size)` bytes; fields the caller's struct does
/// not have are printed as 0.
///
/// Returns as `triton_shm_stats_format`, plus
/// `TRITON_SHM_INVALID_ARGUMENT` if `stats_size` is smaller than the first
/// published struct (72 bytes).
///
/// # Safety
/// `stats` is NULL or readable for `stats_size` bytes; `out` is NULL or
/// writable for `out_len` bytes; `out_written` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn triton_shm_stats_format_sized(
    stats: *const Stats,
    stats_size: usize,
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
) -> Status {
    // SAFETY: forwarded from this function's contract.
    boundary::status(|| unsafe { stats_format(stats, stats_size, out, out_len, out_written) })
}

/// # Safety
/// As for `triton_shm_stats_format_sized`.
unsafe fn stats_format(
    stats: *const Stats,
    stats_size: usize,
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
) -> Result<()> {
    pointers::require_in(stats, "stats")?;
    sized::check_size::<Stats>(stats_size, "stats_size")?;
    // SAFETY: non-NULL and readable for `stats_size` bytes per the contract.
    let stats = unsafe { sized::read(stats, stats_size) };
    let line = stats.to_string();
    // SAFETY: forwarded from this function's contract.
    unsafe { pointers::write_c_string(line.as_bytes(), out, out_len, out_written) }
}
