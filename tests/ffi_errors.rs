//! The last error through the C ABI: its message and errno, the buffer
//! rules of reading it, and what clears it.

mod common;

use common::ffi::last_message;
use common::{cs, unique_key};
use std::ffi::{c_char, CStr};
use std::ptr::null_mut;
use triton_shm::ffi::errors::*;
use triton_shm::ffi::names::*;
use triton_shm::ffi::registry::*;
use triton_shm::Status;

/// A failure whose message names a key of this test: unlinking a name the
/// default registry never tracked. Returns the key.
fn fail_with_not_found() -> String {
    let key = unique_key("never");
    assert_eq!(
        unsafe { triton_shm_unlink_region(cs(&key).as_ptr()) },
        Status::NOT_FOUND
    );
    key
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn a_failure_leaves_a_message_naming_the_key() {
    let key = fail_with_not_found();
    assert!(last_message().contains(&key), "{}", last_message());
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn reading_the_last_error_does_not_clear_it() {
    fail_with_not_found();
    let first = last_message();
    assert_eq!(last_message(), first, "reading does not clear it");
}

/// The last error read into a 4-byte buffer: the status, the length it
/// needs, and the buffer.
fn read_into_four_bytes() -> (Status, usize, [c_char; 4]) {
    let mut tiny = [0 as c_char; 4];
    let mut need = 0;
    let s = unsafe { triton_shm_last_error_message(tiny.as_mut_ptr(), tiny.len(), &mut need) };
    (s, need, tiny)
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn a_too_small_buffer_gets_the_needed_length_and_the_messages_beginning() {
    fail_with_not_found();
    let first = last_message();
    let (s, need, tiny) = read_into_four_bytes();
    assert_eq!(s, Status::BUFFER_TOO_SMALL);
    assert_eq!(need, first.len());
    let truncated = unsafe { CStr::from_ptr(tiny.as_ptr()) }
        .to_string_lossy()
        .into_owned();
    assert_eq!(
        truncated,
        first[..3],
        "the message's beginning, NUL-terminated"
    );
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn a_failed_read_does_not_clear_the_last_error() {
    fail_with_not_found();
    let first = last_message();
    let (s, _, _) = read_into_four_bytes();
    assert_eq!(s, Status::BUFFER_TOO_SMALL);
    assert_eq!(last_message(), first, "a failed read does not clear it");
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn last_errno_is_zero_when_no_system_call_failed() {
    fail_with_not_found();
    assert_eq!(triton_shm_last_errno(), 0, "no system call failed");
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn a_success_clears_the_last_error() {
    fail_with_not_found();
    let mut out = [0 as c_char; 8];
    assert_eq!(
        unsafe { triton_shm_normalize_name(cs("/ok").as_ptr(), out.as_mut_ptr(), 8, null_mut()) },
        Status::OK
    );
    assert_eq!(last_message(), "");
}
