//! The registry's semantics against the real OS, under both naming policies.

mod common;

use common::{create_object, object_exists, remove_object, unique_key, UnlinkOnly};
use triton_shm::name::NamingPolicy;
use triton_shm::{Options, Registration, Registry, Status, UnlinkPolicy, Unlinked};

fn registry(naming: NamingPolicy, unlink: UnlinkPolicy) -> Registry {
    Registry::new(Options { naming, unlink, ..Options::default() }).unwrap()
}

const POLICIES: [NamingPolicy; 2] = [NamingPolicy::Darwin, NamingPolicy::Posix];

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn register_then_unlink_removes_an_owned_object() {
    for policy in POLICIES {
        let reg = registry(policy, UnlinkPolicy::OwnedOnly);
        let key = unique_key("u");
        create_object(&key);
        assert_eq!(reg.register(key.as_bytes(), true).unwrap(), Registration::Added);
        assert!(reg.contains(key.as_bytes()));
        assert_eq!(reg.unlink(key.as_bytes()).unwrap(), Unlinked::Removed);
        assert!(!object_exists(&key), "{policy}");
        assert_eq!(reg.count(), 0);
    }
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn registering_the_same_key_twice_is_idempotent() {
    let reg = registry(NamingPolicy::Darwin, UnlinkPolicy::OwnedOnly);
    let key = unique_key("i");
    assert_eq!(reg.register(key.as_bytes(), true).unwrap(), Registration::Added);
    assert_eq!(reg.register(key.as_bytes(), true).unwrap(), Registration::AlreadyTracked);
    assert_eq!(reg.count(), 1);
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn darwin_refuses_two_keys_that_normalise_alike() {
    let reg = registry(NamingPolicy::Darwin, UnlinkPolicy::OwnedOnly);
    reg.register(b"/a/b", false).unwrap();
    let err = reg.register(b"/a_b", false).unwrap_err();
    assert_eq!(err.status(), Status::NAME_COLLISION);
    assert!(err.message().contains("'/a_b'") && err.message().contains("'/a/b'"), "{err}");
    assert_eq!(reg.count(), 1);
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn posix_refuses_two_keys_that_glibc_aliases() {
    let reg = registry(NamingPolicy::Posix, UnlinkPolicy::OwnedOnly);
    reg.register(b"/x1", false).unwrap();
    let err = reg.register(b"//x1", false).unwrap_err();
    assert_eq!(err.status(), Status::NAME_COLLISION);
    assert!(err.message().contains("'//x1'") && err.message().contains("'/x1'"), "{err}");
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn bad_names_are_refused_with_their_own_status() {
    for policy in POLICIES {
        let reg = registry(policy, UnlinkPolicy::OwnedOnly);
        for bad in ["", "/", "///"] {
            assert_eq!(reg.register(bad.as_bytes(), true).unwrap_err().status(), Status::INVALID_NAME);
            assert_eq!(reg.unlink(bad.as_bytes()).unwrap_err().status(), Status::INVALID_NAME);
        }
    }
    let darwin = registry(NamingPolicy::Darwin, UnlinkPolicy::OwnedOnly);
    let over = format!("/{}", "d".repeat(31));
    let err = darwin.register(over.as_bytes(), true).unwrap_err();
    assert_eq!(err.status(), Status::NAME_TOO_LONG);
    assert!(err.message().contains("32 bytes long, the limit is 31"), "{err}");
    let posix = registry(NamingPolicy::Posix, UnlinkPolicy::OwnedOnly);
    let over = format!("/{}", "p".repeat(256));
    assert_eq!(posix.register(over.as_bytes(), true).unwrap_err().status(), Status::NAME_TOO_LONG);
    assert_eq!(posix.register(b"/in/ner", true).unwrap_err().status(), Status::INVALID_NAME);
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn non_utf8_names_round_trip_through_the_os() {
    for policy in POLICIES {
        let reg = registry(policy, UnlinkPolicy::OwnedOnly);
        let mut key = unique_key("n").into_bytes();
        key.extend_from_slice(b"\xe9\xff");
        let system = reg.system_name(&key).unwrap();
        let name = std::str::from_utf8(&system).map(str::to_owned);
        assert!(name.is_err(), "the name must stay non-UTF-8");
        let cname = std::ffi::CString::new(system.clone()).unwrap();
        let fd = nix::sys::mman::shm_open(
            cname.as_c_str(),
            nix::fcntl::OFlag::O_CREAT | nix::fcntl::OFlag::O_RDWR,
            nix::sys::stat::Mode::from_bits_truncate(0o600),
        )
        .unwrap();
        drop(fd);
        reg.register(&key, true).unwrap();
        assert_eq!(reg.unlink(&key).unwrap(), Unlinked::Removed);
        assert_eq!(
            nix::sys::mman::shm_unlink(cname.as_c_str()),
            Err(nix::errno::Errno::ENOENT)
        );
    }
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn unlinking_an_untracked_name_is_not_found_and_touches_nothing() {
    let reg = registry(NamingPolicy::Posix, UnlinkPolicy::All);
    let key = unique_key("t");
    create_object(&key);
    let err = reg.unlink(key.as_bytes()).unwrap_err();
    assert_eq!(err.status(), Status::NOT_FOUND);
    assert!(object_exists(&key), "an untracked name must not be unlinked");
    remove_object(&key);
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn unlinking_by_an_alias_of_a_tracked_key_is_not_found() {
    let reg = registry(NamingPolicy::Darwin, UnlinkPolicy::All);
    reg.register(b"/q/r", true).unwrap();
    let err = reg.unlink(b"/q_r").unwrap_err();
    assert_eq!(err.status(), Status::NOT_FOUND);
    assert!(err.message().contains("'/q/r'"), "{err}");
    assert!(reg.contains(b"/q/r"));
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn double_unlink_reports_not_found_the_second_time() {
    let reg = registry(NamingPolicy::Posix, UnlinkPolicy::OwnedOnly);
    let key = unique_key("d");
    create_object(&key);
    reg.register(key.as_bytes(), true).unwrap();
    assert_eq!(reg.unlink(key.as_bytes()).unwrap(), Unlinked::Removed);
    assert_eq!(reg.unlink(key.as_bytes()).unwrap_err().status(), Status::NOT_FOUND);
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn an_object_already_gone_is_success_and_untracked() {
    let reg = registry(NamingPolicy::Posix, UnlinkPolicy::OwnedOnly);
    let key = unique_key("g");
    reg.register(key.as_bytes(), true).unwrap();
    assert_eq!(reg.unlink(key.as_bytes()).unwrap(), Unlinked::AlreadyGone);
    assert_eq!(reg.count(), 0);
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn owned_only_policy_keeps_regions_someone_else_created() {
    let reg = registry(NamingPolicy::Posix, UnlinkPolicy::OwnedOnly);
    let client = unique_key("c");
    create_object(&client);
    reg.register(client.as_bytes(), false).unwrap();
    assert_eq!(reg.unlink(client.as_bytes()).unwrap(), Unlinked::Released);
    assert!(object_exists(&client));
    assert!(!reg.contains(client.as_bytes()));
    remove_object(&client);
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn unlink_all_policy_removes_regions_someone_else_created() {
    let reg = registry(NamingPolicy::Darwin, UnlinkPolicy::All);
    let client = unique_key("a");
    create_object(&client);
    reg.register(client.as_bytes(), false).unwrap();
    assert_eq!(reg.unlink(client.as_bytes()).unwrap(), Unlinked::Removed);
    assert!(!object_exists(&client));
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn cleanup_all_counts_each_outcome_and_is_idempotent() {
    let reg = registry(NamingPolicy::Posix, UnlinkPolicy::OwnedOnly);
    let mine: Vec<String> = (0..3).map(|_| unique_key("m")).collect();
    for key in &mine {
        create_object(key);
        reg.register(key.as_bytes(), true).unwrap();
    }
    let gone = unique_key("x");
    reg.register(gone.as_bytes(), true).unwrap();
    let client = unique_key("k");
    create_object(&client);
    reg.register(client.as_bytes(), false).unwrap();

    let report = reg.cleanup_all();
    assert_eq!(
        (report.unlinked, report.already_gone, report.failed, report.skipped, report.released),
        (3, 1, 0, 0, 1)
    );
    assert_eq!(reg.count(), 0);
    for key in &mine {
        assert!(!object_exists(key));
    }
    assert!(object_exists(&client));
    assert_eq!(reg.cleanup_all(), triton_shm::CleanupReport::default());
    remove_object(&client);
}

/// Backends whose `shm_unlink` always fails with one errno.
static EACCES: UnlinkOnly = UnlinkOnly(|_| Err(libc::EACCES));
static EIO: UnlinkOnly = UnlinkOnly(|_| Err(libc::EIO));

#[test]
fn a_failed_unlink_keeps_the_entry_and_reports_the_errno() {
    let reg = Registry::with_backend(Options::default(), &EACCES).unwrap();
    reg.register(b"/kept", true).unwrap();
    let err = reg.unlink(b"/kept").unwrap_err();
    assert_eq!(err.status(), Status::PERMISSION_DENIED);
    assert_eq!(err.errno(), Some(libc::EACCES));
    assert!(err.message().contains("'/kept'") && err.message().contains("errno 13"), "{err}");
    assert!(reg.contains(b"/kept"));

    let reg = Registry::with_backend(Options::default(), &EIO).unwrap();
    reg.register(b"/kept", true).unwrap();
    let report = reg.cleanup_all();
    assert_eq!((report.failed, report.unlinked), (1, 0));
    assert_eq!(reg.count(), 1, "failed entries stay tracked for a retry");
    assert_eq!(reg.unlink(b"/kept").unwrap_err().status(), Status::OS_ERROR);
}
