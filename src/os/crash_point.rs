//! Deterministic crashes and pauses for the crash tests (cargo feature
//! `crash-points`, never in a shipped library).
//!
//! `TRITON_SHM_CRASH_POINT=<point>:<n>` makes the process kill itself with
//! SIGKILL the n-th time it reaches `<point>`; `<point>:<n>:stop` stops it
//! with SIGSTOP instead, so that a test can act while it waits and then
//! send SIGCONT. A comma-separated list of such entries pauses or ends
//! one process at several steps, e.g.
//! `reaper-surveyed:1:stop,reaper-checked:1:stop,reaper-rechecked:1:stop`
//! stops a reaper three times; each entry counts the hits of its own point,
//! and an entry that does not parse is ignored. The points are the steps
//! of the removal protocol (README, "Crash safety"), named as its model
//! names them.
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
//! object; the name is not yet looked at again, nothing unlinked: a test
//! stopped here can put another object under the name, which the look
//! right before the unlink must find).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// One entry of the list: where, at which hit, and how.
struct Target {
    point: String,
    n: u64,
    stop: bool,
    /// How many times this process has reached `point` so far.
    hits: AtomicU64,
}

/// Parse `<point>:<n>[:stop]`; `None` for anything else.
fn parse_one(spec: &str) -> Option<Target> {
    let mut parts = spec.trim().split(':');
    let point = parts.next()?.to_owned();
    let n = parts.next()?.parse().ok()?;
    let stop = parts.next() == Some("stop");
    Some(Target {
        point,
        n,
        stop,
        hits: AtomicU64::new(0),
    })
}

fn targets() -> &'static [Target] {
    static TARGETS: OnceLock<Vec<Target>> = OnceLock::new();
    TARGETS.get_or_init(|| {
        std::env::var("TRITON_SHM_CRASH_POINT")
            .map(|spec| spec.split(',').filter_map(parse_one).collect())
            .unwrap_or_default()
    })
}

/// Kill (or stop) this process if a configured entry names `point` and
/// this is its n-th hit. Each entry counts its own hits.
pub fn hit(point: &str) {
    for target in targets() {
        if target.point == point && target.hits.fetch_add(1, Ordering::SeqCst) + 1 == target.n {
            let signal = if target.stop {
                nix::sys::signal::Signal::SIGSTOP
            } else {
                nix::sys::signal::Signal::SIGKILL
            };
            let _ = nix::sys::signal::raise(signal);
        }
    }
}
