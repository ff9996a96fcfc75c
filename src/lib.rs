//! triton-shm: portable POSIX shared memory for Triton Inference Server.
//!
//! Triton's clients hand tensors to the server through POSIX shared memory.
//! Linux and macOS disagree on what a shared-memory name may be and on what
//! happens to a region nobody unlinks: macOS compares names byte for byte and
//! allows at most 31 bytes (its kernel checks nothing else), sizes objects
//! once and to a page, lists none of them, and keeps a leaked region until
//! reboot. This crate gives the server one implementation for both.
//!
//! The public Rust API:
//!
//! * [`name`]: the seed's normalisation and the naming policies, pure code;
//! * [`Registry`], [`Region`], [`Options`]: the regions a process tracks,
//!   with their ownership, collision checks, unlink and cleanup-all, and the
//!   regions it opens or creates; [`default_registry`] for the seed's
//!   process-wide shape;
//! * [`Status`], [`Error`]: one set of outcomes for Rust and C;
//! * [`journal`]: listing and reaping the journals of owners that died
//!   ([`journal::list_journals`], [`journal::reap`], [`journal::reap_stale`]);
//! * [`os`]: the seam to the system calls ([`os::ShmBackend`] and what it
//!   takes), for [`Registry::with_backend`];
//! * [`ffi`]: the C ABI (`triton_shm_*`, header `include/triton_shm.h`).
//!
//! Items hidden from these docs (the journal's file formats, the state
//! directory's checks) are public for the project's own tests and fuzz
//! targets only and carry no stability promise.
//!
//! ```
//! use triton_shm::{name::NamingPolicy, Options, Registry};
//!
//! let registry = Registry::new(Options { naming: NamingPolicy::Darwin, ..Options::default() })?;
//! assert_eq!(registry.system_name(b"/path/with/slashes")?, b"/path_with_slashes");
//! # Ok::<(), triton_shm::Error>(())
//! ```
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]
// Functions stay under 80 lines of code (clippy.toml).
#![warn(clippy::too_many_lines)]

pub mod ffi;
pub mod journal;
mod log;
pub mod name;
mod options;
pub mod os;
mod region;
mod registry;
mod status;

pub use log::{set_sink as set_log_sink, Level, Sink as LogSink};
pub use options::{Options, UnknownPolicy, UnlinkPolicy, ENV_VARS};
pub use region::Region;
pub use registry::{default_registry, CleanupReport, Registration, Registry, Stats, Unlinked};
pub use status::{Error, Result, Status};
