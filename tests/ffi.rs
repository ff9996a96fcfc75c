//! Every export of the C ABI, called as C would call it: statuses, bad
//! inputs, outputs written only on success, ownership.

mod common;

use common::{create_object, object_exists, unique_key};
use std::ffi::{c_char, c_void, CStr, CString};
use std::ptr::{null, null_mut};
use triton_shm::ffi::errors::*;
use triton_shm::ffi::log::*;
use triton_shm::ffi::names::*;
use triton_shm::ffi::options::*;
use triton_shm::ffi::registry::*;
use triton_shm::ffi::version::*;
use triton_shm::{Registry, Status};

fn cs(s: &str) -> CString {
    CString::new(s).unwrap()
}

fn last_message() -> String {
    let mut buf = vec![0 as c_char; 1024];
    let mut n = 0usize;
    let s = unsafe { triton_shm_last_error_message(buf.as_mut_ptr(), buf.len(), &mut n) };
    assert_eq!(s, Status::OK);
    unsafe { CStr::from_ptr(buf.as_ptr()) }.to_string_lossy().into_owned()
}

fn normalize(name: &[u8]) -> (Status, String) {
    let name = CString::new(name).unwrap();
    let mut out = [0 as c_char; 64];
    let mut n = 0usize;
    let s = unsafe { triton_shm_normalize_name(name.as_ptr(), out.as_mut_ptr(), out.len(), &mut n) };
    let text = unsafe { CStr::from_ptr(out.as_ptr()) }.to_string_lossy().into_owned();
    if s == Status::OK {
        assert_eq!(n, text.len());
    }
    (s, text)
}

fn new_registry(naming: u32, unlink: u32) -> *mut Registry {
    let mut opts = std::mem::MaybeUninit::<triton_shm_options>::uninit();
    assert_eq!(unsafe { triton_shm_options_init(opts.as_mut_ptr(), std::mem::size_of::<triton_shm_options>()) }, Status::OK);
    let mut opts = unsafe { opts.assume_init() };
    opts.naming_policy = naming;
    opts.unlink_policy = unlink;
    let mut reg = null_mut();
    assert_eq!(unsafe { triton_shm_registry_new(&opts, &mut reg) }, Status::OK);
    assert!(!reg.is_null());
    reg
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
        assert_eq!(normalize(input.as_bytes()), (Status::OK, expected.to_owned()));
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
    assert!(out.iter().all(|&c| c == b'#' as c_char), "buffer was written");
    let mut exact = [0 as c_char; 19];
    let s = unsafe { triton_shm_normalize_name(name.as_ptr(), exact.as_mut_ptr(), 19, null_mut()) };
    assert_eq!(s, Status::OK, "out_written may be NULL");
    assert_eq!(unsafe { CStr::from_ptr(exact.as_ptr()) }.to_bytes(), b"/path_with_slashes");
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn null_pointers_give_null_argument() {
    let name = cs("/x");
    let mut out = [0 as c_char; 8];
    let reg = triton_shm_default_registry();
    unsafe {
        assert_eq!(triton_shm_normalize_name(null(), out.as_mut_ptr(), 8, null_mut()), Status::NULL_ARGUMENT);
        assert_eq!(triton_shm_normalize_name(name.as_ptr(), null_mut(), 8, null_mut()), Status::NULL_ARGUMENT);
        assert_eq!(triton_shm_system_name(null(), out.as_mut_ptr(), 8, null_mut()), Status::NULL_ARGUMENT);
        assert_eq!(triton_shm_system_name(name.as_ptr(), null_mut(), 8, null_mut()), Status::NULL_ARGUMENT);
        assert_eq!(
            triton_shm_registry_system_name(null(), name.as_ptr(), out.as_mut_ptr(), 8, null_mut()),
            Status::NULL_ARGUMENT
        );
        assert_eq!(triton_shm_register_region(null()), Status::NULL_ARGUMENT);
        assert_eq!(triton_shm_unlink_region(null()), Status::NULL_ARGUMENT);
        assert_eq!(triton_shm_options_init(null_mut(), 64), Status::NULL_ARGUMENT);
        assert_eq!(triton_shm_registry_new(null(), null_mut()), Status::NULL_ARGUMENT);
        assert_eq!(triton_shm_registry_register(null_mut(), name.as_ptr(), true), Status::NULL_ARGUMENT);
        assert_eq!(triton_shm_registry_register(reg, null(), true), Status::NULL_ARGUMENT);
        assert_eq!(triton_shm_registry_unlink(null_mut(), name.as_ptr()), Status::NULL_ARGUMENT);
        assert_eq!(triton_shm_registry_unlink(reg, null()), Status::NULL_ARGUMENT);
        assert_eq!(triton_shm_registry_cleanup_all(null_mut(), null_mut()), Status::NULL_ARGUMENT);
        let mut count = 0usize;
        assert_eq!(triton_shm_registry_count(null(), &mut count), Status::NULL_ARGUMENT);
        assert_eq!(triton_shm_registry_count(reg, null_mut()), Status::NULL_ARGUMENT);
        let mut yes = false;
        assert_eq!(triton_shm_registry_contains(null(), name.as_ptr(), &mut yes), Status::NULL_ARGUMENT);
        assert_eq!(triton_shm_registry_contains(reg, null(), &mut yes), Status::NULL_ARGUMENT);
        assert_eq!(triton_shm_registry_contains(reg, name.as_ptr(), null_mut()), Status::NULL_ARGUMENT);
        assert_eq!(triton_shm_last_error_message(null_mut(), 8, null_mut()), Status::NULL_ARGUMENT);
    }
    assert!(last_message().contains("'out' is NULL"), "{}", last_message());
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn system_name_follows_each_policy() {
    let darwin = new_registry(TRITON_SHM_NAMING_DARWIN, TRITON_SHM_UNLINK_OWNED_ONLY);
    let posix = new_registry(TRITON_SHM_NAMING_POSIX, TRITON_SHM_UNLINK_OWNED_ONLY);
    let mut out = [0 as c_char; 300];
    let mut n = 0;
    let name_of = |reg, key: &str, out: &mut [c_char], n: &mut usize| unsafe {
        triton_shm_registry_system_name(reg, cs(key).as_ptr(), out.as_mut_ptr(), out.len(), n)
    };
    assert_eq!(name_of(darwin, "/a/b", &mut out, &mut n), Status::OK);
    assert_eq!(unsafe { CStr::from_ptr(out.as_ptr()) }.to_bytes(), b"/a_b");
    assert_eq!(name_of(posix, "//a", &mut out, &mut n), Status::OK);
    assert_eq!(unsafe { CStr::from_ptr(out.as_ptr()) }.to_bytes(), b"//a");
    assert_eq!(name_of(posix, "/a/b", &mut out, &mut n), Status::INVALID_NAME);
    let at_limit = format!("/{}", "x".repeat(30));
    let over = format!("/{}", "x".repeat(31));
    assert_eq!(name_of(darwin, &at_limit, &mut out, &mut n), Status::OK);
    assert_eq!(name_of(darwin, &over, &mut out, &mut n), Status::NAME_TOO_LONG);
    let at_limit = format!("/{}", "y".repeat(255));
    let over = format!("/{}", "y".repeat(256));
    assert_eq!(name_of(posix, &at_limit, &mut out, &mut n), Status::OK);
    assert_eq!(name_of(posix, &over, &mut out, &mut n), Status::NAME_TOO_LONG);
    assert!(last_message().contains("256 bytes long, the limit is 255"), "{}", last_message());
    // The default registry follows the platform: posix on Linux.
    let s = unsafe { triton_shm_system_name(cs("//k").as_ptr(), out.as_mut_ptr(), out.len(), &mut n) };
    assert_eq!(s, Status::OK);
    assert_eq!(unsafe { CStr::from_ptr(out.as_ptr()) }.to_bytes(), b"//k");
    unsafe {
        triton_shm_registry_free(darwin);
        triton_shm_registry_free(posix);
    }
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn options_are_validated() {
    let mut opts = std::mem::MaybeUninit::<triton_shm_options>::uninit();
    assert_eq!(unsafe { triton_shm_options_init(opts.as_mut_ptr(), std::mem::size_of::<triton_shm_options>()) }, Status::OK);
    let good = unsafe { opts.assume_init() };
    assert_eq!(good.struct_size, std::mem::size_of::<triton_shm_options>());
    let mut reg = null_mut();
    for bad in [
        triton_shm_options { naming_policy: 3, ..good },
        triton_shm_options { unlink_policy: 3, ..good },
        triton_shm_options { backend: 3, ..good },
        triton_shm_options { journal: 2, ..good },
        triton_shm_options { reap_on_create: 7, ..good },
        triton_shm_options { struct_size: 0, ..good },
        triton_shm_options { struct_size: good.struct_size + 8, ..good },
    ] {
        assert_eq!(unsafe { triton_shm_registry_new(&bad, &mut reg) }, Status::INVALID_ARGUMENT);
        assert!(reg.is_null(), "out is written only on success");
    }
    assert_eq!(unsafe { triton_shm_registry_new(null(), &mut reg) }, Status::OK, "NULL means defaults");
    unsafe { triton_shm_registry_free(reg) };
}

#[test]
fn options_init_writes_no_more_than_the_callers_size() {
    let ours = std::mem::size_of::<triton_shm_options>();
    let mut small = [0xAAu8; 8];
    let s = unsafe { triton_shm_options_init(small.as_mut_ptr().cast(), small.len()) };
    assert_eq!(s, Status::INVALID_ARGUMENT);
    assert!(small.iter().all(|&b| b == 0xAA), "a too-small struct was written");
    assert!(last_message().contains("opts_size is 8"), "{}", last_message());
    // A caller compiled against a larger, future struct: only our part is
    // written, and struct_size says how much.
    let mut big = vec![0xAAu8; ours + 16];
    let s = unsafe { triton_shm_options_init(big.as_mut_ptr().cast(), big.len()) };
    assert_eq!(s, Status::OK);
    assert!(big[ours..].iter().all(|&b| b == 0xAA), "wrote past the fields it knows");
    let filled = unsafe { big.as_ptr().cast::<triton_shm_options>().read_unaligned() };
    assert_eq!(filled.struct_size, ours);
    assert_eq!((filled.journal, filled.reap_on_create), (1, 1));
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn registry_lifecycle_through_the_abi() {
    let reg = new_registry(TRITON_SHM_NAMING_DARWIN, TRITON_SHM_UNLINK_OWNED_ONLY);
    let key = unique_key("abi");
    let ckey = cs(&key);
    create_object(&key);
    let client = unique_key("cli");
    create_object(&client);
    unsafe {
        assert_eq!(triton_shm_registry_register(reg, ckey.as_ptr(), true), Status::OK);
        assert_eq!(triton_shm_registry_register(reg, ckey.as_ptr(), true), Status::OK);
        assert_eq!(triton_shm_registry_register(reg, cs(&client).as_ptr(), false), Status::OK);
        let mut count = 0;
        assert_eq!(triton_shm_registry_count(reg, &mut count), Status::OK);
        assert_eq!(count, 2);
        let mut yes = false;
        assert_eq!(triton_shm_registry_contains(reg, ckey.as_ptr(), &mut yes), Status::OK);
        assert!(yes);
        assert_eq!(triton_shm_registry_contains(reg, cs("").as_ptr(), &mut yes), Status::OK);
        assert!(!yes);
        assert_eq!(triton_shm_registry_register(reg, cs("/a/b").as_ptr(), true), Status::OK);
        assert_eq!(triton_shm_registry_register(reg, cs("/a_b").as_ptr(), false), Status::NAME_COLLISION);
        let msg = last_message();
        assert!(msg.contains("'/a_b'") && msg.contains("'/a/b'"), "{msg}");

        assert_eq!(triton_shm_registry_unlink(reg, ckey.as_ptr()), Status::OK);
        assert!(!object_exists(&key));
        assert_eq!(triton_shm_registry_unlink(reg, ckey.as_ptr()), Status::NOT_FOUND);
        assert!(last_message().contains(&key), "{}", last_message());

        let mut report = triton_shm::CleanupReport::default();
        assert_eq!(triton_shm_registry_cleanup_all(reg, &mut report), Status::OK);
        // '/a/b' was registered as owned but never created: already gone.
        assert_eq!(
            (report.unlinked, report.already_gone, report.released, report.failed),
            (0, 1, 1, 0)
        );
        assert!(object_exists(&client), "a client's region survives cleanup by default");
        assert_eq!(triton_shm_registry_cleanup_all(reg, &mut report), Status::OK);
        assert_eq!((report.unlinked, report.released), (0, 0));
        triton_shm_registry_free(reg);
        triton_shm_registry_free(null_mut());
    }
    common::remove_object(&client);
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn seed_functions_use_the_default_registry() {
    let key = unique_key("seed");
    create_object(&key);
    let ckey = cs(&key);
    unsafe {
        assert_eq!(triton_shm_register_region(ckey.as_ptr()), Status::OK);
        let mut yes = false;
        assert_eq!(triton_shm_registry_contains(triton_shm_default_registry(), ckey.as_ptr(), &mut yes), Status::OK);
        assert!(yes);
        assert_eq!(triton_shm_unlink_region(ckey.as_ptr()), Status::OK);
        assert!(!object_exists(&key));
        assert_eq!(triton_shm_unlink_region(ckey.as_ptr()), Status::NOT_FOUND);
        assert_eq!(triton_shm_register_region(cs("///").as_ptr()), Status::INVALID_NAME);
        assert_eq!(triton_shm_cleanup_all(null_mut()), Status::OK, "report may be NULL");
        // Freeing the default registry does nothing; it still works after.
        triton_shm_registry_free(triton_shm_default_registry());
        let mut count = usize::MAX;
        assert_eq!(triton_shm_registry_count(triton_shm_default_registry(), &mut count), Status::OK);
        assert_ne!(count, usize::MAX);
    }
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn last_error_is_cleared_by_success_and_kept_by_reads() {
    unsafe {
        assert_eq!(triton_shm_unlink_region(cs("/never-registered").as_ptr()), Status::NOT_FOUND);
    }
    let first = last_message();
    assert!(first.contains("/never-registered"), "{first}");
    assert_eq!(last_message(), first, "reading does not clear it");
    let mut tiny = [0 as c_char; 4];
    let mut need = 0;
    let s = unsafe { triton_shm_last_error_message(tiny.as_mut_ptr(), tiny.len(), &mut need) };
    assert_eq!(s, Status::BUFFER_TOO_SMALL);
    assert_eq!(need, first.len());
    let truncated = unsafe { CStr::from_ptr(tiny.as_ptr()) }.to_string_lossy().into_owned();
    assert_eq!(truncated, first[..3], "the message's beginning, NUL-terminated");
    assert_eq!(last_message(), first, "a failed read does not clear it");
    assert_eq!(triton_shm_last_errno(), 0, "no system call failed");
    let mut out = [0 as c_char; 8];
    assert_eq!(unsafe { triton_shm_normalize_name(cs("/ok").as_ptr(), out.as_mut_ptr(), 8, null_mut()) }, Status::OK);
    assert_eq!(last_message(), "");
}

#[test]
fn status_names_cover_every_status_and_unknown_values() {
    for status in Status::all() {
        let name = unsafe { CStr::from_ptr(triton_shm_status_name(*status as u32)) };
        assert_eq!(name.to_str().unwrap(), status.name());
        assert!(name.to_str().unwrap().starts_with("TRITON_SHM_"));
    }
    let unknown = unsafe { CStr::from_ptr(triton_shm_status_name(12345)) };
    assert_eq!(unknown.to_bytes(), b"TRITON_SHM_UNKNOWN_STATUS");
}

#[test]
fn version_agrees_with_cargo_toml() {
    let v = unsafe { CStr::from_ptr(triton_shm_version()) };
    assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    let manifest = include_str!("../Cargo.toml");
    let line = manifest.lines().find(|l| l.starts_with("version = ")).unwrap();
    assert_eq!(line, format!("version = \"{}\"", v.to_str().unwrap()));
}

unsafe extern "C" fn collect(level: triton_shm::Level, message: *const c_char, user_data: *mut c_void) {
    let sink = unsafe { &*(user_data as *const std::sync::Mutex<Vec<(u32, String)>>) };
    let text = unsafe { CStr::from_ptr(message) }.to_string_lossy().into_owned();
    sink.lock().unwrap().push((level as u32, text));
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn log_callback_receives_messages_until_cleared() {
    static SEEN: std::sync::Mutex<Vec<(u32, String)>> = std::sync::Mutex::new(Vec::new());
    let key = unique_key("log");
    let reg = new_registry(TRITON_SHM_NAMING_POSIX, TRITON_SHM_UNLINK_OWNED_ONLY);
    unsafe {
        assert_eq!(
            triton_shm_set_log_callback(Some(collect), &SEEN as *const _ as *mut c_void),
            Status::OK
        );
        // Owned but never created: unlink finds it already gone and warns.
        assert_eq!(triton_shm_registry_register(reg, cs(&key).as_ptr(), true), Status::OK);
        assert_eq!(triton_shm_registry_unlink(reg, cs(&key).as_ptr()), Status::OK);
        assert_eq!(triton_shm_set_log_callback(None, null_mut()), Status::OK);
        assert_eq!(triton_shm_registry_register(reg, cs(&key).as_ptr(), true), Status::OK);
        assert_eq!(triton_shm_registry_unlink(reg, cs(&key).as_ptr()), Status::OK);
        triton_shm_registry_free(reg);
    }
    let seen = SEEN.lock().unwrap();
    let warnings: Vec<_> = seen
        .iter()
        .filter(|(level, text)| *level == triton_shm::Level::Warn as u32 && text.contains(&key))
        .collect();
    assert_eq!(warnings.len(), 1, "{seen:?}");
    assert!(warnings[0].1.contains("already gone"), "{seen:?}");
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn region_exports_check_their_arguments_and_round_trip_data() {
    use triton_shm::ffi::region::*;
    let reg = new_registry(TRITON_SHM_NAMING_DARWIN, TRITON_SHM_UNLINK_OWNED_ONLY);
    let key = cs(&unique_key("reg"));
    let mut region = null_mut();
    unsafe {
        assert_eq!(triton_shm_region_create(null_mut(), key.as_ptr(), 8, 0, &mut region), Status::NULL_ARGUMENT);
        assert_eq!(triton_shm_region_create(reg, null(), 8, 0, &mut region), Status::NULL_ARGUMENT);
        assert_eq!(triton_shm_region_create(reg, key.as_ptr(), 8, 0, null_mut()), Status::NULL_ARGUMENT);
        assert_eq!(triton_shm_region_create(reg, key.as_ptr(), 8, 1, &mut region), Status::INVALID_ARGUMENT);
        assert_eq!(triton_shm_region_create(reg, key.as_ptr(), 0, 0, &mut region), Status::INVALID_ARGUMENT);
        assert_eq!(triton_shm_region_open(null_mut(), key.as_ptr(), 0, 8, 0, &mut region), Status::NULL_ARGUMENT);
        assert_eq!(triton_shm_region_open(reg, null(), 0, 8, 0, &mut region), Status::NULL_ARGUMENT);
        assert_eq!(triton_shm_region_open(reg, key.as_ptr(), 0, 8, 0, null_mut()), Status::NULL_ARGUMENT);
        assert_eq!(triton_shm_region_open(reg, key.as_ptr(), 0, 8, 0, &mut region), Status::NOT_FOUND);
        assert_eq!(triton_shm_last_errno(), libc::ENOENT);
        assert!(region.is_null(), "out is written only on success");

        assert_eq!(triton_shm_region_create(reg, key.as_ptr(), 64, 0, &mut region), Status::OK);
        let mut twice = null_mut();
        assert_eq!(triton_shm_region_create(reg, key.as_ptr(), 64, 0, &mut twice), Status::ALREADY_EXISTS);
        assert!(twice.is_null());
        let data = triton_shm_region_data(region).cast::<u8>();
        assert!(!data.is_null());
        std::ptr::copy_nonoverlapping(b"abcdef".as_ptr(), data, 6);
        assert_eq!(triton_shm_region_size(region), 64);

        let mut reader = null_mut();
        assert_eq!(triton_shm_region_open(reg, key.as_ptr(), 3, 3, 0, &mut reader), Status::OK);
        let got = std::slice::from_raw_parts(triton_shm_region_data(reader).cast::<u8>(), 3);
        assert_eq!(got, b"def");
        assert_eq!(triton_shm_region_open(reg, key.as_ptr(), 60, 8, 0, &mut twice), Status::OUT_OF_BOUNDS);
        assert_eq!(triton_shm_region_open(reg, key.as_ptr(), usize::MAX, 8, 0, &mut twice), Status::OUT_OF_BOUNDS);

        let mut name = [0 as c_char; 64];
        let mut n = 0;
        assert_eq!(triton_shm_region_system_name(reader, name.as_mut_ptr(), 64, &mut n), Status::OK);
        assert_eq!(CStr::from_ptr(name.as_ptr()).to_bytes(), key.as_bytes());
        assert_eq!(triton_shm_region_key(reader, name.as_mut_ptr(), 64, &mut n), Status::OK);
        assert_eq!(CStr::from_ptr(name.as_ptr()).to_bytes(), key.as_bytes());
        assert_eq!(triton_shm_region_key(reader, name.as_mut_ptr(), 2, &mut n), Status::BUFFER_TOO_SMALL);
        assert_eq!(n, key.as_bytes().len());
        assert_eq!(triton_shm_region_key(null(), name.as_mut_ptr(), 64, &mut n), Status::NULL_ARGUMENT);
        assert_eq!(triton_shm_region_system_name(null(), name.as_mut_ptr(), 64, &mut n), Status::NULL_ARGUMENT);
        assert_eq!(triton_shm_region_system_name(reader, null_mut(), 64, &mut n), Status::NULL_ARGUMENT);
        assert!(triton_shm_region_data(null()).is_null());
        assert_eq!(triton_shm_region_size(null()), 0);

        assert_eq!(triton_shm_region_close(reader), Status::OK);
        assert!(object_exists(key.to_str().unwrap()), "the creator's region still holds it");
        assert_eq!(triton_shm_region_close(region), Status::OK);
        assert!(!object_exists(key.to_str().unwrap()), "closing the creator's region unlinks it");
        assert_eq!(triton_shm_region_close(null_mut()), Status::OK);
        let reserved = cs("//triton_python_backend_shm_region_1");
        assert_eq!(triton_shm_region_open(reg, reserved.as_ptr(), 0, 1, 0, &mut twice), Status::RESERVED_NAME);
        triton_shm_registry_free(reg);
    }
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn host_reserved_prefixes_come_through_the_options() {
    use triton_shm::ffi::region::*;
    let prefix = cs("/host_");
    let list = [prefix.as_ptr()];
    let mut opts = std::mem::MaybeUninit::<triton_shm_options>::uninit();
    let mut reg = null_mut();
    unsafe {
        triton_shm_options_init(opts.as_mut_ptr(), std::mem::size_of::<triton_shm_options>());
        let mut opts = opts.assume_init();
        opts.reserved_prefix_count = 1;
        assert_eq!(triton_shm_registry_new(&opts, &mut reg), Status::NULL_ARGUMENT, "count without array");
        opts.reserved_prefixes = list.as_ptr();
        assert_eq!(triton_shm_registry_new(&opts, &mut reg), Status::OK);
        let mut region = null_mut();
        let key = cs("///host_thing");
        assert_eq!(triton_shm_region_create(reg, key.as_ptr(), 8, 0, &mut region), Status::RESERVED_NAME);
        assert_eq!(triton_shm_registry_register(reg, key.as_ptr(), true), Status::RESERVED_NAME);
        triton_shm_registry_free(reg);
    }
}
