//! Registries: the seed's free functions on the default registry, and
//! registry instances (one per `SharedMemoryManager`).

use super::options::{self, triton_shm_options};
use super::{boundary, names, pointers, sized};
use crate::registry::{default_registry, is_default_registry, CleanupReport, Registry};
use crate::status::{Error, Result, Status};
use std::ffi::c_char;

/// The process-wide default registry behind `triton_shm_register_region`,
/// `triton_shm_unlink_region` and `triton_shm_cleanup_all`, with default
/// options (platform naming, owned-only unlink).
///
/// Ownership: the library owns it for the life of the process; passing it to
/// `triton_shm_registry_free` does nothing. Never NULL.
#[no_mangle]
pub extern "C" fn triton_shm_default_registry() -> *mut Registry {
    boundary::value(std::ptr::null_mut(), || {
        pointers::static_handle(default_registry())
    })
}

/// The seed's `RegisterSharedMemoryRegion`: track `name` in the default
/// registry as a region this process created (owned), so that
/// `triton_shm_unlink_region` and `triton_shm_cleanup_all` unlink it.
///
/// Returns as `triton_shm_registry_register` with `owned = true`.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn triton_shm_register_region(name: *const c_char) -> Status {
    // SAFETY: forwarded from this function's contract.
    boundary::status(|| unsafe { register(default_registry(), name, true) })
}

/// The seed's `UnlinkSharedMemoryRegion` on the default registry. Returns as
/// `triton_shm_registry_unlink`.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn triton_shm_unlink_region(name: *const c_char) -> Status {
    // SAFETY: forwarded from this function's contract.
    boundary::status(|| unsafe { unlink(default_registry(), name) })
}

/// The seed's `CleanupAllSharedMemoryRegions` on the default registry.
/// Returns as `triton_shm_registry_cleanup_all`, and writes `*report` as it
/// does (the 0.1.0 layout only).
///
/// # Safety
/// `report` is NULL or writable for 40 bytes.
#[no_mangle]
pub unsafe extern "C" fn triton_shm_cleanup_all(report: *mut CleanupReport) -> Status {
    // SAFETY: forwarded from this function's contract.
    boundary::status(|| unsafe {
        cleanup_all(
            default_registry(),
            report,
            <CleanupReport as sized::Extensible>::SIZE_0_1,
        )
    })
}

/// `triton_shm_cleanup_all` with a report of the caller's size: returns as
/// `triton_shm_registry_cleanup_all_sized`.
///
/// # Safety
/// `report` is NULL or writable for `report_size` bytes.
#[no_mangle]
pub unsafe extern "C" fn triton_shm_cleanup_all_sized(
    report: *mut CleanupReport,
    report_size: usize,
) -> Status {
    // SAFETY: forwarded from this function's contract.
    boundary::status(|| unsafe { cleanup_all(default_registry(), report, report_size) })
}

/// Create an empty registry. One per `SharedMemoryManager` keeps managers
/// from unlinking each other's regions.
///
/// Arguments: `opts` may be NULL for the defaults; otherwise fill it with
/// `triton_shm_options_init` first. `*out` receives the new registry.
///
/// Returns `TRITON_SHM_OK`; `TRITON_SHM_NULL_ARGUMENT` if `out` is NULL or
/// `reserved_prefixes` (or one of its entries) is NULL with a non-zero
/// count; `TRITON_SHM_INVALID_ARGUMENT` for an unknown policy or backend
/// value, a `struct_size` this library does not accept, or a backend that
/// is not built in (`TRITON_SHM_BACKEND_XNU_MODEL` without the feature, or,
/// in a build with it, an unknown `TRITON_SHM_BACKEND` value). `*out` is written only on
/// success. The state directory is not touched here: it is opened (and,
/// with `reap_on_create`, the regions of dead owners reaped) when the
/// registry first creates, or registers as owned, a region, and a refused
/// state directory fails that call, never this one.
///
/// Ownership: the caller owns the registry and frees it with
/// `triton_shm_registry_free`, which does not unlink anything: call
/// `triton_shm_registry_cleanup_all` first if the regions should go.
///
/// # Safety
/// `opts` is NULL or a struct filled by `triton_shm_options_init`; `out` is
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn triton_shm_registry_new(
    opts: *const triton_shm_options,
    out: *mut *mut Registry,
) -> Status {
    boundary::status(|| {
        pointers::require_out(out, "out")?;
        // SAFETY: forwarded from this function's contract.
        let options = unsafe { options::read(opts) }?;
        let registry = Registry::new(options)?;
        // SAFETY: `out` is non-NULL and writable per the contract.
        unsafe { pointers::write_opt(out, pointers::into_handle(registry)) };
        Ok(())
    })
}

/// Free a registry made by `triton_shm_registry_new`. Tracked regions are
/// forgotten, not unlinked. Owned regions still tracked stay in the
/// registry's journal, whose lock this process keeps until it exits: no
/// other registry (of this process or another) reaps them while the
/// process lives, and a reap after it exits removes them. NULL and the
/// default registry are no-ops.
///
/// # Safety
/// `reg` is NULL, the default registry, or a registry from
/// `triton_shm_registry_new` not yet freed and not in use by another thread.
#[no_mangle]
pub unsafe extern "C" fn triton_shm_registry_free(reg: *mut Registry) {
    boundary::value((), || {
        if reg.is_null() || is_default_registry(reg) {
            return;
        }
        // SAFETY: per the contract, `reg` came from into_handle in
        // `triton_shm_registry_new` and is freed once.
        drop(unsafe { pointers::take_handle(reg) });
    })
}

/// Track `name` in `reg`. `owned` says this process created the region, so
/// it is ours to unlink; pass false for a region another process (a Triton
/// client) created.
///
/// A registration this registry may unlink (owned, or any under
/// `TRITON_SHM_UNLINK_ALL`) looks at the name once (on Linux one `lstat` in
/// `/dev/shm`; elsewhere `shm_open` and `fstat`): a sized object there is
/// taken for the caller's, and the registration keeps its identity, so that
/// `triton_shm_registry_unlink` checks it as it checks a created region
/// (no scan of processes) and a reaper, after this process died, judges
/// its journal record by that identity. With no object under the name, or
/// one not sized yet, the registration has no identity (see
/// `triton_shm_registry_unlink`). Nothing the look finds makes the call
/// fail. Other registrations make no system call.
///
/// Registering the same name again is a no-op that returns `TRITON_SHM_OK`
/// and keeps the first registration's `owned` flag.
///
/// Returns `TRITON_SHM_OK`; `TRITON_SHM_NULL_ARGUMENT` if `reg` or `name` is
/// NULL; `TRITON_SHM_INVALID_NAME` or `TRITON_SHM_NAME_TOO_LONG` when the
/// naming policy refuses `name`; `TRITON_SHM_NAME_COLLISION` when a
/// different tracked name reaches the same object (`/a/b` and `/a_b` under
/// `darwin`, `/x` and `//x` under `posix`) and the registry could unlink it
/// through either: one of them is owned, or the unlink policy is
/// `TRITON_SHM_UNLINK_ALL`; the message names both. Names of one object
/// that no unlink can reach are both tracked.
///
/// # Safety
/// `reg` is NULL or a live registry; `name` is NULL or a NUL-terminated
/// string.
#[no_mangle]
pub unsafe extern "C" fn triton_shm_registry_register(
    reg: *mut Registry,
    name: *const c_char,
    owned: bool,
) -> Status {
    boundary::status(|| {
        // SAFETY: forwarded from this function's contract.
        let reg = unsafe { pointers::object(reg, "reg") }?;
        // SAFETY: forwarded from this function's contract.
        unsafe { register(reg, name, owned) }
    })
}

/// The body of the register exports.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string.
unsafe fn register(reg: &Registry, name: *const c_char, owned: bool) -> Result<()> {
    // SAFETY: forwarded from this function's contract.
    let key = unsafe { pointers::c_bytes(name, "name") }?;
    reg.register(key, owned).map(drop)
}

/// Stop tracking `name` and, if it is owned or the unlink policy is
/// `TRITON_SHM_UNLINK_ALL`, `shm_unlink` its system name. A region another
/// process created is, by default, only untracked. Never by name alone:
/// the object under the name is opened and checked first. A region's
/// entry compares it with the object it created or opened (Linux: device
/// and inode; macOS: owner and size in 16 KiB granules), and so does a
/// registration that kept the identity of the object it found; a
/// registration without identity (no sized object was under the name when
/// it was registered) is unlinked only if no other live journal lists the
/// name and no other live process holds the object, which costs a scan of
/// this user's processes. Otherwise the object is left alone, logged as a
/// warning and counted in `triton_shm_stats.regions_replaced`.
///
/// Returns `TRITON_SHM_OK` (also when the object was already gone or was
/// left alone as above, which is logged as a warning);
/// `TRITON_SHM_NULL_ARGUMENT`;
/// `TRITON_SHM_INVALID_NAME` / `TRITON_SHM_NAME_TOO_LONG`;
/// `TRITON_SHM_NOT_FOUND` when `name` is not tracked (no system call is
/// made); `TRITON_SHM_OS_ERROR` or `TRITON_SHM_PERMISSION_DENIED` when
/// the check or `shm_unlink` fails (for a registration without identity,
/// also when it cannot be told whether another process holds the object),
/// in which case the name stays tracked and `triton_shm_last_errno` has the errno
/// if there is one.
///
/// # Safety
/// `reg` is NULL or a live registry; `name` is NULL or a NUL-terminated
/// string.
#[no_mangle]
pub unsafe extern "C" fn triton_shm_registry_unlink(
    reg: *mut Registry,
    name: *const c_char,
) -> Status {
    boundary::status(|| {
        // SAFETY: forwarded from this function's contract.
        let reg = unsafe { pointers::object(reg, "reg") }?;
        // SAFETY: forwarded from this function's contract.
        unsafe { unlink(reg, name) }
    })
}

/// The body of the unlink exports.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string.
unsafe fn unlink(reg: &Registry, name: *const c_char) -> Result<()> {
    // SAFETY: forwarded from this function's contract.
    let key = unsafe { pointers::c_bytes(name, "name") }?;
    reg.unlink(key).map(drop)
}

/// Unlink every region this process registered in `reg`, as the unlink
/// policy says, each checked as `triton_shm_registry_unlink` checks it (the
/// registrations without identity all at once: one look at the journals
/// and the processes).
/// Entries registered by another process (the parent of a forked child)
/// are skipped; entries whose unlink fails stay tracked.
/// Safe to call again, from a C++ destructor, and at process exit.
///
/// Arguments: `report` may be NULL; otherwise it receives the counts, on
/// failure too: the 0.1.0 layout, the five fields from `unlinked` to
/// `released` (40 bytes), and nothing after them. Fields appended later are
/// written only by `triton_shm_registry_cleanup_all_sized`.
///
/// Returns `TRITON_SHM_OK` when no unlink failed; `TRITON_SHM_NULL_ARGUMENT`
/// if `reg` is NULL; `TRITON_SHM_OS_ERROR` when one or more unlinks failed
/// (`report->failed` says how many).
///
/// # Safety
/// `reg` is NULL or a live registry; `report` is NULL or writable for 40
/// bytes.
#[no_mangle]
pub unsafe extern "C" fn triton_shm_registry_cleanup_all(
    reg: *mut Registry,
    report: *mut CleanupReport,
) -> Status {
    // SAFETY: forwarded from this function's contract.
    boundary::status(|| unsafe {
        registry_cleanup_all(reg, report, <CleanupReport as sized::Extensible>::SIZE_0_1)
    })
}

/// `triton_shm_registry_cleanup_all` with a report of the caller's size:
/// pass `sizeof(triton_shm_cleanup_report)` as compiled in `report_size`.
/// The library writes the first `min(report_size, its own size)` bytes of
/// the report and zeroes the rest of the caller's struct.
///
/// Returns as `triton_shm_registry_cleanup_all`, plus
/// `TRITON_SHM_INVALID_ARGUMENT`, before anything is unlinked, if `report`
/// is not NULL and `report_size` is smaller than the first published
/// struct (40 bytes).
///
/// # Safety
/// `reg` is NULL or a live registry; `report` is NULL or writable for
/// `report_size` bytes.
#[no_mangle]
pub unsafe extern "C" fn triton_shm_registry_cleanup_all_sized(
    reg: *mut Registry,
    report: *mut CleanupReport,
    report_size: usize,
) -> Status {
    // SAFETY: forwarded from this function's contract.
    boundary::status(|| unsafe { registry_cleanup_all(reg, report, report_size) })
}

/// # Safety
/// As for `triton_shm_registry_cleanup_all_sized`.
unsafe fn registry_cleanup_all(
    reg: *mut Registry,
    report: *mut CleanupReport,
    report_size: usize,
) -> Result<()> {
    // SAFETY: forwarded from this function's contract.
    let reg = unsafe { pointers::object(reg, "reg") }?;
    // SAFETY: forwarded from this function's contract.
    unsafe { cleanup_all(reg, report, report_size) }
}

/// The body of the cleanup-all exports.
///
/// # Safety
/// `report` is NULL or writable for `report_size` bytes.
unsafe fn cleanup_all(
    reg: &Registry,
    report: *mut CleanupReport,
    report_size: usize,
) -> Result<()> {
    if !report.is_null() {
        sized::check_size::<CleanupReport>(report_size, "report_size")?;
    }
    let counts = reg.cleanup_all();
    // SAFETY: forwarded from this function's contract.
    unsafe { sized::write(report, report_size, counts) };
    if counts.failed > 0 {
        return Err(Error::new(
            Status::OS_ERROR,
            format!(
                "cleanup left {} region(s) tracked because shm_unlink failed; \
                 the log has each errno",
                counts.failed
            ),
        ));
    }
    Ok(())
}

/// Store in `*out` the number of regions `reg` tracks.
///
/// Returns `TRITON_SHM_OK`, or `TRITON_SHM_NULL_ARGUMENT` if `reg` or `out`
/// is NULL.
///
/// # Safety
/// `reg` is NULL or a live registry; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn triton_shm_registry_count(
    reg: *const Registry,
    out: *mut usize,
) -> Status {
    boundary::status(|| {
        // SAFETY: forwarded from this function's contract.
        let reg = unsafe { pointers::object(reg, "reg") }?;
        pointers::require_out(out, "out")?;
        // SAFETY: non-NULL and writable per the contract.
        unsafe { pointers::write_opt(out, reg.count()) };
        Ok(())
    })
}

/// Store in `*out` whether `reg` tracks `name` itself (a different name with
/// the same system name does not count). Invalid names are never tracked,
/// so they give `false`, not an error.
///
/// Returns `TRITON_SHM_OK`, or `TRITON_SHM_NULL_ARGUMENT` if `reg`, `name`
/// or `out` is NULL.
///
/// # Safety
/// `reg` is NULL or a live registry; `name` is NULL or a NUL-terminated
/// string; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn triton_shm_registry_contains(
    reg: *const Registry,
    name: *const c_char,
    out: *mut bool,
) -> Status {
    boundary::status(|| {
        // SAFETY: forwarded from this function's contract.
        let reg = unsafe { pointers::object(reg, "reg") }?;
        // SAFETY: forwarded from this function's contract.
        let key = unsafe { pointers::c_bytes(name, "name") }?;
        pointers::require_out(out, "out")?;
        // SAFETY: non-NULL and writable per the contract.
        unsafe { pointers::write_opt(out, reg.contains(key)) };
        Ok(())
    })
}

/// The name `reg`'s naming policy hands the OS for `name`. Arguments,
/// outputs and statuses as for `triton_shm_system_name`, plus
/// `TRITON_SHM_NULL_ARGUMENT` if `reg` is NULL.
///
/// # Safety
/// `reg` is NULL or a live registry; the other pointers as for
/// `triton_shm_normalize_name`.
#[no_mangle]
pub unsafe extern "C" fn triton_shm_registry_system_name(
    reg: *const Registry,
    name: *const c_char,
    out: *mut c_char,
    out_len: usize,
    out_written: *mut usize,
) -> Status {
    boundary::status(|| {
        // SAFETY: forwarded from this function's contract.
        let reg = unsafe { pointers::object(reg, "reg") }?;
        // SAFETY: forwarded from this function's contract.
        unsafe { names::system_name(reg, name, out, out_len, out_written) }
    })
}
