//! What a journal record is stamped with: the current process id, cached,
//! and the time now.
//!
//! Every registered region records its owner's pid, so the pid is read on a
//! hot path. glibc no longer caches `getpid()`, so this module does, and a
//! `pthread_atfork` child handler forgets the cached value in a forked child.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Once;

/// 0 means "not known": no process has pid 0.
static CACHED_PID: AtomicU32 = AtomicU32::new(0);
static INSTALL_FORK_HANDLER: Once = Once::new();

extern "C" fn forget_pid_in_child() {
    // Only an atomic store: async-signal-safe, as a fork handler must be.
    CACHED_PID.store(0, Ordering::Relaxed);
}

/// Nanoseconds since the epoch: the one clock of the library and the tool.
///
/// On Linux it is the clock the kernel keeps for file times
/// (`CLOCK_REALTIME_COARSE`: a few nanoseconds through the vDSO, a tick's
/// resolution, 1 to 10 ms); elsewhere the ordinary real-time clock. Coarse
/// because every region's journal record is stamped with it, on the hot
/// path, and nothing needs more: what reads the time compares seconds (a
/// record's or a journal's age, a half-made journal's mtime) or mixes it
/// into a draw that does not rely on it alone. Before the epoch, or where
/// the clock fails, 0.
#[allow(clippy::useless_conversion)] // time_t and c_long are i64 only on 64-bit targets
pub fn now_ns() -> i64 {
    #[cfg(target_os = "linux")]
    {
        let mut t = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime writes the timespec it is given.
        if unsafe { libc::clock_gettime(libc::CLOCK_REALTIME_COARSE, &mut t) } == 0 {
            return i64::from(t.tv_sec)
                .saturating_mul(1_000_000_000)
                .saturating_add(i64::from(t.tv_nsec));
        }
    }
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// The pid of the calling process, correct in a forked child too.
pub fn current_pid() -> u32 {
    INSTALL_FORK_HANDLER.call_once(|| {
        // SAFETY: registers a handler that only does an atomic store; the
        // handler is a plain `extern "C" fn` that lives for the whole program.
        // A failure (ENOMEM) leaves the cache unreset after fork, so fall back
        // to never caching.
        let rc = unsafe { libc::pthread_atfork(None, None, Some(forget_pid_in_child)) };
        if rc != 0 {
            CACHED_PID.store(u32::MAX, Ordering::Relaxed);
        }
    });
    match CACHED_PID.load(Ordering::Relaxed) {
        0 => {
            let pid = std::process::id();
            CACHED_PID.store(pid, Ordering::Relaxed);
            pid
        }
        u32::MAX => std::process::id(),
        pid => pid,
    }
}
