//! Regions through the C ABI: create and open, what they map, their names,
//! and what closing the creator's and a reader's region does.

mod common;

use common::ffi::{last_message, CRegistry};
use common::{create_object_sized, cs, object_exists, remove_object, unique_key, unique_word};
use std::ffi::{c_char, CStr, CString};
use std::ptr::null_mut;
use triton_shm::ffi::errors::*;
use triton_shm::ffi::options::*;
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

/// A plain client's object of `size` bytes under a new key (posix, as the
/// OS names it), the key, and a server registry of `unlink` policy.
fn a_client_object(unlink: u32, size: i64) -> (CRegistry, String) {
    let key = unique_key("untr");
    create_object_sized(&key, size);
    (CRegistry::new(TRITON_SHM_NAMING_POSIX, unlink), key)
}

fn open_with_flags(
    reg: &CRegistry,
    key: &str,
    size: usize,
    flags: u32,
) -> (Status, *mut triton_shm::Region) {
    let mut region = null_mut();
    let s = unsafe { triton_shm_region_open(reg.0, cs(key).as_ptr(), 0, size, flags, &mut region) };
    (s, region)
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn an_untracked_region_gets_no_entry_and_counts_only_its_mapped_bytes() {
    let (reg, key) = a_client_object(TRITON_SHM_UNLINK_ALL, 4096);
    let (s, region) = open_with_flags(&reg, &key, 100, TRITON_SHM_OPEN_UNTRACKED);
    assert_eq!(s, Status::OK);
    let stats = unsafe { &*reg.0 }.stats();
    assert_eq!((stats.tracked, stats.registered), (0, 0));
    assert_eq!(stats.mapped_bytes, 100);
    assert_eq!(reg.count(), 0);
    assert!(!reg.contains(&key));
    assert_eq!(reg.unlink(&key), Status::NOT_FOUND, "nothing to untrack");
    assert!(!unsafe { triton_shm_region_data(region) }.is_null());
    assert_eq!(unsafe { triton_shm_region_close(region) }, Status::OK);
    assert_eq!(unsafe { &*reg.0 }.stats().mapped_bytes, 0);
    assert!(
        object_exists(&key),
        "closing an untracked region never unlinks, even under unlink-all"
    );
    // The control: the same open tracked, under unlink-all, unlinks on close.
    let tracked = reg.open_region(&cs(&key), 0, 100);
    assert_eq!(reg.count(), 1);
    assert_eq!(unsafe { triton_shm_region_close(tracked) }, Status::OK);
    assert!(!object_exists(&key));
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "glibc makes `/k` and `//k` one object; XNU compares names byte for byte"
)]
fn an_untracked_region_never_collides_with_a_tracked_key() {
    let (reg, key) = a_client_object(TRITON_SHM_UNLINK_ALL, 4096);
    let tracked = reg.open_region(&cs(&key), 0, 8);
    // `//k` reaches the object of `/k` under posix naming.
    let alias = format!("/{key}");
    let (s, _) = open_with_flags(&reg, &alias, 8, 0);
    assert_eq!(s, Status::NAME_COLLISION, "tracked, the alias is refused");
    let (s, untracked) = open_with_flags(&reg, &alias, 8, TRITON_SHM_OPEN_UNTRACKED);
    assert_eq!(
        s,
        Status::OK,
        "untracked, nothing can be unlinked through it"
    );
    assert_eq!(reg.count(), 1);
    unsafe {
        assert_eq!(triton_shm_region_close(untracked), Status::OK);
        assert_eq!(triton_shm_region_close(tracked), Status::OK);
    }
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn an_untracked_region_reports_its_key_short_or_long() {
    // Keys around the 62 bytes kept inline, and one past them on the heap;
    // XNU refuses names over 31 bytes, so elsewhere only a short one.
    let extras: &[usize] = if cfg!(target_os = "linux") {
        &[0, 61, 62, 63, 200]
    } else {
        &[0]
    };
    for &extra in extras {
        let key = format!("{}{}", unique_key("untr"), "k".repeat(extra));
        create_object_sized(&key, 4096);
        let reg = CRegistry::posix();
        let (s, region) = open_with_flags(&reg, &key, 8, TRITON_SHM_OPEN_UNTRACKED);
        assert_eq!(s, Status::OK, "{key}");
        let mut name = [0 as c_char; 300];
        let mut n = 0;
        unsafe {
            assert_eq!(
                triton_shm_region_key(region, name.as_mut_ptr(), name.len(), &mut n),
                Status::OK
            );
            assert_eq!(CStr::from_ptr(name.as_ptr()).to_bytes(), key.as_bytes());
            assert_eq!(
                triton_shm_region_system_name(region, name.as_mut_ptr(), name.len(), &mut n),
                Status::OK
            );
            assert_eq!(CStr::from_ptr(name.as_ptr()).to_bytes(), key.as_bytes());
            assert_eq!(triton_shm_region_close(region), Status::OK);
        }
        remove_object(&key);
    }
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn an_untracked_region_under_darwin_naming_opens_the_normalised_name() {
    // A key without its leading slash: darwin naming tries the normalised
    // name, `/` + key, first, and finds the client's object there.
    let word = unique_word("untr");
    let client_name = format!("/{word}");
    create_object_sized(&client_name, 4096);
    let reg = CRegistry::darwin();
    let (s, region) = open_with_flags(&reg, &word, 8, TRITON_SHM_OPEN_UNTRACKED);
    assert_eq!(s, Status::OK);
    assert_eq!(reg.count(), 0);
    assert_eq!(unsafe { triton_shm_region_close(region) }, Status::OK);
    assert!(object_exists(&client_name));
    remove_object(&client_name);
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn region_open_refuses_an_unknown_flag_and_names_it() {
    let (reg, key) = a_client_object(TRITON_SHM_UNLINK_OWNED_ONLY, 4096);
    for flags in [2, TRITON_SHM_OPEN_UNTRACKED | 0x8000_0000] {
        let (s, region) = open_with_flags(&reg, &key, 8, flags);
        assert_eq!(s, Status::INVALID_ARGUMENT);
        assert!(region.is_null(), "out is written only on success");
        let unknown = format!("{:#x}", flags & !TRITON_SHM_OPEN_UNTRACKED);
        assert!(last_message().contains(&unknown), "{}", last_message());
    }
    remove_object(&key);
}
