//! Statistics of a registry, and reaping the regions of dead owners.

use super::options::{self, triton_shm_options};
use super::{boundary, pointers};
use crate::journal::{self, ReapReport};
use crate::registry::{Registry, Stats};
use crate::status::Status;
use std::ffi::c_char;

/// A registry's statistics: gauges now, and totals since it was created.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
#[allow(non_camel_case_types)]
pub struct triton_shm_stats {
    /// Regions tracked now.
    pub tracked: u64,
    /// Bytes mapped by the registry's open regions now.
    pub mapped_bytes: u64,
    /// Names that became tracked.
    pub registered: u64,
    /// Objects removed by `shm_unlink`.
    pub unlinked: u64,
    /// Unlinks that found the object already gone.
    pub already_gone: u64,
    /// Unlinks that failed.
    pub failed: u64,
    /// Names refused because another tracked name reaches the same object.
    pub collisions_refused: u64,
    /// Names refused because they are reserved.
    pub reserved_refused: u64,
    /// Regions of dead owners reaped when the registry was created.
    pub reaped: u64,
}

impl From<Stats> for triton_shm_stats {
    fn from(s: Stats) -> Self {
        triton_shm_stats {
            tracked: s.tracked,
            mapped_bytes: s.mapped_bytes,
            registered: s.registered,
            unlinked: s.unlinked,
            already_gone: s.already_gone,
            failed: s.failed,
            collisions_refused: s.collisions_refused,
            reserved_refused: s.reserved_refused,
            reaped: s.reaped,
        }
    }
}

impl From<triton_shm_stats> for Stats {
    fn from(s: triton_shm_stats) -> Self {
        Stats {
            tracked: s.tracked,
            mapped_bytes: s.mapped_bytes,
            registered: s.registered,
            unlinked: s.unlinked,
            already_gone: s.already_gone,
            failed: s.failed,
            collisions_refused: s.collisions_refused,
            reserved_refused: s.reserved_refused,
            reaped: s.reaped,
        }
    }
}

/// Counts from `triton_shm_reap_stale`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
#[allow(non_camel_case_types)]
pub struct triton_shm_reap_report {
    /// Journals of dead owners that were processed (and removed, unless one
    /// of their unlinks failed).
    pub journals_reaped: usize,
    /// Journals held by live owners, left alone.
    pub journals_live: usize,
    /// Journals that could not be used (a symlink, another owner, unreadable).
    pub journals_skipped: usize,
    /// Regions unlinked.
    pub regions_unlinked: usize,
    /// Regions listed but already gone.
    pub regions_already_gone: usize,
    /// Regions whose unlink failed; their journal is kept for a retry.
    pub regions_failed: usize,
}

impl From<ReapReport> for triton_shm_reap_report {
    fn from(r: ReapReport) -> Self {
        triton_shm_reap_report {
            journals_reaped: r.journals_reaped,
            journals_live: r.journals_live,
            journals_skipped: r.journals_skipped,
            regions_unlinked: r.regions_unlinked,
            regions_already_gone: r.regions_already_gone,
            regions_failed: r.regions_failed,
        }
    }
}

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
    out: *mut triton_shm_stats,
) -> Status {
    boundary::status(|| {
        // SAFETY: forwarded from this function's contract.
        let reg = unsafe { pointers::object(reg, "reg") }?;
        pointers::require_out(out, "out")?;
        // SAFETY: non-NULL and writable per the contract.
        unsafe { pointers::write_opt(out, reg.stats().into()) };
        Ok(())
    })
}

/// Write `stats` as one line for logs into `out`, e.g.
/// `tracked=2 mapped_bytes=65536 registered=5 unlinked=3 already_gone=0
/// failed=0 collisions_refused=1 reserved_refused=0 reaped=0`.
///
/// Arguments and outputs as for `triton_shm_normalize_name`. Returns
/// `TRITON_SHM_OK`; `TRITON_SHM_NULL_ARGUMENT` (`stats`, `out`);
/// `TRITON_SHM_BUFFER_TOO_SMALL` (then `out` is not written; 256 bytes
/// always suffice).
///
/// # Safety
/// `stats` is NULL or readable; `out` is NULL or writable for `out_len`
/// bytes; `out_written` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn triton_shm_stats_format(
    stats: *const triton_shm_stats,
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
) -> Status {
    boundary::status(|| {
        // SAFETY: forwarded from this function's contract.
        let stats = *unsafe { pointers::object(stats, "stats") }?;
        let line = Stats::from(stats).to_string();
        // SAFETY: forwarded from this function's contract.
        unsafe { pointers::write_c_string(line.as_bytes(), out, out_len, out_written) }
    })
}

/// Reap the regions of dead owners: for each journal in the state directory
/// whose lock can be taken (its owner died without cleaning up), unlink
/// every region it lists that still exists, then remove the journal.
/// Journals of live owners are never touched, whatever their pid. A missing
/// state directory reaps nothing.
///
/// Arguments: `opts` (may be NULL for the defaults) names the state
/// directory; `report` (may be NULL) receives the counts, also on failure.
///
/// Returns `TRITON_SHM_OK`; `TRITON_SHM_INVALID_ARGUMENT` for bad options;
/// `TRITON_SHM_PERMISSION_DENIED` when the state directory is refused (a
/// symlink, owned by someone else, writable by others);
/// `TRITON_SHM_OS_ERROR` when it cannot be listed or some unlink failed
/// (`report->regions_failed`).
///
/// # Safety
/// `opts` is NULL or a struct filled by `triton_shm_options_init`;
/// `report` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn triton_shm_reap_stale(
    opts: *const triton_shm_options,
    report: *mut triton_shm_reap_report,
) -> Status {
    boundary::status(|| {
        // SAFETY: forwarded from this function's contract.
        let options = unsafe { options::read(opts) }?;
        let counts = journal::reap(&options, false)?;
        // SAFETY: forwarded from this function's contract.
        unsafe { pointers::write_opt(report, counts.into()) };
        if counts.regions_failed > 0 {
            return Err(crate::status::Error::new(
                Status::OS_ERROR,
                format!(
                    "{} region(s) could not be unlinked; their journals are kept (the log has each errno)",
                    counts.regions_failed
                ),
            ));
        }
        Ok(())
    })
}
