//! Mappings through the C ABI: `triton_shm_mapping_open` gives what
//! `triton_shm_region_open` gives for every key, offset and size (its
//! direct path for plain names included), and `triton_shm_mapping_close`
//! unmaps once, refuses a struct it did not fill, and keeps a mapping whose
//! unmap failed.

mod common;

use common::ffi::{last_message, CRegistry};
use common::{create_object_sized, cs, unique_word, Sweep};
use std::ffi::{c_char, CString};
use std::ptr::null_mut;
use triton_shm::ffi::mapping::*;
use triton_shm::ffi::region::*;
use triton_shm::ffi::registry::triton_shm_registry_free;
use triton_shm::ffi::stats::triton_shm_registry_stats;
use triton_shm::Status;

/// The client's object: 64 KiB, a multiple of every page size.
const SIZE: usize = 64 * 1024;

const UNMAPPED: triton_shm_mapping = triton_shm_mapping {
    data: null_mut(),
    base: null_mut(),
    length: 0,
};

fn page() -> usize {
    usize::try_from(
        nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
            .unwrap()
            .unwrap(),
    )
    .unwrap()
}

/// What one call gave: its status, its message, and the first bytes it
/// mapped.
#[derive(Debug, PartialEq)]
struct Outcome {
    status: Status,
    message: String,
    bytes: Vec<u8>,
}

fn first_bytes(data: *const u8, byte_size: usize) -> Vec<u8> {
    let n = byte_size.min(8);
    // SAFETY: `data` is a live mapping of at least `byte_size` bytes.
    unsafe { std::slice::from_raw_parts(data, n) }.to_vec()
}

/// `triton_shm_mapping_open`, checked for the shape of what it wrote, and
/// closed again.
fn through_a_mapping(reg: &CRegistry, key: &CString, offset: usize, byte_size: usize) -> Outcome {
    let mut m = UNMAPPED;
    let status =
        unsafe { triton_shm_mapping_open(reg.0, key.as_ptr(), offset, byte_size, 0, &mut m) };
    let message = last_message();
    if status != Status::OK {
        assert!(m.base.is_null(), "out is written only on success");
        return Outcome {
            status,
            message,
            bytes: Vec::new(),
        };
    }
    let lead = offset % page();
    assert_eq!(m.base as usize % page(), 0, "{m:?}");
    assert_eq!(m.data as usize, m.base as usize + lead, "{m:?}");
    assert_eq!(m.length, lead + byte_size, "{m:?}");
    let bytes = first_bytes(m.data.cast(), byte_size);
    assert_eq!(unsafe { triton_shm_mapping_close(&mut m) }, Status::OK);
    assert!(
        m.data.is_null() && m.base.is_null() && m.length == 0,
        "{m:?}"
    );
    Outcome {
        status,
        message,
        bytes,
    }
}

/// `triton_shm_region_open`, tracked (`flags` 0): the general path.
fn through_a_tracked_region(
    reg: &CRegistry,
    key: &CString,
    offset: usize,
    byte_size: usize,
) -> Outcome {
    let mut region = null_mut();
    let status =
        unsafe { triton_shm_region_open(reg.0, key.as_ptr(), offset, byte_size, 0, &mut region) };
    let message = last_message();
    let bytes = if status == Status::OK {
        let bytes = first_bytes(unsafe { triton_shm_region_data(region) }.cast(), byte_size);
        assert_eq!(unsafe { triton_shm_region_close(region) }, Status::OK);
        bytes
    } else {
        Vec::new()
    };
    Outcome {
        status,
        message,
        bytes,
    }
}

/// A posix registry, a new 64 KiB object of this test's (removed when the
/// sweep drops), and 8 bytes at `offset` of it mapped.
fn a_mapped_object(tag: &str, offset: usize) -> (CRegistry, Sweep, triton_shm_mapping) {
    let reg = CRegistry::posix();
    let key = format!("/{}", unique_word(tag));
    create_object_sized(&key, SIZE as i64);
    let sweep = Sweep::objects(std::slice::from_ref(&key));
    let c_key = cs(&key);
    let mut m = UNMAPPED;
    assert_eq!(
        unsafe { triton_shm_mapping_open(reg.0, c_key.as_ptr(), offset, 8, 0, &mut m) },
        Status::OK
    );
    (reg, sweep, m)
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: shared memory")]
fn a_mapping_gives_what_a_region_gives_for_every_key_offset_and_size() {
    let reg = CRegistry::posix();
    let word = unique_word("map");
    let plain = format!("/{word}");
    create_object_sized(&plain, SIZE as i64);
    // Every byte of the object says where it is.
    {
        let mut m = UNMAPPED;
        let key = cs(&plain);
        assert_eq!(
            unsafe { triton_shm_mapping_open(reg.0, key.as_ptr(), 0, SIZE, 0, &mut m) },
            Status::OK
        );
        for i in 0..SIZE {
            unsafe { *m.data.cast::<u8>().add(i) = (i % 251) as u8 };
        }
        assert_eq!(unsafe { triton_shm_mapping_close(&mut m) }, Status::OK);
    }
    // Not plain, so only the general path opens it: a name that starts
    // with `triton` without being reserved.
    let triton_word = format!("tritonx{word}");
    create_object_sized(&format!("/{triton_word}"), SIZE as i64);
    let unsized_word = unique_word("map0");
    create_object_sized(&format!("/{unsized_word}"), 0);
    // Reserved, and there: only the name check refuses it.
    let reserved = format!("/triton_{word}_backend_shm_region_1");
    create_object_sized(&reserved, SIZE as i64);
    let _sweep = Sweep::objects(&[
        plain.clone(),
        format!("/{triton_word}"),
        format!("/{unsized_word}"),
        reserved.clone(),
    ]);

    // The first three are spellings of the filled object.
    let keys = [
        plain.clone(),
        word.clone(),
        format!("//{word}"),
        format!("/{triton_word}"),
        format!("/{unsized_word}"),
        format!("/{}", unique_word("missing")),
        reserved.clone(),
        format!("//{}", &reserved[1..]),
        format!("/{word}/inner"),
        "///".to_owned(),
        format!("/{}", "a".repeat(256)),
    ];
    let shapes = [
        (0, 1),
        (0, SIZE),
        (1, SIZE - 1),
        (100, 3),
        (page() + 5, 17),
        (SIZE - 1, 1),
        (SIZE, 1),
        (1, SIZE),
        (usize::MAX, 2),
        (0, 0),
    ];
    let mut compared = 0;
    for key in &keys {
        let c_key = cs(key);
        for &(offset, byte_size) in &shapes {
            let mapped = through_a_mapping(&reg, &c_key, offset, byte_size);
            let opened = through_a_tracked_region(&reg, &c_key, offset, byte_size);
            assert_eq!(
                mapped, opened,
                "key '{key}', offset {offset}, byte_size {byte_size}"
            );
            if mapped.status == Status::OK {
                let expected: Vec<u8> = (offset..offset + mapped.bytes.len())
                    .map(|i| (i % 251) as u8)
                    .collect();
                if keys[..3].contains(key) {
                    assert_eq!(mapped.bytes, expected, "key '{key}', offset {offset}");
                }
            }
            compared += 1;
        }
    }
    assert_eq!(compared, keys.len() * shapes.len());
    assert_eq!(reg.count(), 0, "a mapping leaves no entry behind");
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: shared memory")]
fn a_mapping_under_darwin_finds_the_spelling_a_client_used() {
    // Triton's C++ client hands its key to shm_open as given: on Linux,
    // `name` without a slash is the object `/name`, which the darwin
    // policy's normalised name also reaches; a key with an inner slash
    // reaches its normalised spelling only.
    let reg = CRegistry::darwin();
    let word = unique_word("mapd");
    create_object_sized(&format!("/{word}_x"), SIZE as i64);
    let _sweep = Sweep::objects(&[format!("/{word}_x")]);
    let key = cs(&format!("{word}/x"));
    let mut m = UNMAPPED;
    assert_eq!(
        unsafe { triton_shm_mapping_open(reg.0, key.as_ptr(), 0, 8, 0, &mut m) },
        Status::OK,
        "{}",
        last_message()
    );
    assert_eq!(unsafe { triton_shm_mapping_close(&mut m) }, Status::OK);
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: shared memory")]
fn a_flag_is_refused_and_out_is_left_alone() {
    let reg = CRegistry::posix();
    let key = format!("/{}", unique_word("mapf"));
    create_object_sized(&key, SIZE as i64);
    let _sweep = Sweep::objects(std::slice::from_ref(&key));
    let c_key = cs(&key);
    let mut m = UNMAPPED;
    assert_eq!(
        unsafe { triton_shm_mapping_open(reg.0, c_key.as_ptr(), 0, 8, 1, &mut m) },
        Status::INVALID_ARGUMENT
    );
    assert!(last_message().contains("pass 0"), "{}", last_message());
    assert!(m.base.is_null());
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: shared memory")]
fn closing_twice_or_closing_a_zeroed_mapping_does_nothing() {
    let mut zeroed = UNMAPPED;
    assert_eq!(unsafe { triton_shm_mapping_close(&mut zeroed) }, Status::OK);
    let (_reg, _sweep, mut m) = a_mapped_object("mapc", 0);
    assert_eq!(unsafe { triton_shm_mapping_close(&mut m) }, Status::OK);
    assert_eq!(unsafe { triton_shm_mapping_close(&mut m) }, Status::OK);
    assert_eq!(
        unsafe { triton_shm_mapping_close(std::ptr::null_mut()) },
        Status::NULL_ARGUMENT
    );
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: shared memory")]
fn a_struct_the_library_did_not_fill_is_refused_and_nothing_is_unmapped() {
    let (_reg, _sweep, mut m) = a_mapped_object("mapi", 0);
    for bad in [
        triton_shm_mapping { length: 0, ..m },
        triton_shm_mapping {
            data: m.data.wrapping_byte_add(m.length),
            ..m
        },
        triton_shm_mapping {
            data: m.base.wrapping_byte_sub(1),
            ..m
        },
    ] {
        let mut bad = bad;
        assert_eq!(
            unsafe { triton_shm_mapping_close(&mut bad) },
            Status::INVALID_ARGUMENT
        );
        assert!(
            last_message().contains("is no mapping triton_shm_mapping_open made"),
            "{}",
            last_message()
        );
    }
    // Still mapped: the bytes can be written and read.
    unsafe { *m.data.cast::<u8>() = 7 };
    assert_eq!(unsafe { *m.data.cast::<u8>() }, 7);
    assert_eq!(unsafe { triton_shm_mapping_close(&mut m) }, Status::OK);
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: shared memory")]
fn a_failed_unmap_leaves_the_struct_as_it_was() {
    let (_reg, _sweep, mut m) = a_mapped_object("mapu", 100);
    // An unaligned base, with the data still inside the range: munmap
    // refuses it (EINVAL) on Linux and macOS.
    let mut shifted = triton_shm_mapping {
        base: m.base.wrapping_byte_add(1),
        length: m.length - 1,
        ..m
    };
    let before = shifted;
    assert_eq!(
        unsafe { triton_shm_mapping_close(&mut shifted) },
        Status::OS_ERROR
    );
    assert!(last_message().contains("munmap"), "{}", last_message());
    assert_eq!(
        (shifted.data, shifted.base, shifted.length),
        (before.data, before.base, before.length)
    );
    assert_eq!(unsafe { triton_shm_mapping_close(&mut m) }, Status::OK);
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: shared memory")]
fn a_mapping_outlives_its_registry_and_counts_nowhere() {
    let (reg, _sweep, mut m) = a_mapped_object("mapo", 0);
    let mut stats = triton_shm::Stats::default();
    assert_eq!(
        unsafe { triton_shm_registry_stats(reg.0, &mut stats) },
        Status::OK
    );
    assert_eq!((stats.mapped_bytes, stats.tracked), (0, 0));
    unsafe { triton_shm_registry_free(reg.0) };
    std::mem::forget(reg);
    unsafe { m.data.cast::<c_char>().write(5) };
    assert_eq!(unsafe { triton_shm_mapping_close(&mut m) }, Status::OK);
}
