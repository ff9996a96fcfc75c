//! Deterministic crashes and pauses for the crash tests (cargo feature
//! `crash-points`, never in a shipped library).
//!
//! `TRITON_SHM_CRASH_POINT=<point>:<n>` makes the process kill itself with
//! SIGKILL the n-th time it reaches `<point>`; `<point>:<n>:stop` stops it
//! with SIGSTOP instead, so that a test can act while it waits and then
//! send SIGCONT. The points are the steps of the removal protocol (README,
//! "Crash safety"), named as its model names them.
//!
//! In `create_region`: `after-record` (the journal record is written, the
//! object not yet created), `after-create` (the object exists, its identity
//! not yet recorded), `after-identity` (the identity is recorded, the
//! object not yet sized), `after-size` (sized, not yet mapped).
//!
//! In an owner's unlink (a region's close, `unlink`, `cleanup_all`, the
//! cleanup of a failed create): `close-checked` (the object under the name
//! was found to be the owner's, not yet unlinked) and `close-unlinked`
//! (unlinked, its journal record not yet freed).
//!
//! In the reaper: `reaper-serialised` (the state directory's reaper lock is
//! taken, nothing read yet), `reaper-surveyed` (the journals are listed and
//! the live ones read), `reaper-opened` (a dead owner's journal is open,
//! not yet locked), `reaper-locked` (locked, nothing checked yet),
//! `reaper-checked` (an object under a recorded name is open and
//! `fstat`ed, the live journals not yet read again) and `reaper-rechecked`
//! (the live journals were read again and no live process holds the
//! object; not yet unlinked).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

static HITS: AtomicU64 = AtomicU64::new(0);

struct Target {
    point: String,
    n: u64,
    stop: bool,
}

fn target() -> Option<&'static Target> {
    static TARGET: OnceLock<Option<Target>> = OnceLock::new();
    TARGET
        .get_or_init(|| {
            let spec = std::env::var("TRITON_SHM_CRASH_POINT").ok()?;
            let mut parts = spec.split(':');
            let point = parts.next()?.to_owned();
            let n = parts.next()?.parse().ok()?;
            let stop = parts.next() == Some("stop");
            Some(Target { point, n, stop })
        })
        .as_ref()
}

/// Kill (or stop) this process if the configured crash point is `point`
/// and this is its n-th hit.
pub fn hit(point: &str) {
    let Some(target) = target() else { return };
    if target.point == point && HITS.fetch_add(1, Ordering::SeqCst) + 1 == target.n {
        let signal = if target.stop {
            nix::sys::signal::Signal::SIGSTOP
        } else {
            nix::sys::signal::Signal::SIGKILL
        };
        let _ = nix::sys::signal::raise(signal);
    }
}
