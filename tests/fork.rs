//! A forked child that runs cleanup-all leaves its parent's regions alone.
// Not under miri: every test here makes system calls (it forks).
#![cfg(not(miri))]

mod common;

use common::{create_object, object_exists, remove_object, unique_key};
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
    let mut status = 0;
    // SAFETY: waits for the child forked above.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "child saw the wrong report");
    for key in &keys {
        assert!(object_exists(key), "the child unlinked its parent's {key}");
    }
    assert!(!object_exists(&child_key), "the child's own region must be gone");
    assert_eq!(reg.cleanup_all().unlinked, 3);
    for key in &keys {
        remove_object(key);
    }
}
