//! The process-wide default registry behind the seed's functions
//! (`triton_shm_register_region`, `triton_shm_unlink_region`,
//! `triton_shm_cleanup_all`).

mod common;

use common::{create_object, cs, object_exists, unique_key};
use std::ffi::CString;
use std::ptr::null_mut;
use std::sync::{Mutex, MutexGuard};
use triton_shm::ffi::registry::*;
use triton_shm::Status;

/// Tests that change what the process-wide default registry tracks (or free
/// it) take this, so that one's cleanup never removes another's entry.
fn default_registry_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A key of this test whose object exists, registered in the default
/// registry: the key and its C string.
fn a_registered_region() -> (String, CString) {
    let key = unique_key("seed");
    create_object(&key);
    let ckey = cs(&key);
    assert_eq!(
        unsafe { triton_shm_register_region(ckey.as_ptr()) },
        Status::OK
    );
    (key, ckey)
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn register_region_tracks_the_name_in_the_default_registry() {
    let _lock = default_registry_lock();
    let (_, ckey) = a_registered_region();
    unsafe {
        let mut yes = false;
        assert_eq!(
            triton_shm_registry_contains(triton_shm_default_registry(), ckey.as_ptr(), &mut yes),
            Status::OK
        );
        assert!(yes);
        assert_eq!(triton_shm_unlink_region(ckey.as_ptr()), Status::OK);
    }
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn unlink_region_removes_what_register_region_tracked() {
    let _lock = default_registry_lock();
    let (key, ckey) = a_registered_region();
    unsafe {
        assert_eq!(triton_shm_unlink_region(ckey.as_ptr()), Status::OK);
    }
    assert!(!object_exists(&key));
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn unlink_region_twice_is_not_found() {
    let _lock = default_registry_lock();
    let (_, ckey) = a_registered_region();
    unsafe {
        assert_eq!(triton_shm_unlink_region(ckey.as_ptr()), Status::OK);
        assert_eq!(triton_shm_unlink_region(ckey.as_ptr()), Status::NOT_FOUND);
    }
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn register_region_refuses_an_all_slash_name() {
    assert_eq!(
        unsafe { triton_shm_register_region(cs("///").as_ptr()) },
        Status::INVALID_NAME
    );
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn cleanup_all_of_the_default_registry_accepts_a_null_report() {
    let _lock = default_registry_lock();
    assert_eq!(
        unsafe { triton_shm_cleanup_all(null_mut()) },
        Status::OK,
        "report may be NULL"
    );
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn freeing_the_default_registry_does_nothing() {
    let _lock = default_registry_lock();
    // Freeing the default registry does nothing; it still works after.
    unsafe { triton_shm_registry_free(triton_shm_default_registry()) };
    let mut count = usize::MAX;
    assert_eq!(
        unsafe { triton_shm_registry_count(triton_shm_default_registry(), &mut count) },
        Status::OK
    );
    assert_ne!(count, usize::MAX);
}
