//! The registry's semantics against the real OS, under both naming policies.

mod common;

use common::{
    create_object, object_exists, options, remove_object, scratch, unique_key, UnlinkOnly,
};
use triton_shm::name::NamingPolicy;
use triton_shm::{Options, Registration, Registry, Status, UnlinkPolicy, Unlinked};

fn registry(naming: NamingPolicy, unlink: UnlinkPolicy) -> Registry {
    Registry::new(Options {
        naming,
        unlink,
        ..Options::default()
    })
    .unwrap()
}

const POLICIES: [NamingPolicy; 2] = [NamingPolicy::Darwin, NamingPolicy::Posix];

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn register_then_unlink_removes_an_owned_object() {
    for policy in POLICIES {
        let reg = registry(policy, UnlinkPolicy::OwnedOnly);
        let key = unique_key("u");
        create_object(&key);
        assert_eq!(
            reg.register(key.as_bytes(), true).unwrap(),
            Registration::Added
        );
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
    assert_eq!(
        reg.register(key.as_bytes(), true).unwrap(),
        Registration::Added
    );
    assert_eq!(
        reg.register(key.as_bytes(), true).unwrap(),
        Registration::AlreadyTracked
    );
    assert_eq!(reg.count(), 1);
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn darwin_refuses_two_keys_that_normalise_alike_when_one_is_owned() {
    let reg = registry(NamingPolicy::Darwin, UnlinkPolicy::OwnedOnly);
    reg.register(b"/a/b", true).unwrap();
    let err = reg.register(b"/a_b", false).unwrap_err();
    assert_eq!(err.status(), Status::NAME_COLLISION);
    assert!(
        err.message().contains("'/a_b'") && err.message().contains("'/a/b'"),
        "{err}"
    );
    assert_eq!(reg.count(), 1);
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn posix_refuses_an_owned_key_beside_another_that_glibc_aliases() {
    let reg = registry(NamingPolicy::Posix, UnlinkPolicy::OwnedOnly);
    reg.register(b"/x1", false).unwrap();
    let err = reg.register(b"//x1", true).unwrap_err();
    assert_eq!(err.status(), Status::NAME_COLLISION);
    assert!(
        err.message().contains("'//x1'") && err.message().contains("'/x1'"),
        "{err}"
    );
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn two_client_keys_of_one_object_are_both_tracked_when_no_unlink_reaches_it() {
    for unlink in [UnlinkPolicy::OwnedOnly, UnlinkPolicy::Never] {
        let reg = registry(NamingPolicy::Posix, unlink);
        assert_eq!(reg.register(b"/x2", false).unwrap(), Registration::Added);
        assert_eq!(reg.register(b"x2", false).unwrap(), Registration::Added);
        assert_eq!(reg.count(), 2);
        assert!(reg.contains(b"/x2") && reg.contains(b"x2"));
        assert_eq!(reg.unlink(b"x2").unwrap(), triton_shm::Unlinked::Released);
        assert!(reg.contains(b"/x2") && !reg.contains(b"x2"));
        assert_eq!(reg.unlink(b"/x2").unwrap(), triton_shm::Unlinked::Released);
        assert_eq!(reg.count(), 0);
    }
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn unlink_all_refuses_even_two_client_keys_of_one_object() {
    let reg = registry(NamingPolicy::Posix, UnlinkPolicy::All);
    reg.register(b"/x3", false).unwrap();
    let err = reg.register(b"x3", false).unwrap_err();
    assert_eq!(err.status(), Status::NAME_COLLISION);
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn bad_names_are_refused_with_their_own_status() {
    for policy in POLICIES {
        let reg = registry(policy, UnlinkPolicy::OwnedOnly);
        for bad in ["", "/", "///"] {
            assert_eq!(
                reg.register(bad.as_bytes(), true).unwrap_err().status(),
                Status::INVALID_NAME
            );
            assert_eq!(
                reg.unlink(bad.as_bytes()).unwrap_err().status(),
                Status::INVALID_NAME
            );
        }
    }
    let darwin = registry(NamingPolicy::Darwin, UnlinkPolicy::OwnedOnly);
    let over = format!("/{}", "d".repeat(31));
    let err = darwin.register(over.as_bytes(), true).unwrap_err();
    assert_eq!(err.status(), Status::NAME_TOO_LONG);
    assert!(
        err.message().contains("32 bytes long, the limit is 31"),
        "{err}"
    );
    let posix = registry(NamingPolicy::Posix, UnlinkPolicy::OwnedOnly);
    let over = format!("/{}", "p".repeat(256));
    assert_eq!(
        posix.register(over.as_bytes(), true).unwrap_err().status(),
        Status::NAME_TOO_LONG
    );
    assert_eq!(
        posix.register(b"/in/ner", true).unwrap_err().status(),
        Status::INVALID_NAME
    );
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
    assert!(
        object_exists(&key),
        "an untracked name must not be unlinked"
    );
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
    assert_eq!(
        reg.unlink(key.as_bytes()).unwrap_err().status(),
        Status::NOT_FOUND
    );
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
        (
            report.unlinked,
            report.already_gone,
            report.failed,
            report.skipped,
            report.released
        ),
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
    assert!(
        err.message().contains("'/kept'") && err.message().contains("errno 13"),
        "{err}"
    );
    assert!(reg.contains(b"/kept"));

    let reg = Registry::with_backend(Options::default(), &EIO).unwrap();
    reg.register(b"/kept", true).unwrap();
    let report = reg.cleanup_all();
    assert_eq!((report.failed, report.unlinked), (1, 0));
    assert_eq!(reg.count(), 1, "failed entries stay tracked for a retry");
    assert_eq!(reg.unlink(b"/kept").unwrap_err().status(), Status::OS_ERROR);
}

/// A registry journaling into a state directory of its own.
fn journaled(tag: &str, unlink: UnlinkPolicy) -> (Registry, std::path::PathBuf) {
    let dir = scratch(tag);
    let reg = Registry::new(Options {
        unlink,
        ..options(&dir)
    })
    .unwrap();
    (reg, dir)
}

fn journal_names(dir: &std::path::Path) -> Vec<Vec<u8>> {
    triton_shm::journal::list_journals(dir)
        .unwrap()
        .into_iter()
        .flat_map(|j| j.regions.into_iter().map(|r| r.name))
        .collect()
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn a_failed_second_create_keeps_the_first_regions_record() {
    let (reg, dir) = journaled("twice", UnlinkPolicy::OwnedOnly);
    let key = unique_key("tw");
    let region = reg.create_region(key.as_bytes(), 4096).unwrap();
    let e = reg.create_region(key.as_bytes(), 4096).unwrap_err();
    assert_eq!(e.status(), Status::ALREADY_EXISTS);
    assert_eq!(
        journal_names(&dir),
        vec![key.clone().into_bytes()],
        "the live region is no longer journaled"
    );
    region.close().unwrap();
    assert!(journal_names(&dir).is_empty());
    drop(reg);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: shared memory")]
fn a_stale_region_never_releases_the_entry_made_after_an_unlink() {
    let reg = registry(NamingPolicy::Posix, UnlinkPolicy::OwnedOnly);
    let key = unique_key("st");
    let first = reg.create_region(key.as_bytes(), 4096).unwrap();
    assert_eq!(reg.unlink(key.as_bytes()).unwrap(), Unlinked::Removed);
    let second = reg.create_region(key.as_bytes(), 4096).unwrap();
    first.close().unwrap();
    assert!(
        object_exists(&key),
        "closing the first region removed the second one's object"
    );
    assert!(reg.contains(key.as_bytes()));
    second.close().unwrap();
    assert!(!object_exists(&key));
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: shared memory")]
fn a_stale_region_never_releases_the_entry_made_after_a_cleanup() {
    let reg = registry(NamingPolicy::Posix, UnlinkPolicy::OwnedOnly);
    let key = unique_key("sc");
    let first = reg.create_region(key.as_bytes(), 4096).unwrap();
    assert_eq!(reg.cleanup_all().unlinked, 1);
    let second = reg.create_region(key.as_bytes(), 4096).unwrap();
    first.close().unwrap();
    assert!(
        object_exists(&key),
        "closing the first region removed the second one's object"
    );
    second.close().unwrap();
    assert!(!object_exists(&key));
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn creating_a_region_over_a_key_tracked_as_not_owned_makes_it_owned() {
    let (reg, dir) = journaled("own", UnlinkPolicy::OwnedOnly);
    let key = unique_key("ow");
    reg.register(key.as_bytes(), false).unwrap();
    let region = reg.create_region(key.as_bytes(), 4096).unwrap();
    assert_eq!(
        journal_names(&dir),
        vec![key.clone().into_bytes()],
        "the created region is journaled"
    );
    region.close().unwrap();
    let report = reg.cleanup_all();
    assert_eq!((report.unlinked, report.released), (1, 0), "{report:?}");
    assert!(
        !object_exists(&key),
        "a region this process created was never unlinked"
    );
    drop(reg);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn a_freed_registrys_owned_regions_are_not_reaped_while_the_process_lives() {
    let (first, dir) = journaled("free", UnlinkPolicy::OwnedOnly);
    let key = unique_key("fr");
    create_object(&key);
    first.register(key.as_bytes(), true).unwrap();
    drop(first);
    let listed = triton_shm::journal::list_journals(&dir).unwrap();
    assert_eq!(listed.len(), 1);
    assert!(
        listed[0].alive,
        "freeing the registry released its journal's lock"
    );
    // The next registry of this process reaps when it first needs a journal.
    let next = Registry::new(Options {
        reap_on_create: true,
        ..options(&dir)
    })
    .unwrap();
    let other = unique_key("fr");
    let region = next.create_region(other.as_bytes(), 4096).unwrap();
    assert!(
        object_exists(&key),
        "a region this process still uses was reaped"
    );
    region.close().unwrap();
    remove_object(&key);
    drop(next);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn the_journal_stays_one_page_with_one_region_alive_through_a_million_lives() {
    let (reg, dir) = journaled("bound", UnlinkPolicy::Never);
    let kept_key = unique_key("bk");
    let kept = reg.create_region(kept_key.as_bytes(), 4096).unwrap();
    // Real creations and closes, then a million owned registrations and
    // unlinks (the policy keeps the objects, so no system call is made).
    for _ in 0..2000 {
        let key = unique_key("bc");
        reg.create_region(key.as_bytes(), 4096)
            .unwrap()
            .close()
            .unwrap();
        remove_object(&key);
    }
    let key = unique_key("bm");
    for _ in 0..1_000_000 {
        reg.register(key.as_bytes(), true).unwrap();
        reg.unlink(key.as_bytes()).unwrap();
    }
    let sizes: Vec<u64> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .collect();
    assert_eq!(sizes.len(), 1);
    assert!(sizes[0] <= 4096, "the journal grew to {} bytes", sizes[0]);
    assert_eq!(journal_names(&dir), vec![kept_key.clone().into_bytes()]);
    drop(kept);
    remove_object(&kept_key);
    drop(reg);
    let _ = std::fs::remove_dir_all(&dir);
}

/// An owned registration of an object that exists takes that object's
/// identity (one look at the name): its journal record is a creation
/// record with that identity, and a registration of a name with no object
/// stays a registration without one.
#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn an_owned_registration_of_an_existing_object_records_its_identity() {
    use triton_shm::journal::RecordKind;
    let (reg, dir) = journaled("regid", UnlinkPolicy::OwnedOnly);
    let existing = unique_key("ri");
    let absent = unique_key("ra");
    create_object(&existing);
    reg.register(existing.as_bytes(), true).unwrap();
    reg.register(absent.as_bytes(), true).unwrap();
    let records: Vec<_> = triton_shm::journal::list_journals(&dir)
        .unwrap()
        .into_iter()
        .flat_map(|j| j.regions)
        .collect();
    let kind_of = |name: &str| {
        records
            .iter()
            .find(|r| r.name == name.as_bytes())
            .map(|r| (r.kind, r.size))
            .unwrap()
    };
    match kind_of(&existing) {
        (RecordKind::Created { inode, .. }, size) => {
            assert_eq!(size, 4096);
            if cfg!(target_os = "linux") {
                let st = nix::sys::stat::stat(format!("/dev/shm{existing}").as_str()).unwrap();
                assert_eq!(inode, st.st_ino as u64, "the identity is the object's");
            }
        }
        other => panic!("an existing object's registration has no identity: {other:?}"),
    }
    assert_eq!(kind_of(&absent).0, RecordKind::Registered);
    assert_eq!(reg.unlink(existing.as_bytes()).unwrap(), Unlinked::Removed);
    assert!(!object_exists(&existing));
    drop(reg);
    let _ = std::fs::remove_dir_all(&dir);
}

/// An owned registration whose object was removed and replaced by another
/// process leaves the replacement alone on unlink, like a created region:
/// it compares identities, and scans no process. (Without an identity, the
/// replacement, which no other journal lists and no other process holds,
/// was unlinked.)
#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn an_owned_registration_whose_object_was_replaced_leaves_the_new_one() {
    for policy in POLICIES {
        let reg = registry(policy, UnlinkPolicy::OwnedOnly);
        let key = unique_key("rr");
        let system = String::from_utf8(reg.system_name(key.as_bytes()).unwrap()).unwrap();
        create_object(&system);
        reg.register(key.as_bytes(), true).unwrap();
        remove_object(&system);
        // Another size in 16 KiB granules, so that macOS, which compares
        // owner and rounded size, tells them apart too.
        common::create_object_sized(&system, 65536);
        assert_eq!(
            reg.unlink(key.as_bytes()).unwrap(),
            Unlinked::AlreadyGone,
            "{policy}"
        );
        assert!(
            object_exists(&system),
            "{policy}: the replacement was removed"
        );
        assert_eq!(reg.stats().regions_replaced, 1, "{policy}");
        remove_object(&system);
    }
}
