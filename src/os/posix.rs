//! The real POSIX backend, through nix.

use super::ShmBackend;
use std::ffi::CStr;

/// Calls the operating system's `shm_*` functions.
#[derive(Clone, Copy, Debug, Default)]
pub struct Posix;

impl ShmBackend for Posix {
    fn name(&self) -> &'static str {
        "posix"
    }

    fn unlink(&self, name: &CStr) -> Result<(), i32> {
        nix::sys::mman::shm_unlink(name).map_err(|e| e as i32)
    }
}
