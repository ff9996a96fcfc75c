//! Regions through the C ABI: create and open, what they map, their names,
//! and what closing the creator's and a reader's region does.

mod common;

use common::ffi::CRegistry;
use common::{cs, object_exists, unique_key};
use std::ffi::{c_char, CStr, CString};
use std::ptr::null_mut;
use triton_shm::ffi::errors::*;
use triton_shm::ffi::region::*;
use triton_shm::Status;

/// A darwin registry, a key of this test, and the 64-byte region created
/// under it.
fn a_64_byte_region() -> (CRegistry, CString, *mut triton_shm::Region) {
    let reg = CRegistry::darwin();
    let key = cs(&unique_key("reg"));
    let region = reg.create_region(&key, 64);
    (reg, key, region)
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn region_create_refuses_an_unknown_flag() {
    let reg = CRegistry::darwin();
    let key = cs(&unique_key("reg"));
    let mut region = null_mut();
    assert_eq!(
        unsafe { triton_shm_region_create(reg.0, key.as_ptr(), 8, 1, &mut region) },
        Status::INVALID_ARGUMENT
    );
    assert!(region.is_null(), "out is written only on success");
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn region_create_refuses_a_zero_size() {
    let reg = CRegistry::darwin();
    let key = cs(&unique_key("reg"));
    let mut region = null_mut();
    assert_eq!(
        unsafe { triton_shm_region_create(reg.0, key.as_ptr(), 0, 0, &mut region) },
        Status::INVALID_ARGUMENT
    );
    assert!(region.is_null(), "out is written only on success");
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn region_open_of_a_missing_object_is_not_found_with_enoent() {
    let reg = CRegistry::darwin();
    let key = cs(&unique_key("reg"));
    let mut region = null_mut();
    unsafe {
        assert_eq!(
            triton_shm_region_open(reg.0, key.as_ptr(), 0, 8, 0, &mut region),
            Status::NOT_FOUND
        );
        assert_eq!(triton_shm_last_errno(), libc::ENOENT);
    }
    assert!(region.is_null(), "out is written only on success");
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn region_create_over_an_existing_region_is_already_exists() {
    let (reg, key, region) = a_64_byte_region();
    let mut twice = null_mut();
    unsafe {
        assert_eq!(
            triton_shm_region_create(reg.0, key.as_ptr(), 64, 0, &mut twice),
            Status::ALREADY_EXISTS
        );
        assert!(twice.is_null());
        assert_eq!(triton_shm_region_close(region), Status::OK);
    }
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn region_create_maps_the_size_asked_for() {
    let (_reg, _key, region) = a_64_byte_region();
    unsafe {
        assert!(!triton_shm_region_data(region).is_null());
        assert_eq!(triton_shm_region_size(region), 64);
        assert_eq!(triton_shm_region_close(region), Status::OK);
    }
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn region_open_at_an_offset_reads_what_the_creator_wrote() {
    let (reg, key, region) = a_64_byte_region();
    unsafe {
        let data = triton_shm_region_data(region).cast::<u8>();
        std::ptr::copy_nonoverlapping(b"abcdef".as_ptr(), data, 6);
        let reader = reg.open_region(&key, 3, 3);
        let got = std::slice::from_raw_parts(triton_shm_region_data(reader).cast::<u8>(), 3);
        assert_eq!(got, b"def");
        assert_eq!(triton_shm_region_close(reader), Status::OK);
        assert_eq!(triton_shm_region_close(region), Status::OK);
    }
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn region_open_refuses_a_range_past_the_object() {
    let (reg, key, region) = a_64_byte_region();
    let mut none = null_mut();
    unsafe {
        assert_eq!(
            triton_shm_region_open(reg.0, key.as_ptr(), 60, 8, 0, &mut none),
            Status::OUT_OF_BOUNDS
        );
        assert_eq!(
            triton_shm_region_open(reg.0, key.as_ptr(), usize::MAX, 8, 0, &mut none),
            Status::OUT_OF_BOUNDS
        );
        assert!(none.is_null());
        assert_eq!(triton_shm_region_close(region), Status::OK);
    }
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn region_system_name_and_key_give_a_flat_key_back() {
    let (reg, key, region) = a_64_byte_region();
    let mut name = [0 as c_char; 64];
    let mut n = 0;
    unsafe {
        let reader = reg.open_region(&key, 3, 3);
        assert_eq!(
            triton_shm_region_system_name(reader, name.as_mut_ptr(), 64, &mut n),
            Status::OK
        );
        assert_eq!(CStr::from_ptr(name.as_ptr()).to_bytes(), key.as_bytes());
        assert_eq!(
            triton_shm_region_key(reader, name.as_mut_ptr(), 64, &mut n),
            Status::OK
        );
        assert_eq!(CStr::from_ptr(name.as_ptr()).to_bytes(), key.as_bytes());
        assert_eq!(triton_shm_region_close(reader), Status::OK);
        assert_eq!(triton_shm_region_close(region), Status::OK);
    }
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn region_key_reports_the_needed_size_to_a_small_buffer() {
    let (_reg, key, region) = a_64_byte_region();
    let mut name = [0 as c_char; 64];
    let mut n = 0;
    unsafe {
        assert_eq!(
            triton_shm_region_key(region, name.as_mut_ptr(), 2, &mut n),
            Status::BUFFER_TOO_SMALL
        );
        assert_eq!(n, key.as_bytes().len());
        assert_eq!(triton_shm_region_close(region), Status::OK);
    }
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn closing_a_reader_keeps_the_object_the_creator_holds() {
    let (reg, key, region) = a_64_byte_region();
    let reader = reg.open_region(&key, 3, 3);
    assert_eq!(unsafe { triton_shm_region_close(reader) }, Status::OK);
    assert!(
        object_exists(key.to_str().unwrap()),
        "the creator's region still holds it"
    );
    assert_eq!(unsafe { triton_shm_region_close(region) }, Status::OK);
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn closing_the_creators_region_unlinks_the_object() {
    let (reg, key, region) = a_64_byte_region();
    let reader = reg.open_region(&key, 3, 3);
    assert_eq!(unsafe { triton_shm_region_close(reader) }, Status::OK);
    assert_eq!(unsafe { triton_shm_region_close(region) }, Status::OK);
    assert!(
        !object_exists(key.to_str().unwrap()),
        "closing the creator's region unlinks it"
    );
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn region_open_refuses_a_python_backend_name() {
    let reg = CRegistry::darwin();
    let reserved = cs("//triton_python_backend_shm_region_1");
    let mut region = null_mut();
    assert_eq!(
        unsafe { triton_shm_region_open(reg.0, reserved.as_ptr(), 0, 1, 0, &mut region) },
        Status::RESERVED_NAME
    );
}
