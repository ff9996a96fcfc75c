//! Messages for the host's logger. Silent until a sink is set.
//!
//! Triton logs through its own macros (`LOG_VERBOSE`, `LOG_ERROR`); the C ABI
//! lets the host install a callback so this library's messages land there.

use parking_lot::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Severity of a message. In C: `triton_shm_log_level`.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// An operation failed.
    Error = 1,
    /// Something unexpected that the library handled (a region already gone).
    Warn = 2,
    /// A state change worth a verbose log line (a region unlinked).
    Info = 3,
    /// Detail for debugging.
    Debug = 4,
}

/// Receives every message the library emits.
pub type Sink = Arc<dyn Fn(Level, &str) + Send + Sync>;

static SINK: RwLock<Option<Sink>> = RwLock::new(None);
/// Mirrors `SINK.is_some()`, so that the check on every call is a plain load
/// rather than a read lock, whose counter every thread would write.
static ENABLED: AtomicBool = AtomicBool::new(false);

/// Route messages to `sink`, or silence them with `None`.
pub fn set_sink(sink: Option<Sink>) {
    let mut slot = SINK.write();
    ENABLED.store(sink.is_some(), Ordering::Release);
    *slot = sink;
}

/// Whether a sink is installed (lets callers skip formatting).
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Acquire)
}

/// Send `message` to the sink, if any. The lock is released before the sink
/// runs, so a sink may itself call [`set_sink`].
pub fn emit(level: Level, message: &str) {
    let sink = SINK.read().clone();
    if let Some(sink) = sink {
        sink(level, message);
    }
}

/// Format and emit only when a sink is installed.
macro_rules! log_at {
    ($level:expr, $($arg:tt)*) => {
        if $crate::log::enabled() {
            $crate::log::emit($level, &format!($($arg)*));
        }
    };
}
pub(crate) use log_at;
