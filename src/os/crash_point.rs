//! Deterministic crashes and pauses for the crash tests (cargo feature
//! `crash-points`, never in a shipped library).
//!
//! `TRITON_SHM_CRASH_POINT=<point>:<n>` makes the process kill itself with
//! SIGKILL the n-th time it reaches `<point>`; `<point>:<n>:stop` stops it
//! with SIGSTOP instead, so that a test can act while it waits and then
//! send SIGCONT. Points, in `create_region`: `after-record` (the journal
//! record is written, the object not yet created), `after-create` (the
//! object exists, its identity not yet recorded), `after-identity` (the
//! identity is recorded, the object not yet sized), `after-size` (sized,
//! not yet mapped). In the reaper: `reaper-opened` (a dead owner's journal
//! is open, not yet locked), `reaper-locked` (locked, nothing unlinked yet) and `reaper-checked` (an object's
//! identity is being checked, not yet unlinked).

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
