//! A panic inside an export becomes TRITON_SHM_INTERNAL, never an unwind into
//! C, and leaves the registry usable (parking_lot locks do not poison).
//! Own test binary: it installs a process-wide log sink that panics.
// Not under miri: every test here makes system calls (it its registry keeps a journal on disk).
#![cfg(not(miri))]

mod common;

use std::ffi::{c_char, CStr, CString};
use std::sync::Arc;
use triton_shm::ffi::errors::triton_shm_last_error_message;
use triton_shm::ffi::options::{
    triton_shm_options, triton_shm_options_init, TRITON_SHM_NAMING_DARWIN,
};
use triton_shm::ffi::registry::*;
use triton_shm::{set_log_sink, Level, Status};

#[test]
fn a_panic_while_the_registry_is_locked_is_caught_and_does_not_poison() {
    let mut opts = std::mem::MaybeUninit::<triton_shm_options>::uninit();
    let mut reg = std::ptr::null_mut();
    let key = CString::new(common::unique_key("p")).unwrap();
    unsafe {
        assert_eq!(
            triton_shm_options_init(opts.as_mut_ptr(), std::mem::size_of::<triton_shm_options>()),
            Status::OK
        );
        let mut opts = opts.assume_init();
        opts.naming_policy = TRITON_SHM_NAMING_DARWIN;
        assert_eq!(triton_shm_registry_new(&opts, &mut reg), Status::OK);
        assert_eq!(
            triton_shm_registry_register(reg, key.as_ptr(), true),
            Status::OK
        );
    }
    // The sink panics on the warning unlink emits while holding the lock.
    set_log_sink(Some(Arc::new(|level, _: &str| {
        if level == Level::Warn {
            panic!("sink exploded");
        }
    })));
    let status = unsafe { triton_shm_registry_unlink(reg, key.as_ptr()) };
    set_log_sink(None);
    assert_eq!(status, Status::INTERNAL);
    let mut buf = [0 as c_char; 256];
    unsafe { triton_shm_last_error_message(buf.as_mut_ptr(), buf.len(), std::ptr::null_mut()) };
    let msg = unsafe { CStr::from_ptr(buf.as_ptr()) }.to_string_lossy();
    assert!(msg.contains("sink exploded"), "{msg}");

    // The lock was released while unwinding; the entry is still tracked.
    let mut count = 0;
    unsafe {
        assert_eq!(triton_shm_registry_count(reg, &mut count), Status::OK);
        assert_eq!(count, 1);
        assert_eq!(triton_shm_registry_unlink(reg, key.as_ptr()), Status::OK);
        triton_shm_registry_free(reg);
    }
}
