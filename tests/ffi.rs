//! Every export of the C ABI, called as C would call it: statuses, outputs
//! written only on success, ownership. One behaviour per test.
//!
//! The NULL-argument corpus (every export, every pointer argument) lives in
//! ctest/bad_inputs.c, which calls the library as a C host does; this file
//! keeps only the calls where NULL is an accepted input with a documented
//! meaning (a NULL `out_written`, NULL options).

mod common;

use common::{create_object, object_exists, unique_key};
use std::ffi::{c_char, c_void, CStr, CString};
use std::ptr::{null, null_mut};
use std::sync::{Mutex, MutexGuard};
use triton_shm::ffi::errors::*;
use triton_shm::ffi::log::*;
use triton_shm::ffi::names::*;
use triton_shm::ffi::options::*;
use triton_shm::ffi::region::*;
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
    unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

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

fn default_options() -> triton_shm_options {
    let mut opts = std::mem::MaybeUninit::<triton_shm_options>::uninit();
    assert_eq!(
        unsafe {
            triton_shm_options_init(opts.as_mut_ptr(), std::mem::size_of::<triton_shm_options>())
        },
        Status::OK
    );
    unsafe { opts.assume_init() }
}

/// A registry from `triton_shm_registry_new`, freed when dropped.
struct CRegistry(*mut Registry);

impl CRegistry {
    fn new(naming: u32, unlink: u32) -> CRegistry {
        CRegistry::with(triton_shm_options {
            naming_policy: naming,
            unlink_policy: unlink,
            ..default_options()
        })
    }

    fn with(opts: triton_shm_options) -> CRegistry {
        let mut reg = null_mut();
        assert_eq!(
            unsafe { triton_shm_registry_new(&opts, &mut reg) },
            Status::OK
        );
        assert!(!reg.is_null());
        CRegistry(reg)
    }

    fn darwin() -> CRegistry {
        CRegistry::new(TRITON_SHM_NAMING_DARWIN, TRITON_SHM_UNLINK_OWNED_ONLY)
    }

    fn posix() -> CRegistry {
        CRegistry::new(TRITON_SHM_NAMING_POSIX, TRITON_SHM_UNLINK_OWNED_ONLY)
    }

    fn register(&self, key: &str, owned: bool) -> Status {
        unsafe { triton_shm_registry_register(self.0, cs(key).as_ptr(), owned) }
    }

    fn unlink(&self, key: &str) -> Status {
        unsafe { triton_shm_registry_unlink(self.0, cs(key).as_ptr()) }
    }

    fn count(&self) -> usize {
        let mut count = usize::MAX;
        assert_eq!(
            unsafe { triton_shm_registry_count(self.0, &mut count) },
            Status::OK
        );
        count
    }

    fn contains(&self, key: &str) -> bool {
        let mut yes = false;
        assert_eq!(
            unsafe { triton_shm_registry_contains(self.0, cs(key).as_ptr(), &mut yes) },
            Status::OK
        );
        yes
    }

    fn cleanup_all(&self) -> triton_shm::CleanupReport {
        let mut report = triton_shm::CleanupReport::default();
        assert_eq!(
            unsafe { triton_shm_registry_cleanup_all(self.0, &mut report) },
            Status::OK
        );
        report
    }

    /// `(status, system name)` for `key` under this registry's policy.
    fn system_name(&self, key: &str) -> (Status, Vec<u8>) {
        let mut out = [0 as c_char; 300];
        let mut n = 0;
        let s = unsafe {
            triton_shm_registry_system_name(
                self.0,
                cs(key).as_ptr(),
                out.as_mut_ptr(),
                out.len(),
                &mut n,
            )
        };
        (
            s,
            unsafe { CStr::from_ptr(out.as_ptr()) }.to_bytes().to_vec(),
        )
    }

    fn create_region(&self, key: &CStr, size: usize) -> *mut triton_shm::Region {
        let mut region = null_mut();
        assert_eq!(
            unsafe { triton_shm_region_create(self.0, key.as_ptr(), size, 0, &mut region) },
            Status::OK
        );
        region
    }

    fn open_region(&self, key: &CStr, offset: usize, size: usize) -> *mut triton_shm::Region {
        let mut region = null_mut();
        assert_eq!(
            unsafe { triton_shm_region_open(self.0, key.as_ptr(), offset, size, 0, &mut region) },
            Status::OK
        );
        region
    }
}

impl Drop for CRegistry {
    fn drop(&mut self) {
        unsafe { triton_shm_registry_free(self.0) };
    }
}

/// Tests that change what the process-wide default registry tracks (or free
/// it) take this, so that one's cleanup never removes another's entry.
fn default_registry_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

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

// ---- names -----------------------------------------------------------------

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

// ---- options ---------------------------------------------------------------

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

// ---- a registry's entries --------------------------------------------------

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn registering_a_name_twice_is_ok_and_tracks_it_once() {
    let reg = CRegistry::darwin();
    let key = unique_key("twice");
    let client = unique_key("cli");
    assert_eq!(reg.register(&key, true), Status::OK);
    assert_eq!(reg.register(&key, true), Status::OK);
    assert_eq!(reg.register(&client, false), Status::OK);
    assert_eq!(reg.count(), 2);
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn contains_is_true_for_a_registered_name() {
    let reg = CRegistry::darwin();
    let key = unique_key("has");
    assert_eq!(reg.register(&key, true), Status::OK);
    assert!(reg.contains(&key));
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn contains_is_false_for_an_invalid_name() {
    assert!(!CRegistry::darwin().contains(""));
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn register_refuses_another_spelling_of_a_tracked_object_naming_both() {
    let reg = CRegistry::darwin();
    let base = unique_key("nest");
    let nested = format!("{base}/b");
    let flat = format!("{base}_b");
    assert_eq!(reg.register(&nested, true), Status::OK);
    assert_eq!(reg.register(&flat, false), Status::NAME_COLLISION);
    let msg = last_message();
    assert!(
        msg.contains(&format!("'{flat}'")) && msg.contains(&format!("'{nested}'")),
        "{msg}"
    );
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn unlink_removes_an_owned_object() {
    let reg = CRegistry::darwin();
    let key = unique_key("abi");
    create_object(&key);
    assert_eq!(reg.register(&key, true), Status::OK);
    assert_eq!(reg.unlink(&key), Status::OK);
    assert!(!object_exists(&key));
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn unlinking_twice_is_not_found_naming_the_key() {
    let reg = CRegistry::darwin();
    let key = unique_key("abi");
    create_object(&key);
    assert_eq!(reg.register(&key, true), Status::OK);
    assert_eq!(reg.unlink(&key), Status::OK);
    assert_eq!(reg.unlink(&key), Status::NOT_FOUND);
    assert!(last_message().contains(&key), "{}", last_message());
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn cleanup_all_finds_an_uncreated_owned_name_gone_and_releases_a_clients_name() {
    let reg = CRegistry::darwin();
    let client = unique_key("cli");
    create_object(&client);
    assert_eq!(reg.register(&client, false), Status::OK);
    // Registered as owned but never created: already gone.
    assert_eq!(
        reg.register(&format!("{}/b", unique_key("gone")), true),
        Status::OK
    );
    let report = reg.cleanup_all();
    assert_eq!(
        (
            report.unlinked,
            report.already_gone,
            report.released,
            report.failed
        ),
        (0, 1, 1, 0)
    );
    common::remove_object(&client);
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn cleanup_all_leaves_a_clients_object_by_default() {
    let reg = CRegistry::darwin();
    let client = unique_key("cli");
    create_object(&client);
    assert_eq!(reg.register(&client, false), Status::OK);
    reg.cleanup_all();
    assert!(
        object_exists(&client),
        "a client's region survives cleanup by default"
    );
    common::remove_object(&client);
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn a_second_cleanup_all_finds_nothing_left() {
    let reg = CRegistry::darwin();
    let client = unique_key("cli");
    create_object(&client);
    assert_eq!(reg.register(&client, false), Status::OK);
    reg.cleanup_all();
    let report = reg.cleanup_all();
    assert_eq!((report.unlinked, report.released), (0, 0));
    common::remove_object(&client);
}

// ---- the default registry (the seed's functions) ----------------------------

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn register_region_tracks_the_name_in_the_default_registry() {
    let _lock = default_registry_lock();
    let key = unique_key("seed");
    create_object(&key);
    let ckey = cs(&key);
    unsafe {
        assert_eq!(triton_shm_register_region(ckey.as_ptr()), Status::OK);
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
    let key = unique_key("seed");
    create_object(&key);
    let ckey = cs(&key);
    unsafe {
        assert_eq!(triton_shm_register_region(ckey.as_ptr()), Status::OK);
        assert_eq!(triton_shm_unlink_region(ckey.as_ptr()), Status::OK);
    }
    assert!(!object_exists(&key));
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn unlink_region_twice_is_not_found() {
    let _lock = default_registry_lock();
    let key = unique_key("seed");
    create_object(&key);
    let ckey = cs(&key);
    unsafe {
        assert_eq!(triton_shm_register_region(ckey.as_ptr()), Status::OK);
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

// ---- the last error --------------------------------------------------------

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

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn a_too_small_buffer_gets_the_needed_length_and_the_messages_beginning() {
    fail_with_not_found();
    let first = last_message();
    let mut tiny = [0 as c_char; 4];
    let mut need = 0;
    let s = unsafe { triton_shm_last_error_message(tiny.as_mut_ptr(), tiny.len(), &mut need) };
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
    let mut tiny = [0 as c_char; 4];
    let mut need = 0;
    let s = unsafe { triton_shm_last_error_message(tiny.as_mut_ptr(), tiny.len(), &mut need) };
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

// ---- status names and version ----------------------------------------------

#[test]
fn status_name_gives_every_status_its_c_name() {
    for status in Status::all() {
        let name = unsafe { CStr::from_ptr(triton_shm_status_name(*status as u32)) };
        assert_eq!(name.to_str().unwrap(), status.name());
        assert!(name.to_str().unwrap().starts_with("TRITON_SHM_"));
    }
}

#[test]
fn status_name_of_an_unknown_value_is_unknown_status() {
    let unknown = unsafe { CStr::from_ptr(triton_shm_status_name(12345)) };
    assert_eq!(unknown.to_bytes(), b"TRITON_SHM_UNKNOWN_STATUS");
}

#[test]
fn version_agrees_with_cargo_toml() {
    let v = unsafe { CStr::from_ptr(triton_shm_version()) };
    assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    let manifest = include_str!("../Cargo.toml");
    let line = manifest
        .lines()
        .find(|l| l.starts_with("version = "))
        .unwrap();
    assert_eq!(line, format!("version = \"{}\"", v.to_str().unwrap()));
}

// ---- the log callback ------------------------------------------------------

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
    unsafe {
        assert_eq!(
            triton_shm_set_log_callback(Some(collect), &SEEN as *const _ as *mut c_void),
            Status::OK
        );
    }
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
    unsafe {
        assert_eq!(
            triton_shm_set_log_callback(Some(collect), &SEEN as *const _ as *mut c_void),
            Status::OK
        );
        assert_eq!(triton_shm_set_log_callback(None, null_mut()), Status::OK);
    }
    unlink_an_owned_name_already_gone(&reg, &key);
    let seen = SEEN.lock().unwrap();
    assert_eq!(warnings_about(&seen, &key).len(), 0, "{seen:?}");
}

// ---- regions ---------------------------------------------------------------

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
    let reg = CRegistry::darwin();
    let key = cs(&unique_key("reg"));
    let region = reg.create_region(&key, 64);
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
    let reg = CRegistry::darwin();
    let key = cs(&unique_key("reg"));
    let region = reg.create_region(&key, 64);
    unsafe {
        assert!(!triton_shm_region_data(region).is_null());
        assert_eq!(triton_shm_region_size(region), 64);
        assert_eq!(triton_shm_region_close(region), Status::OK);
    }
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn region_open_at_an_offset_reads_what_the_creator_wrote() {
    let reg = CRegistry::darwin();
    let key = cs(&unique_key("reg"));
    let region = reg.create_region(&key, 64);
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
    let reg = CRegistry::darwin();
    let key = cs(&unique_key("reg"));
    let region = reg.create_region(&key, 64);
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
    let reg = CRegistry::darwin();
    let key = cs(&unique_key("reg"));
    let region = reg.create_region(&key, 64);
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
    let reg = CRegistry::darwin();
    let key = cs(&unique_key("reg"));
    let region = reg.create_region(&key, 64);
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
    let reg = CRegistry::darwin();
    let key = cs(&unique_key("reg"));
    let region = reg.create_region(&key, 64);
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
    let reg = CRegistry::darwin();
    let key = cs(&unique_key("reg"));
    let region = reg.create_region(&key, 64);
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

// ---- host-reserved prefixes ------------------------------------------------

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
