//! triton-shm: portable POSIX shared memory for Triton Inference Server.
//!
//! Triton's clients hand tensors to the server through POSIX shared memory.
//! Linux and macOS disagree on what a shared-memory name may be and on what
//! happens to a region nobody unlinks: macOS wants one leading `/`, no other
//! `/` and at most 31 bytes, and a leaked region stays invisible until
//! reboot. This crate gives the server one implementation for both:
//!
//! * [`name`]: the normalisation of names and the naming policies, pure code;
//! * [`Registry`]: the regions a process tracks, with their ownership,
//!   collision checks, unlink and cleanup-all;
//! * [`os`]: the only module that makes shared-memory system calls;
//! * [`ffi`]: the C ABI (`triton_shm_*`, header `include/triton_shm.h`).
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
