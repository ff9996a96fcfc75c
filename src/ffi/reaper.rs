//! Reaping the regions of owners that died.

use super::options::{self, triton_shm_options};
use super::{boundary, pointers};
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
/// directory; `report` (may be NULL) receives the counts, also on failure.
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
/// `report` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn triton_shm_reap_stale(
    opts: *const triton_shm_options,
    report: *mut ReapReport,
) -> Status {
    boundary::status(|| {
        // SAFETY: forwarded from this function's contract.
        let options = unsafe { options::read(opts) }?;
        let counts = journal::reap(&options, false)?;
        // SAFETY: forwarded from this function's contract.
        unsafe { pointers::write_opt(report, counts) };
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
    })
}
