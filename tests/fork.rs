//! A forked child that runs cleanup-all leaves its parent's regions alone.
// Not under miri: every test here makes system calls (it forks).
#![cfg(not(miri))]

mod common;

use common::{create_object, object_exists, options, reap, remove_object, scratch, unique_key};
use triton_shm::{Options, Registry};

#[test]
fn a_forked_childs_cleanup_skips_the_parents_regions() {
    let reg = Registry::new(Options::default()).unwrap();
    let keys: Vec<String> = (0..3).map(|_| unique_key("f")).collect();
    for key in &keys {
        create_object(key);
        reg.register(key.as_bytes(), true).unwrap();
    }
    let child_key = unique_key("fc");

    // SAFETY: the child only runs the registry's cleanup (a lock no other
    // thread of this test holds, allocation, shm_unlink) and then _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        create_object(&child_key);
        let registered = reg.register(child_key.as_bytes(), true).is_ok();
        let report = reg.cleanup_all();
        let ok = registered && report.skipped == 3 && report.unlinked == 1 && report.failed == 0;
        // SAFETY: leaves the child without running the parent's test harness.
        unsafe { libc::_exit(if ok { 0 } else { 1 }) };
    }
    let status = wait_child(pid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "child saw the wrong report"
    );
    for key in &keys {
        assert!(object_exists(key), "the child unlinked its parent's {key}");
    }
    assert!(
        !object_exists(&child_key),
        "the child's own region must be gone"
    );
    assert_eq!(reg.cleanup_all().unlinked, 3);
    for key in &keys {
        remove_object(key);
    }
}

/// A registry journaling into a state directory of its own, which reaps
/// only when asked.
fn journaled(tag: &str) -> (Registry, std::path::PathBuf) {
    let dir = scratch(tag);
    let reg = Registry::new(Options {
        reap_on_create: false,
        ..options(&dir)
    })
    .unwrap();
    (reg, dir)
}

fn wait_child(pid: libc::pid_t) -> i32 {
    let mut status = 0;
    // SAFETY: waits for the child forked by the caller.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    status
}

#[test]
fn a_forked_child_closing_what_it_inherited_leaves_the_parents_journal_and_regions() {
    let (reg, dir) = journaled("inherit");
    let key = unique_key("fi");
    let region = reg.create_region(key.as_bytes(), 4096).unwrap();
    // SAFETY: the child only closes the region and drops the registry
    // (munmap, close, a lock no other thread of this test holds), then
    // _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        drop(region);
        drop(reg);
        // SAFETY: leaves the child without running the parent's test harness.
        unsafe { libc::_exit(0) };
    }
    let status = wait_child(pid);
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
    assert!(
        object_exists(&key),
        "the child's close unlinked its parent's region"
    );
    let listed = triton_shm::journal::list_journals(&dir).unwrap();
    assert_eq!(listed.len(), 1, "the child removed its parent's journal");
    assert!(listed[0].alive, "the child released its parent's lock");
    assert_eq!(
        listed[0].regions.len(),
        1,
        "the child dropped its parent's record"
    );
    let report = reap(&dir);
    assert_eq!((report.journals_live, report.regions_unlinked), (1, 0));
    assert!(object_exists(&key));
    region.close().unwrap();
    assert!(!object_exists(&key));
    drop(reg);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_forked_childs_own_regions_go_to_a_journal_of_its_own() {
    let (reg, dir) = journaled("own");
    let parents = unique_key("fp");
    let region = reg.create_region(parents.as_bytes(), 4096).unwrap();
    let childs = unique_key("fk");
    // SAFETY: the child creates one region (a journal file, shm calls, a
    // lock no other thread of this test holds) and dies by SIGKILL.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let ok = reg
            .create_region(childs.as_bytes(), 4096)
            .map(std::mem::forget)
            .is_ok();
        if ok {
            let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
        }
        // SAFETY: leaves the child without running the parent's test harness.
        unsafe { libc::_exit(1) };
    }
    let status = wait_child(pid);
    assert!(
        libc::WIFSIGNALED(status),
        "the child could not create its region"
    );
    let listed = triton_shm::journal::list_journals(&dir).unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    let alive: Vec<bool> = listed.iter().map(|j| j.alive).collect();
    assert_eq!(alive.iter().filter(|a| **a).count(), 1, "{listed:?}");
    let report = reap(&dir);
    assert_eq!(
        (
            report.journals_live,
            report.journals_reaped,
            report.regions_unlinked
        ),
        (1, 1, 1)
    );
    assert!(!object_exists(&childs), "the dead child's region survived");
    assert!(
        object_exists(&parents),
        "the live parent's region was reaped"
    );
    region.close().unwrap();
    drop(reg);
    remove_object(&childs);
    let _ = std::fs::remove_dir_all(&dir);
}
