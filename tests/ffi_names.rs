//! The C ABI's names: `triton_shm_normalize_name` (the seed's table, the
//! buffer rules) and the system name of a key under each naming policy.

mod common;

use common::cs;
use common::ffi::{last_message, CRegistry};
use std::ffi::{c_char, CStr, CString};
use std::ptr::null_mut;
use triton_shm::ffi::names::*;
use triton_shm::Status;

fn normalize(name: &[u8]) -> (Status, String) {
    let name = CString::new(name).unwrap();
    let mut out = [0 as c_char; 64];
    let mut n = 0usize;
    let s =
        unsafe { triton_shm_normalize_name(name.as_ptr(), out.as_mut_ptr(), out.len(), &mut n) };
    let text = unsafe { CStr::from_ptr(out.as_ptr()) }
        .to_string_lossy()
        .into_owned();
    if s == Status::OK {
        assert_eq!(n, text.len());
    }
    (s, text)
}

#[test]
fn normalize_name_reproduces_the_seed_table() {
    for (input, expected) in [
        ("/simple_name", "/simple_name"),
        ("//double_slash", "/double_slash"),
        ("/path/with/slashes", "/path_with_slashes"),
        ("no_leading_slash", "/no_leading_slash"),
        ("///multiple///slashes///", "/multiple___slashes___"),
    ] {
        assert_eq!(
            normalize(input.as_bytes()),
            (Status::OK, expected.to_owned())
        );
    }
}

#[test]
fn normalize_name_refuses_empty_results() {
    for bad in ["", "/", "///"] {
        let (s, _) = normalize(bad.as_bytes());
        assert_eq!(s, Status::INVALID_NAME, "{bad:?}");
        assert!(last_message().contains("empty"), "{}", last_message());
    }
}

#[test]
fn normalize_name_keeps_non_utf8_bytes() {
    let latin1 = CString::new(vec![b'/', b'a', 0xe9, b'/', 0xff]).unwrap();
    let mut out = [0u8; 16];
    let mut n = 0;
    let s = unsafe {
        triton_shm_normalize_name(latin1.as_ptr(), out.as_mut_ptr().cast(), out.len(), &mut n)
    };
    assert_eq!(s, Status::OK);
    assert_eq!(&out[..n + 1], b"/a\xe9_\xff\0");
}

#[test]
fn normalize_name_reports_the_needed_size_and_leaves_a_small_buffer_alone() {
    let name = cs("/path/with/slashes"); // result: 18 bytes + NUL
    let mut out = [b'#' as c_char; 18];
    let mut n = 0usize;
    let s = unsafe { triton_shm_normalize_name(name.as_ptr(), out.as_mut_ptr(), 18, &mut n) };
    assert_eq!(s, Status::BUFFER_TOO_SMALL);
    assert_eq!(n, 18);
    assert!(
        out.iter().all(|&c| c == b'#' as c_char),
        "buffer was written"
    );
}

#[test]
fn normalize_name_fills_an_exact_buffer_and_accepts_a_null_out_written() {
    let name = cs("/path/with/slashes");
    let mut exact = [0 as c_char; 19];
    let s = unsafe { triton_shm_normalize_name(name.as_ptr(), exact.as_mut_ptr(), 19, null_mut()) };
    assert_eq!(s, Status::OK, "out_written may be NULL");
    assert_eq!(
        unsafe { CStr::from_ptr(exact.as_ptr()) }.to_bytes(),
        b"/path_with_slashes"
    );
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn darwin_system_name_flattens_inner_slashes() {
    assert_eq!(
        CRegistry::darwin().system_name("/a/b"),
        (Status::OK, b"/a_b".to_vec())
    );
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn posix_system_name_keeps_the_leading_slashes() {
    assert_eq!(
        CRegistry::posix().system_name("//a"),
        (Status::OK, b"//a".to_vec())
    );
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn posix_system_name_refuses_an_inner_slash() {
    assert_eq!(
        CRegistry::posix().system_name("/a/b").0,
        Status::INVALID_NAME
    );
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn darwin_system_name_allows_31_bytes_and_refuses_32() {
    let darwin = CRegistry::darwin();
    assert_eq!(
        darwin.system_name(&format!("/{}", "x".repeat(30))).0,
        Status::OK
    );
    assert_eq!(
        darwin.system_name(&format!("/{}", "x".repeat(31))).0,
        Status::NAME_TOO_LONG
    );
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn posix_system_name_allows_255_bytes_after_the_slash_and_refuses_256_saying_so() {
    let posix = CRegistry::posix();
    assert_eq!(
        posix.system_name(&format!("/{}", "y".repeat(255))).0,
        Status::OK
    );
    assert_eq!(
        posix.system_name(&format!("/{}", "y".repeat(256))).0,
        Status::NAME_TOO_LONG
    );
    assert!(
        last_message().contains("256 bytes long, the limit is 255"),
        "{}",
        last_message()
    );
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn default_system_name_follows_the_platform_policy() {
    // The default registry follows the platform: posix on Linux.
    let mut out = [0 as c_char; 300];
    let mut n = 0;
    let s =
        unsafe { triton_shm_system_name(cs("//k").as_ptr(), out.as_mut_ptr(), out.len(), &mut n) };
    assert_eq!(s, Status::OK);
    assert_eq!(unsafe { CStr::from_ptr(out.as_ptr()) }.to_bytes(), b"//k");
}
