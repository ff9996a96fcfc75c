//! Reaping the regions of owners that died.

use super::options::{self, triton_shm_options};
use super::{boundary, sized};
use crate::journal::{self, ReapReport};
use crate::status::Status;

/// Reap the regions of dead owners: for each journal in the state directory
/// whose lock can be taken (its owner died without cleaning up), unlink
/// each region it lists that is provably the object the owner created
/// (same device and inode on Linux; on macOS, which has no inode, the
/// same owner and page-rounded size), owned by this user, listed by no
/// live journal (read again right before the unlink) and open or mapped
/// by no live process of this user other than the caller
/// (`report->regions_in_use` counts those kept), then remove the journal.
/// Journals of live owners are never touched, whatever their pid; a
/// journal of an earlier boot is removed without unlinking anything. A
/// missing state directory reaps nothing. Reapers of one state directory
/// run one at a time: when another holds its reaper lock for more than
/// 20 ms, this call returns `TRITON_SHM_OK` with nothing done (all counts
/// 0).
///
/// Arguments: `opts` (may be NULL for the defaults) names the state
/// directory; `report` (may be NULL) receives the counts, also on failure:
/// the 0.1.0 layout, the six fields from `journals_reaped` to
/// `regions_failed` (48 bytes), and nothing after them. Fields appended
/// since are written only by `triton_shm_reap_stale_sized`.
///
/// Returns `TRITON_SHM_OK`; `TRITON_SHM_INVALID_ARGUMENT` for bad options;
/// `TRITON_SHM_PERMISSION_DENIED` when the state directory is refused (a
/// symlink, owned by someone else, writable by others);
/// `TRITON_SHM_NOT_FOUND`, `TRITON_SHM_OS_ERROR` or
/// `TRITON_SHM_PERMISSION_DENIED` (by errno) when it cannot be opened or
/// listed; `TRITON_SHM_OS_ERROR` when some check or unlink failed for a
/// reason that may pass (`report->regions_failed`; those records alone are
/// kept for the next reap).
///
/// # Safety
/// `opts` is NULL or a struct filled by `triton_shm_options_init`;
/// `report` is NULL or writable for 48 bytes.
#[no_mangle]
pub unsafe extern "C" fn triton_shm_reap_stale(
    opts: *const triton_shm_options,
    report: *mut ReapReport,
) -> Status {
    // SAFETY: forwarded from this function's contract.
    boundary::status(|| unsafe {
        reap_stale(opts, report, <ReapReport as sized::Extensible>::SIZE_0_1)
    })
}

/// `triton_shm_reap_stale` with a report of the caller's size: pass
/// `sizeof(triton_shm_reap_report)` as compiled in `report_size`. The
/// library writes the first `min(report_size, its own size)` bytes of the
/// report and zeroes the rest of the caller's struct.
///
/// Returns as `triton_shm_reap_stale`, plus `TRITON_SHM_INVALID_ARGUMENT`,
/// before anything is reaped, if `report` is not NULL and `report_size` is
/// smaller than the first published struct (48 bytes).
///
/// # Safety
/// `opts` is NULL or a struct filled by `triton_shm_options_init`;
/// `report` is NULL or writable for `report_size` bytes.
#[no_mangle]
pub unsafe extern "C" fn triton_shm_reap_stale_sized(
    opts: *const triton_shm_options,
    report: *mut ReapReport,
    report_size: usize,
) -> Status {
    // SAFETY: forwarded from this function's contract.
    boundary::status(|| unsafe { reap_stale(opts, report, report_size) })
}

/// The body of the reap exports.
///
/// # Safety
/// As for `triton_shm_reap_stale_sized`.
unsafe fn reap_stale(
    opts: *const triton_shm_options,
    report: *mut ReapReport,
    report_size: usize,
) -> crate::status::Result<()> {
    // SAFETY: forwarded from this function's contract.
    let options = unsafe { options::read(opts) }?;
    if !report.is_null() {
        sized::check_size::<ReapReport>(report_size, "report_size")?;
    }
    let counts = journal::reap(&options, false)?;
    // SAFETY: forwarded from this function's contract.
    unsafe { sized::write(report, report_size, counts) };
    if counts.regions_failed > 0 {
        return Err(crate::status::Error::new(
                Status::OS_ERROR,
                format!(
                    "{} region(s) could not be checked or unlinked; their records are kept for the next reap (the log has each errno)",
                    counts.regions_failed
                ),
            ));
    }
    Ok(())
}
