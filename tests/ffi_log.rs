//! The log callback through the C ABI: set, it receives the library's
//! warnings; cleared, nothing.

mod common;

use common::ffi::CRegistry;
use common::unique_key;
use std::ffi::{c_char, c_void, CStr};
use std::ptr::null_mut;
use std::sync::{Mutex, MutexGuard};
use triton_shm::ffi::log::*;
use triton_shm::Status;

type Seen = Mutex<Vec<(u32, String)>>;

unsafe extern "C" fn collect(
    level: triton_shm::Level,
    message: *const c_char,
    user_data: *mut c_void,
) {
    let sink = unsafe { &*(user_data as *const Seen) };
    let text = unsafe { CStr::from_ptr(message) }
        .to_string_lossy()
        .into_owned();
    sink.lock().unwrap().push((level as u32, text));
}

/// Set the log callback to [`collect`] into `seen`.
fn collect_into(seen: &'static Seen) {
    assert_eq!(
        unsafe { triton_shm_set_log_callback(Some(collect), seen as *const _ as *mut c_void) },
        Status::OK
    );
}

/// The log callback is process-wide: its tests take turns.
fn log_callback_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Register `key` as owned but never create it, then unlink it: the unlink
/// finds it already gone and warns.
fn unlink_an_owned_name_already_gone(reg: &CRegistry, key: &str) {
    assert_eq!(reg.register(key, true), Status::OK);
    assert_eq!(reg.unlink(key), Status::OK);
}

fn warnings_about<'a>(seen: &'a [(u32, String)], key: &str) -> Vec<&'a (u32, String)> {
    seen.iter()
        .filter(|(level, text)| *level == triton_shm::Level::Warn as u32 && text.contains(key))
        .collect()
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn a_log_callback_receives_the_warning_for_an_owned_name_already_gone() {
    static SEEN: Seen = Mutex::new(Vec::new());
    let _lock = log_callback_lock();
    let key = unique_key("log");
    let reg = CRegistry::posix();
    collect_into(&SEEN);
    unlink_an_owned_name_already_gone(&reg, &key);
    assert_eq!(
        unsafe { triton_shm_set_log_callback(None, null_mut()) },
        Status::OK
    );
    let seen = SEEN.lock().unwrap();
    let warnings = warnings_about(&seen, &key);
    assert_eq!(warnings.len(), 1, "{seen:?}");
    assert!(warnings[0].1.contains("already gone"), "{seen:?}");
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn a_cleared_log_callback_receives_nothing() {
    static SEEN: Seen = Mutex::new(Vec::new());
    let _lock = log_callback_lock();
    let key = unique_key("log");
    let reg = CRegistry::posix();
    collect_into(&SEEN);
    assert_eq!(
        unsafe { triton_shm_set_log_callback(None, null_mut()) },
        Status::OK
    );
    unlink_an_owned_name_already_gone(&reg, &key);
    let seen = SEEN.lock().unwrap();
    assert_eq!(warnings_about(&seen, &key).len(), 0, "{seen:?}");
}
