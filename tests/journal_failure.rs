//! When the journal cannot be made or grown (a missing directory, no
//! descriptor left, a full disk), no region is created: a region never
//! exists without its record, and the error carries the errno. When the
//! reaper cannot read every journal, it unlinks nothing; when some unlinks
//! fail, it keeps only the records still unresolved.
#![cfg(not(miri))]

mod common;

use common::{options, scratch};
use std::ffi::CStr;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::Command;
use triton_shm::journal::{self, created_line, header_line};
use triton_shm::os::{Identity, Mapping, OpenFlags, ShmBackend};
use triton_shm::{Registry, Status};

fn records(dir: &Path) -> usize {
    journal::list_journals(dir)
        .unwrap()
        .iter()
        .map(|j| j.regions.len())
        .sum()
}

#[test]
fn no_region_is_created_until_its_journal_can_be_made() {
    let parent = scratch("parent");
    let dir = parent.join("state");
    let reg = Registry::new(options(&dir)).unwrap();
    let key = common::unique_key("jf");
    for _ in 0..2 {
        let e = reg.create_region(key.as_bytes(), 4096).unwrap_err();
        assert_eq!(
            (e.status(), e.errno()),
            (Status::NOT_FOUND, Some(libc::ENOENT)),
            "{e}"
        );
        assert!(e.message().contains("state directory"), "{e}");
        assert!(
            !common::object_exists(&key),
            "a region was created without a record"
        );
    }
    assert_eq!(reg.count(), 0);
    // Once the directory can be made, the same registry records regions.
    std::fs::create_dir(&parent).unwrap();
    let region = reg.create_region(key.as_bytes(), 4096).unwrap();
    assert_eq!(records(&dir), 1);
    region.close().unwrap();
    assert_eq!(records(&dir), 0);
    drop(reg);
    std::fs::remove_dir_all(&parent).unwrap();
}

/// A backend that fails every call on a name containing `retry` with
/// `EMFILE`, and passes the rest to the real OS.
struct FailsOnRetryNames;

fn is_retry(name: &CStr) -> bool {
    name.to_bytes().windows(5).any(|w| w == b"retry")
}

impl ShmBackend for FailsOnRetryNames {
    fn name(&self) -> &'static str {
        "posix"
    }
    fn open(&self, name: &CStr, flags: OpenFlags) -> Result<OwnedFd, i32> {
        if is_retry(name) {
            return Err(libc::EMFILE);
        }
        triton_shm::os::system().open(name, flags)
    }
    fn set_size(&self, fd: BorrowedFd<'_>, size: u64) -> Result<(), i32> {
        triton_shm::os::system().set_size(fd, size)
    }
    fn size(&self, fd: BorrowedFd<'_>) -> Result<u64, i32> {
        triton_shm::os::system().size(fd)
    }
    fn map(&self, fd: BorrowedFd<'_>, offset: u64, len: usize) -> Result<Mapping, i32> {
        triton_shm::os::system().map(fd, offset, len)
    }
    fn unlink(&self, name: &CStr) -> Result<(), i32> {
        if is_retry(name) {
            return Err(libc::EMFILE);
        }
        triton_shm::os::system().unlink(name)
    }
    fn identity(&self, fd: BorrowedFd<'_>) -> Result<Identity, i32> {
        triton_shm::os::system().identity(fd)
    }
}

#[test]
fn after_a_partial_failure_only_the_unresolved_records_are_kept() {
    let _serial = common::one_process_test_at_a_time();
    let dir = scratch("partial");
    std::fs::create_dir(&dir).unwrap();
    let done = common::unique_key("done");
    let retry = common::unique_key("retry");
    let foreign = common::unique_key("foreign");
    for name in [&done, &retry, &foreign] {
        common::create_object(name);
    }
    let root = nix::unistd::geteuid().is_root() && cfg!(target_os = "linux");
    if root {
        let path = format!("/dev/shm{foreign}");
        nix::unistd::chown(path.as_str(), Some(nix::unistd::Uid::from_raw(65534)), None).unwrap();
    } else {
        println!(
            "skipped the other-user part: needs root, and Linux's /dev/shm, to give an object away"
        );
    }
    let mut text = header_line(1, "posix", 0);
    for name in [&done, &retry, &foreign] {
        text += &created_line(name.as_bytes(), 4096, 0);
    }
    std::fs::write(dir.join("1-0-0.journal"), text).unwrap();

    let report = journal::reap_stale(&dir, &FailsOnRetryNames, false).unwrap();
    assert_eq!(
        (report.regions_unlinked, report.regions_failed),
        (1, 1),
        "{report:?}"
    );
    assert_eq!(report.regions_left_alone, usize::from(root), "{report:?}");
    assert!(!common::object_exists(&done));
    assert!(
        common::object_exists(&foreign),
        "another user's object was removed"
    );
    let listed = journal::list_journals(&dir).unwrap();
    let kept: Vec<&[u8]> = listed[0]
        .regions
        .iter()
        .map(|r| r.name.as_slice())
        .collect();
    assert_eq!(
        kept,
        vec![retry.as_bytes()],
        "only the unresolved record stays"
    );

    // Another process takes the resolved name again; later reaps leave it.
    common::create_object(&done);
    let report = journal::reap_stale(&dir, &FailsOnRetryNames, false).unwrap();
    assert_eq!(
        (report.regions_unlinked, report.regions_failed),
        (0, 1),
        "{report:?}"
    );
    assert!(
        common::object_exists(&done),
        "a resolved record was replayed"
    );
    let report = journal::reap_stale(&dir, triton_shm::os::system(), false).unwrap();
    assert_eq!(report.regions_unlinked, 1);
    assert!(!common::object_exists(&retry));
    assert!(journal::list_journals(&dir).unwrap().is_empty());
    for name in [&done, &foreign] {
        common::remove_object(name);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

fn nofile() -> libc::rlimit {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the struct it is given.
    assert_eq!(
        unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) },
        0
    );
    limit
}

fn set_nofile(soft: libc::rlim_t) {
    let limit = libc::rlimit {
        rlim_cur: soft,
        ..nofile()
    };
    // SAFETY: setrlimit reads the struct it is given.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) }, 0);
}

/// One more than the highest descriptor open now.
fn next_fd() -> libc::rlim_t {
    // SAFETY: dup of stdin, closed at once; only probes the lowest free fd.
    let fd = unsafe { libc::dup(0) };
    assert!(fd >= 0);
    // SAFETY: closes the descriptor dup just returned.
    unsafe { libc::close(fd) };
    fd as libc::rlim_t
}

/// The RLIMIT_NOFILE cases run in a child process of their own, since the
/// limit is per process. Does nothing in a normal run.
#[test]
#[ignore = "entry point for the descriptor-limit child process"]
fn nofile_child() {
    let Ok(dir) = std::env::var("TRITON_SHM_NOFILE_DIR") else {
        return;
    };
    let dir = PathBuf::from(dir);
    let soft = nofile().rlim_cur;
    let reg = Registry::new(options(&dir)).unwrap();
    let key = common::unique_key("nofile");

    // No descriptor for the state directory: refused, with EMFILE, and
    // nothing created.
    set_nofile(next_fd());
    let e = reg.create_region(key.as_bytes(), 4096).unwrap_err();
    set_nofile(soft);
    assert_eq!(e.errno(), Some(libc::EMFILE), "{e}");
    assert!(!common::object_exists(&key));

    // The journal works; then no descriptor for shm_open: the record goes.
    let held = reg.create_region(key.as_bytes(), 4096).unwrap();
    let other = common::unique_key("nofile");
    set_nofile(next_fd());
    let e = reg.create_region(other.as_bytes(), 4096).unwrap_err();
    set_nofile(soft);
    assert_eq!(e.errno(), Some(libc::EMFILE), "{e}");
    assert!(!common::object_exists(&other));
    assert_eq!(records(&dir), 1, "the failed creation left its record");

    // A dead owner's journal lists the name this live registry holds. At
    // no descriptor limit may a reap unlink it: a journal it cannot read
    // may be the live one.
    std::fs::write(
        dir.join("1-0-0.journal"),
        header_line(1, "posix", 0) + &created_line(key.as_bytes(), 4096, 0),
    )
    .unwrap();
    let base = next_fd();
    for extra in 0..8 {
        set_nofile(base + extra);
        let _ = journal::reap_stale(&dir, triton_shm::os::system(), false);
        set_nofile(soft);
        assert!(
            common::object_exists(&key),
            "a reap with {extra} spare descriptor(s) removed a live region"
        );
    }
    held.close().unwrap();
    println!("nofile-ok");
}

#[test]
fn descriptor_exhaustion_never_creates_an_unrecorded_region_nor_reaps_a_live_one() {
    let _serial = common::one_process_test_at_a_time();
    let dir = scratch("nofile");
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "nofile_child",
            "--nocapture",
            "--test-threads=1",
            "-q",
        ])
        .env("TRITON_SHM_NOFILE_DIR", &dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("nofile-ok"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A tmpfs mounted for one test, unmounted when dropped.
struct SmallTmpfs(PathBuf);

impl SmallTmpfs {
    fn mount(dir: &Path, size: &str) -> Option<SmallTmpfs> {
        std::fs::create_dir_all(dir).ok()?;
        let ok = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            let _ = std::fs::remove_dir(dir);
            return None;
        }
        Some(SmallTmpfs(dir.to_owned()))
    }
}

impl Drop for SmallTmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// Fill the filesystem of `dir` with one file; returns its path.
fn fill(dir: &Path) -> PathBuf {
    use std::io::Write;
    let path = dir.join("filler");
    let mut f = std::fs::File::create(&path).unwrap();
    let page = [0xa5u8; 4096];
    while f.write_all(&page).is_ok() {}
    path
}

/// Shorten `file` by `bytes`, freeing that much space.
fn free_space(file: &Path, bytes: u64) {
    let f = std::fs::OpenOptions::new().write(true).open(file).unwrap();
    let len = f.metadata().unwrap().len();
    f.set_len(len.saturating_sub(bytes)).unwrap();
}

#[test]
fn a_full_state_filesystem_refuses_regions_with_enospc_and_loses_no_record() {
    let _serial = common::one_process_test_at_a_time();
    let dir = scratch("full");
    let Some(_mount) = SmallTmpfs::mount(&dir, "32k") else {
        println!("skipped: cannot mount a small tmpfs here (needs root and mount permission)");
        return;
    };
    let filler = fill(&dir);
    let reg = Registry::new(options(&dir)).unwrap();
    let key = |i: usize| format!("/tsmfull{}_{i}", std::process::id());
    let e = reg.create_region(key(0).as_bytes(), 4096).unwrap_err();
    assert_eq!(e.errno(), Some(libc::ENOSPC), "{e}");
    assert!(!common::object_exists(&key(0)));

    // Room for a new journal (one page), not for its growth.
    free_space(&filler, 4096);
    let mut held = Vec::new();
    let mut i = 0;
    let refused = loop {
        match reg.create_region(key(i).as_bytes(), 4096) {
            Ok(region) => held.push(region),
            Err(e) => break e,
        }
        i += 1;
        assert!(i < 1000, "the journal never ran out of room");
    };
    assert_eq!(refused.errno(), Some(libc::ENOSPC), "{refused}");
    assert!(
        !common::object_exists(&key(i)),
        "a region was created without its record"
    );
    assert_eq!(records(&dir), held.len());

    // Space again: the journal grows, and every record is whole.
    free_space(&filler, 64 * 1024);
    held.push(reg.create_region(key(i).as_bytes(), 4096).unwrap());
    let listed = journal::list_journals(&dir).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].regions.len(), listed[0].bad_lines),
        (held.len(), 0)
    );
    drop(held);
    assert_eq!(records(&dir), 0);
    drop(reg);
}
