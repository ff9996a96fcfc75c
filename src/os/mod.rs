//! The operating-system layer: the only code that makes shared-memory system
//! calls. It knows no policy; callers hand it finished system names.
//!
//! [`ShmBackend`] is the seam: the registry talks to a backend, never to libc,
//! so tests can substitute one that fails on demand.

mod posix;
mod process;

pub use posix::Posix;
pub use process::current_pid;

use std::ffi::CStr;

/// The shared-memory system calls the registry needs. Implementations return
/// the raw errno on failure.
pub trait ShmBackend: Send + Sync {
    /// A short name for messages, e.g. `"posix"`.
    fn name(&self) -> &'static str;

    /// `shm_unlink(name)`.
    fn unlink(&self, name: &CStr) -> Result<(), i32>;
}

/// The backend that calls the real operating system.
pub fn system() -> &'static dyn ShmBackend {
    static POSIX: Posix = Posix;
    &POSIX
}
