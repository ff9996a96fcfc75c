//! The C ABI's options: `triton_shm_options_init` and the struct's size,
//! `triton_shm_registry_new` refusing what is out of range, and the
//! host-reserved prefixes a registry refuses.

mod common;

use common::cs;
use common::ffi::{default_options, last_message, CRegistry};
use std::ffi::CStr;
use std::ptr::{null, null_mut};
use triton_shm::ffi::options::*;
use triton_shm::ffi::region::*;
use triton_shm::ffi::registry::*;
use triton_shm::Status;

#[test]
fn options_init_records_the_struct_size() {
    assert_eq!(
        default_options().struct_size,
        std::mem::size_of::<triton_shm_options>()
    );
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn registry_new_refuses_each_out_of_range_option_and_leaves_out_alone() {
    let good = default_options();
    let mut reg = null_mut();
    for bad in [
        triton_shm_options {
            naming_policy: 3,
            ..good
        },
        triton_shm_options {
            unlink_policy: 3,
            ..good
        },
        triton_shm_options { backend: 3, ..good },
        triton_shm_options { journal: 2, ..good },
        triton_shm_options {
            reap_on_create: 7,
            ..good
        },
        triton_shm_options {
            struct_size: 0,
            ..good
        },
        triton_shm_options {
            struct_size: good.struct_size + 8,
            ..good
        },
    ] {
        assert_eq!(
            unsafe { triton_shm_registry_new(&bad, &mut reg) },
            Status::INVALID_ARGUMENT
        );
        assert!(reg.is_null(), "out is written only on success");
    }
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn registry_new_with_null_options_uses_the_defaults() {
    let mut reg = null_mut();
    assert_eq!(
        unsafe { triton_shm_registry_new(null(), &mut reg) },
        Status::OK,
        "NULL means defaults"
    );
    assert!(!reg.is_null());
    unsafe { triton_shm_registry_free(reg) };
}

#[test]
fn options_init_refuses_a_too_small_struct_without_writing_it() {
    let mut small = [0xAAu8; 8];
    let s = unsafe { triton_shm_options_init(small.as_mut_ptr().cast(), small.len()) };
    assert_eq!(s, Status::INVALID_ARGUMENT);
    assert!(
        small.iter().all(|&b| b == 0xAA),
        "a too-small struct was written"
    );
    assert!(
        last_message().contains("opts_size is 8"),
        "{}",
        last_message()
    );
}

#[test]
fn options_init_zeroes_what_a_larger_struct_has_after_the_fields_it_knows() {
    // A caller compiled against a larger, future struct: our part is
    // filled, the caller's fields after it are zeroed, struct_size says how
    // much we know, and nothing past the caller's struct is touched.
    let ours = std::mem::size_of::<triton_shm_options>();
    let mut big = vec![0xAAu8; ours + 32];
    let s = unsafe { triton_shm_options_init(big.as_mut_ptr().cast(), ours + 16) };
    assert_eq!(s, Status::OK);
    assert!(
        big[ours..ours + 16].iter().all(|&b| b == 0),
        "left the caller's extra fields as they were"
    );
    assert!(
        big[ours + 16..].iter().all(|&b| b == 0xAA),
        "wrote past the caller's struct"
    );
    let filled = unsafe { big.as_ptr().cast::<triton_shm_options>().read_unaligned() };
    assert_eq!(filled.struct_size, ours);
    assert_eq!((filled.journal, filled.reap_on_create), (1, 1));
}

/// A registry whose options reserve `prefix` for the host.
fn registry_reserving(prefix: &CStr) -> CRegistry {
    let list = [prefix.as_ptr()];
    // The registry copies the prefixes: `list` may go after registry_new.
    CRegistry::with(triton_shm_options {
        reserved_prefix_count: 1,
        reserved_prefixes: list.as_ptr(),
        ..default_options()
    })
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn region_create_refuses_a_host_reserved_prefix() {
    let reg = registry_reserving(&cs("/host_"));
    let mut region = null_mut();
    let key = cs("///host_thing");
    assert_eq!(
        unsafe { triton_shm_region_create(reg.0, key.as_ptr(), 8, 0, &mut region) },
        Status::RESERVED_NAME
    );
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn register_refuses_a_host_reserved_prefix() {
    let reg = registry_reserving(&cs("/host_"));
    assert_eq!(reg.register("///host_thing", true), Status::RESERVED_NAME);
}
