//! The identity of the current boot, written into every journal so that a
//! journal left by an earlier boot (whose regions died with it) is never
//! replayed against the objects of this one.
//!
//! Linux: `/proc/sys/kernel/random/boot_id`, a UUID the kernel draws at
//! boot. macOS: `kern.boottime`, the time of the boot, seconds and
//! microseconds. `None` when neither can be read (no `/proc`): journals then
//! carry no boot id, and the reaper relies on its other checks.

use std::sync::OnceLock;

/// The current boot's id, read once per process.
pub fn boot_id() -> Option<&'static str> {
    static BOOT: OnceLock<Option<String>> = OnceLock::new();
    BOOT.get_or_init(read_boot_id).as_deref()
}

#[cfg(target_os = "linux")]
fn read_boot_id() -> Option<String> {
    let text = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let id = text.trim();
    (!id.is_empty() && id.len() <= 48).then(|| id.to_owned())
}

#[cfg(any(target_os = "macos", target_os = "ios"))]
fn read_boot_id() -> Option<String> {
    let mut boot = libc::timeval {
        tv_sec: 0,
        tv_usec: 0,
    };
    let mut len = std::mem::size_of::<libc::timeval>();
    // SAFETY: the name is a NUL-terminated literal, `boot` is a writable
    // timeval and `len` says its size, as sysctlbyname requires.
    let rc = unsafe {
        libc::sysctlbyname(
            c"kern.boottime".as_ptr(),
            std::ptr::addr_of_mut!(boot).cast(),
            &mut len,
            std::ptr::null_mut(),
            0,
        )
    };
    (rc == 0 && boot.tv_sec > 0).then(|| format!("{}.{:06}", boot.tv_sec, boot.tv_usec))
}

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "ios")))]
fn read_boot_id() -> Option<String> {
    None
}
