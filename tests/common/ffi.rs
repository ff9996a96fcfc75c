//! The fixture of the C ABI tests (tests/ffi_*.rs): the exports called as C
//! would call them, through a registry from `triton_shm_registry_new` that is
//! freed when dropped.
//!
//! The NULL-argument corpus (every export, every pointer argument) lives in
//! ctest/bad_inputs.c, which calls the library as a C host does; the Rust
//! tests keep only the calls where NULL is an accepted input with a
//! documented meaning (a NULL `out_written`, NULL options).

use super::cs;
use std::ffi::{c_char, CStr};
use std::ptr::null_mut;
use triton_shm::ffi::errors::triton_shm_last_error_message;
use triton_shm::ffi::options::*;
use triton_shm::ffi::region::{triton_shm_region_create, triton_shm_region_open};
use triton_shm::ffi::registry::*;
use triton_shm::{Registry, Status};

/// This thread's last error message, read through the C ABI.
pub fn last_message() -> String {
    let mut buf = vec![0 as c_char; 1024];
    let mut n = 0usize;
    let s = unsafe { triton_shm_last_error_message(buf.as_mut_ptr(), buf.len(), &mut n) };
    assert_eq!(s, Status::OK);
    unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

/// The options `triton_shm_options_init` gives.
pub fn default_options() -> triton_shm_options {
    let mut opts = std::mem::MaybeUninit::<triton_shm_options>::uninit();
    assert_eq!(
        unsafe {
            triton_shm_options_init(opts.as_mut_ptr(), std::mem::size_of::<triton_shm_options>())
        },
        Status::OK
    );
    unsafe { opts.assume_init() }
}

/// A registry from `triton_shm_registry_new`, freed when dropped.
pub struct CRegistry(pub *mut Registry);

impl CRegistry {
    pub fn new(naming: u32, unlink: u32) -> CRegistry {
        CRegistry::with(triton_shm_options {
            naming_policy: naming,
            unlink_policy: unlink,
            ..default_options()
        })
    }

    pub fn with(opts: triton_shm_options) -> CRegistry {
        let mut reg = null_mut();
        assert_eq!(
            unsafe { triton_shm_registry_new(&opts, &mut reg) },
            Status::OK
        );
        assert!(!reg.is_null());
        CRegistry(reg)
    }

    pub fn darwin() -> CRegistry {
        CRegistry::new(TRITON_SHM_NAMING_DARWIN, TRITON_SHM_UNLINK_OWNED_ONLY)
    }

    pub fn posix() -> CRegistry {
        CRegistry::new(TRITON_SHM_NAMING_POSIX, TRITON_SHM_UNLINK_OWNED_ONLY)
    }

    pub fn register(&self, key: &str, owned: bool) -> Status {
        unsafe { triton_shm_registry_register(self.0, cs(key).as_ptr(), owned) }
    }

    pub fn unlink(&self, key: &str) -> Status {
        unsafe { triton_shm_registry_unlink(self.0, cs(key).as_ptr()) }
    }

    pub fn count(&self) -> usize {
        let mut count = usize::MAX;
        assert_eq!(
            unsafe { triton_shm_registry_count(self.0, &mut count) },
            Status::OK
        );
        count
    }

    pub fn contains(&self, key: &str) -> bool {
        let mut yes = false;
        assert_eq!(
            unsafe { triton_shm_registry_contains(self.0, cs(key).as_ptr(), &mut yes) },
            Status::OK
        );
        yes
    }

    pub fn cleanup_all(&self) -> triton_shm::CleanupReport {
        let mut report = triton_shm::CleanupReport::default();
        assert_eq!(
            unsafe { triton_shm_registry_cleanup_all(self.0, &mut report) },
            Status::OK
        );
        report
    }

    /// `(status, system name)` for `key` under this registry's policy.
    pub fn system_name(&self, key: &str) -> (Status, Vec<u8>) {
        let mut out = [0 as c_char; 300];
        let mut n = 0;
        let s = unsafe {
            triton_shm_registry_system_name(
                self.0,
                cs(key).as_ptr(),
                out.as_mut_ptr(),
                out.len(),
                &mut n,
            )
        };
        (
            s,
            unsafe { CStr::from_ptr(out.as_ptr()) }.to_bytes().to_vec(),
        )
    }

    pub fn create_region(&self, key: &CStr, size: usize) -> *mut triton_shm::Region {
        let mut region = null_mut();
        assert_eq!(
            unsafe { triton_shm_region_create(self.0, key.as_ptr(), size, 0, &mut region) },
            Status::OK
        );
        region
    }

    pub fn open_region(&self, key: &CStr, offset: usize, size: usize) -> *mut triton_shm::Region {
        let mut region = null_mut();
        assert_eq!(
            unsafe { triton_shm_region_open(self.0, key.as_ptr(), offset, size, 0, &mut region) },
            Status::OK
        );
        region
    }
}

impl Drop for CRegistry {
    fn drop(&mut self) {
        unsafe { triton_shm_registry_free(self.0) };
    }
}
