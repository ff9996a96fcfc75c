//! Deterministic crashes for the crash tests (cargo feature `crash-points`,
//! never in a shipped library).
//!
//! `TRITON_SHM_CRASH_POINT=<point>:<n>` makes the process kill itself with
//! SIGKILL the n-th time it reaches `<point>`. Points: `after-record`
//! (the journal record is written, the object not yet created) and
//! `after-create` (the object exists, not yet sized).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

static HITS: AtomicU64 = AtomicU64::new(0);

fn target() -> Option<&'static (String, u64)> {
    static TARGET: OnceLock<Option<(String, u64)>> = OnceLock::new();
    TARGET
        .get_or_init(|| {
            let spec = std::env::var("TRITON_SHM_CRASH_POINT").ok()?;
            let (point, n) = spec.split_once(':')?;
            Some((point.to_owned(), n.parse().ok()?))
        })
        .as_ref()
}

/// Kill this process if the configured crash point is `point` and this is
/// its n-th hit.
pub fn hit(point: &str) {
    let Some((wanted, n)) = target() else { return };
    if wanted == point && HITS.fetch_add(1, Ordering::SeqCst) + 1 == *n {
        let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
    }
}
