//! Hostile state directories and journals are refused or tolerated as
//! documented, and never followed. The state directory is touched only
//! when a registry first needs a journal, and its errors say what failed.
// Not under miri: every test here makes system calls (it creates and inspects real state directories).
#![cfg(not(miri))]

mod common;

use common::{options, reap, scratch};
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use triton_shm::journal::{self, created_line, header_line};
use triton_shm::{Options, Registry, Status};

/// The error of the first owned region of a registry on `dir`.
fn first_owned_region_error(dir: &Path) -> triton_shm::Error {
    let reg =
        Registry::new(options(dir)).expect("a registry never fails because of its state directory");
    let key = common::unique_key("sd");
    let e = reg.create_region(key.as_bytes(), 4096).unwrap_err();
    assert!(
        !common::object_exists(&key),
        "a region was created without its journal"
    );
    e
}

fn refused(dir: &Path) -> String {
    let e = first_owned_region_error(dir);
    assert_eq!(e.status(), Status::PERMISSION_DENIED, "{e}");
    e.message().to_owned()
}

fn mkdir(dir: &Path, mode: u32) {
    std::fs::create_dir(dir).unwrap();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn a_missing_directory_is_created_0700_on_the_first_owned_region() {
    let dir = scratch("new");
    let reg = Registry::new(options(&dir)).unwrap();
    assert!(
        !dir.exists(),
        "a registry touches its state directory only when it needs a journal"
    );
    let key = common::unique_key("new");
    let region = reg.create_region(key.as_bytes(), 4096).unwrap();
    let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    region.close().unwrap();
    drop(reg);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_refused_directory_does_not_stop_a_registry_that_only_maps_client_regions() {
    let dir = scratch("server");
    mkdir(&dir, 0o777);
    let reg = Registry::new(options(&dir)).unwrap();
    let client = common::unique_key("cl");
    common::create_object(&client);
    let region = reg.open_region(client.as_bytes(), 0, 4096).unwrap();
    region.close().unwrap();
    assert!(
        common::object_exists(&client),
        "a client's region is never unlinked"
    );
    let message = refused(&dir);
    assert!(message.contains("writable by group or others"), "{message}");
    common::remove_object(&client);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_state_directory_that_cannot_be_made_reports_its_errno() {
    let missing_parent = scratch("noparent").join("child");
    let e = first_owned_region_error(&missing_parent);
    assert_eq!(
        (e.status(), e.errno()),
        (Status::NOT_FOUND, Some(libc::ENOENT)),
        "{e}"
    );
    assert!(e.message().contains("state directory"), "{e}");
    let long = std::env::temp_dir().join("x".repeat(300));
    let e = first_owned_region_error(&long);
    assert_eq!(
        (e.status(), e.errno()),
        (Status::OS_ERROR, Some(libc::ENAMETOOLONG)),
        "{e}"
    );
}

#[test]
fn a_symlinked_directory_is_refused_and_not_followed() {
    let real = scratch("real");
    mkdir(&real, 0o700);
    let link = scratch("link");
    symlink(&real, &link).unwrap();
    let message = refused(&link);
    assert!(message.contains("symlink"), "{message}");
    assert_eq!(
        std::fs::read_dir(&real).unwrap().count(),
        0,
        "nothing was written through the link"
    );
    std::fs::remove_file(&link).unwrap();
    std::fs::remove_dir_all(&real).unwrap();
}

#[test]
fn a_directory_writable_by_others_is_refused() {
    let dir = scratch("open");
    mkdir(&dir, 0o777);
    let message = refused(&dir);
    assert!(message.contains("writable by group or others"), "{message}");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o770)).unwrap();
    refused(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_directory_of_another_owner_is_refused() {
    let dir = if nix::unistd::geteuid().is_root() {
        let dir = scratch("other");
        mkdir(&dir, 0o700);
        nix::unistd::chown(&dir, Some(nix::unistd::Uid::from_raw(65534)), None).unwrap();
        dir
    } else {
        PathBuf::from("/") // owned by root, not by this user
    };
    let message = refused(&dir);
    assert!(message.contains("not by this user"), "{message}");
    if dir != Path::new("/") {
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn a_callers_directory_readable_by_others_is_used_and_left_as_it_is() {
    let dir = scratch("loose");
    mkdir(&dir, 0o755);
    let reg = Registry::new(options(&dir)).unwrap();
    let key = common::unique_key("loose");
    let region = reg.create_region(key.as_bytes(), 4096).unwrap();
    let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        mode, 0o755,
        "the library changed the mode of a directory it did not create"
    );
    region.close().unwrap();
    drop(reg);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn garbage_and_torn_journals_are_tolerated() {
    let dir = scratch("garbage");
    mkdir(&dir, 0o700);
    let real = common::unique_key("j");
    common::create_object(&real);
    let torn_name = common::unique_key("torn");
    common::create_object(&torn_name);
    let mut text = header_line(1, "posix", 0);
    text += "complete garbage\n\u{1}\u{2}\n";
    text += &created_line(real.as_bytes(), 4096, 0);
    let torn = created_line(torn_name.as_bytes(), 4096, 0);
    text += &torn[..torn.len() - 1]; // no newline: torn by a crash
    std::fs::write(dir.join("1-0-0.journal"), text).unwrap();
    std::fs::write(dir.join("2-0-0.journal"), b"\xff\xfe not even text").unwrap();
    std::fs::write(dir.join("3-0-0.journal"), b"").unwrap();

    let listed = journal::list_journals(&dir).unwrap();
    assert_eq!(listed.len(), 3);
    assert_eq!(listed[0].bad_lines, 2);
    assert!(listed.iter().all(|j| !j.alive));

    let report = journal::reap_stale(&dir, triton_shm::os::system(), false).unwrap();
    assert_eq!((report.journals_reaped, report.regions_unlinked), (3, 1));
    assert!(
        !common::object_exists(&real),
        "the complete record was reaped"
    );
    assert!(
        common::object_exists(&torn_name),
        "a torn record is not acted on"
    );
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    common::remove_object(&torn_name);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn symlinked_or_foreign_journals_are_skipped_never_followed() {
    let dir = scratch("links");
    mkdir(&dir, 0o700);
    let outside = scratch("target");
    let victim = common::unique_key("v");
    common::create_object(&victim);
    std::fs::write(
        &outside,
        header_line(1, "posix", 0) + &created_line(victim.as_bytes(), 1, 0),
    )
    .unwrap();
    symlink(&outside, dir.join("9-0-0.journal")).unwrap();
    let mut skipped = 1;
    if nix::unistd::geteuid().is_root() {
        let foreign = dir.join("8-0-0.journal");
        std::fs::write(
            &foreign,
            header_line(1, "posix", 0) + &created_line(victim.as_bytes(), 1, 0),
        )
        .unwrap();
        nix::unistd::chown(&foreign, Some(nix::unistd::Uid::from_raw(65534)), None).unwrap();
        skipped += 1;
    }
    let report = journal::reap_stale(&dir, triton_shm::os::system(), false).unwrap();
    assert_eq!(
        (report.journals_skipped, report.regions_unlinked),
        (skipped, 0)
    );
    assert!(
        common::object_exists(&victim),
        "a record reached through a symlink or another owner's file was acted on"
    );
    assert!(outside.exists());
    common::remove_object(&victim);
    std::fs::remove_file(&outside).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn journaling_follows_the_region_lifecycle() {
    let dir = scratch("life");
    let reg = Registry::new(options(&dir)).unwrap();
    let key = common::unique_key("life");
    let region = reg.create_region(key.as_bytes(), 100).unwrap();
    let listed = journal::list_journals(&dir).unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].alive, "the owner holds its journal's lock");
    assert_eq!(listed[0].regions.len(), 1);
    assert_eq!(listed[0].regions[0].name, key.as_bytes());
    assert_eq!(listed[0].regions[0].size, 100);
    region.close().unwrap();
    let listed = journal::list_journals(&dir).unwrap();
    assert!(
        listed[0].regions.is_empty(),
        "closing records the region as gone"
    );
    drop(reg);
    assert!(
        journal::list_journals(&dir).unwrap().is_empty(),
        "an empty journal goes with its registry"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_existing_object_is_never_recorded_as_ours() {
    let dir = scratch("exists");
    let reg = Registry::new(options(&dir)).unwrap();
    let key = common::unique_key("ex");
    common::create_object(&key);
    let e = reg.create_region(key.as_bytes(), 100).unwrap_err();
    assert_eq!(e.status(), Status::ALREADY_EXISTS);
    let listed = journal::list_journals(&dir).unwrap();
    assert!(listed.iter().all(|j| j.regions.is_empty()), "{listed:?}");
    drop(reg);
    let report = reap(&dir);
    assert_eq!(report.regions_unlinked, 0);
    assert!(common::object_exists(&key));
    common::remove_object(&key);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[test]
fn a_name_a_live_journal_lists_is_never_unlinked() {
    let dir = scratch("livename");
    let reg = Registry::new(Options {
        reap_on_create: false,
        ..options(&dir)
    })
    .unwrap();
    let key = common::unique_key("ln");
    let region = reg.create_region(key.as_bytes(), 4096).unwrap();
    // A dead owner's journal lists the same name.
    let text = header_line(1, "posix", 0) + &created_line(key.as_bytes(), 4096, now_secs());
    std::fs::write(dir.join("1-0-0.journal"), text).unwrap();
    let report = reap(&dir);
    assert!(
        common::object_exists(&key),
        "a region a live journal lists was unlinked: {report:?}"
    );
    assert_eq!(
        (
            report.regions_unlinked,
            report.journals_live,
            report.regions_deferred
        ),
        (0, 1, 1)
    );
    region.close().unwrap();
    drop(reg);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn another_users_object_under_a_listed_name_is_left_alone() {
    if !nix::unistd::geteuid().is_root() || !cfg!(target_os = "linux") {
        println!("skipped: needs root, and Linux's /dev/shm, to give an object to another user");
        return;
    }
    let dir = scratch("theirs");
    mkdir(&dir, 0o700);
    let key = common::unique_key("th");
    common::create_object(&key);
    let path = format!("/dev/shm{key}");
    nix::unistd::chown(path.as_str(), Some(nix::unistd::Uid::from_raw(65534)), None).unwrap();
    let text = header_line(1, "posix", 0) + &created_line(key.as_bytes(), 4096, now_secs());
    std::fs::write(dir.join("1-0-0.journal"), text).unwrap();
    let report = reap(&dir);
    assert!(
        common::object_exists(&key),
        "root's reap removed another user's object"
    );
    assert_eq!((report.regions_unlinked, report.regions_left_alone), (0, 1));
    common::remove_object(&key);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_record_planted_to_name_an_older_object_is_left_alone() {
    let dir = scratch("planted");
    mkdir(&dir, 0o700);
    let victim = common::unique_key("pv");
    common::create_object(&victim);
    // A record that claims to predate an object created long before it.
    let text =
        header_line(1, "posix", 0) + &created_line(victim.as_bytes(), 4096, now_secs() + 100);
    std::fs::write(dir.join("1-0-0.journal"), text).unwrap();
    let report = reap(&dir);
    assert!(
        common::object_exists(&victim),
        "a planted record removed an object: {report:?}"
    );
    assert_eq!(report.regions_left_alone, 1);
    common::remove_object(&victim);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A slot journal, as a dead owner in boot `boot` leaves it, recording the
/// creation of the existing object `name`.
fn slot_journal(name: &str, boot: Option<String>) -> Vec<u8> {
    use journal::slots;
    use std::os::fd::AsFd;
    let c = std::ffi::CString::new(name).unwrap();
    let fd = triton_shm::os::system()
        .open(&c, triton_shm::os::OpenFlags::EXISTING)
        .unwrap();
    let id = triton_shm::os::system().identity(fd.as_fd()).unwrap();
    let header = slots::SlotHeader {
        pid: 1,
        uid: id.uid,
        backend: "posix".into(),
        boot_id: boot,
        ..Default::default()
    };
    let mut bytes = slots::encode_header(&header).to_vec();
    let slot = slots::Slot {
        seq: 1,
        phase: slots::Phase::Created,
        name: name.as_bytes().to_vec(),
        size: 4096,
        since_ns: 0,
        identity: Some((id.device, id.inode, id.uid)),
    };
    for w in slots::encode_slot(&slot).unwrap() {
        bytes.extend_from_slice(&w.to_ne_bytes());
    }
    bytes
}

#[test]
fn a_journal_from_an_earlier_boot_is_removed_without_unlinking_anything() {
    let Some(boot) = triton_shm::os::boot_id() else {
        println!("skipped: this system gives no boot id");
        return;
    };
    let dir = scratch("boot");
    mkdir(&dir, 0o700);
    let key = common::unique_key("bt");
    common::create_object(&key);
    std::fs::write(
        dir.join("1-0-0.journal"),
        slot_journal(&key, Some(format!("{boot}-before"))),
    )
    .unwrap();
    let report = reap(&dir);
    assert!(
        common::object_exists(&key),
        "a journal of an earlier boot unlinked an object of this one"
    );
    assert_eq!((report.journals_reaped, report.regions_left_alone), (1, 1));
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "the earlier boot's journal stays"
    );
    // The same journal from this boot: the identity matches, so it goes.
    std::fs::write(
        dir.join("2-0-0.journal"),
        slot_journal(&key, Some(boot.to_owned())),
    )
    .unwrap();
    assert_eq!(reap(&dir).regions_unlinked, 1);
    assert!(!common::object_exists(&key));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn half_made_journals_of_killed_owners_are_removed_once_old() {
    let dir = scratch("temps");
    mkdir(&dir, 0o700);
    let old = dir.join(".1-0-0.tmp");
    let fresh = dir.join(".2-0-0.tmp");
    std::fs::write(&old, b"").unwrap();
    std::fs::write(&fresh, b"").unwrap();
    let long_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(600);
    std::fs::File::options()
        .write(true)
        .open(&old)
        .unwrap()
        .set_modified(long_ago)
        .unwrap();
    reap(&dir);
    assert!(!old.exists(), "a half-made journal stays forever");
    assert!(fresh.exists(), "a journal being made right now was removed");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_new_journal_never_replaces_a_journal_of_the_same_name() {
    let dir = scratch("collide");
    mkdir(&dir, 0o700);
    std::fs::write(dir.join("7-0-0.journal"), b"another owner's journal").unwrap();
    let state = triton_shm::os::state_dir::StateDir::open(&dir, false).unwrap();
    let e = state
        .create_locked(".7-0-0.tmp", "7-0-0.journal", b"mine")
        .unwrap_err();
    assert_eq!(e.errno, Some(libc::EEXIST), "{e}");
    assert_eq!(
        std::fs::read(dir.join("7-0-0.journal")).unwrap(),
        b"another owner's journal"
    );
    assert!(!dir.join(".7-0-0.tmp").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}
