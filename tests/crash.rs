//! Crash safety: owners killed with SIGKILL at random moments and at each
//! step of a creation leave nothing a reap does not remove; whatever another
//! process puts under the name meanwhile survives; a live owner's regions
//! survive a reap; reapers that pause, die or race each other never replay
//! a journal.
//!
//! The children are this test binary re-run with `--ignored --exact
//! crash_child`; `TRITON_SHM_CRASH_CHILD` tells that entry point what to
//! do, `TRITON_SHM_CRASH_POINT` where to die or stop. Objects are probed
//! with `shm_open` by name (macOS has no /dev/shm to list).
// Not under miri: the children are real processes killed mid-syscall.
#![cfg(all(feature = "crash-points", not(miri)))]

mod common;

use common::{reap, xorshift, Sweep};
use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use triton_shm::{journal, Options, Registry};

const REGIONS_PER_CHILD: usize = 20;

fn options(dir: &Path, reap_on_create: bool) -> Options {
    Options {
        journal: true,
        reap_on_create,
        ..common::options(dir)
    }
}

fn prefix(tag: &str) -> String {
    format!("/tsk{}{tag}_", std::process::id())
}

fn names(prefix: &str, count: usize) -> Vec<String> {
    (0..count).map(|i| format!("{prefix}{i}")).collect()
}

fn existing(names: &[String]) -> Vec<String> {
    names
        .iter()
        .filter(|n| common::object_exists(n))
        .cloned()
        .collect()
}

/// The state directory of the test `tag`, made empty, and what removes it
/// and the objects `names` however the test ends.
fn scene(tag: &str, names: &[String]) -> (PathBuf, Sweep) {
    let dir = common::scratch(tag);
    std::fs::create_dir(&dir).unwrap();
    let sweep = Sweep::new(&dir, names);
    (dir, sweep)
}

/// The [`scene`] of a test whose children create one region under
/// `prefix(tag)`: the state directory, the prefix, the region's name, and
/// the sweep.
fn one_region(tag: &str) -> (PathBuf, String, String, Sweep) {
    let prefix = prefix(tag);
    let name = format!("{prefix}0");
    let (dir, sweep) = scene(tag, std::slice::from_ref(&name));
    (dir, prefix, name, sweep)
}

/// The journal files of `dir`.
fn journal_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.ends_with(".slots") || name.ends_with(".journal")
        })
        .map(|e| e.path())
        .collect()
}

/// How many journal files `dir` holds (none when it is gone).
fn journals(dir: &Path) -> usize {
    if dir.exists() {
        journal_files(dir).len()
    } else {
        0
    }
}

/// Entry point of the child processes; does nothing in a normal test run.
/// `hold:<prefix>:<count>` creates `count` regions and waits to be killed;
/// `register:<name>` registers `name` as owned and waits to be killed;
/// `close:<name>` creates the region `name` and closes it; `reap` reaps the
/// state directory and prints its report.
#[test]
#[ignore = "entry point for the crash tests' child processes"]
fn crash_child() {
    let Ok(what) = std::env::var("TRITON_SHM_CRASH_CHILD") else {
        return;
    };
    let dir = PathBuf::from(std::env::var("TRITON_SHM_STATE_DIR").unwrap());
    if what == "reap" {
        let r = reap(&dir);
        println!(
            "report unlinked={} reaped={} skipped={} live={} deferred={} in_use={} left_alone={} gone={}",
            r.regions_unlinked,
            r.journals_reaped,
            r.journals_skipped,
            r.journals_live,
            r.regions_deferred,
            r.regions_in_use,
            r.regions_left_alone,
            r.regions_already_gone
        );
        return;
    }
    if let Some(name) = what.strip_prefix("close:") {
        let reg = Registry::new(options(&dir, false)).unwrap();
        reg.create_region(name.as_bytes(), 4096)
            .unwrap()
            .close()
            .unwrap();
        println!("closed");
        return;
    }
    if let Some(name) = what.strip_prefix("register:") {
        let reg = Registry::new(options(&dir, false)).unwrap();
        reg.register(name.as_bytes(), true).unwrap();
        println!("ready");
        std::thread::sleep(Duration::from_secs(120));
        return;
    }
    let mut parts = what.split(':').skip(1);
    let prefix = parts.next().unwrap().to_owned();
    let count: usize = parts.next().unwrap().parse().unwrap();
    let reg = Registry::new(options(&dir, false)).unwrap();
    let mut held = Vec::new();
    for name in names(&prefix, count) {
        held.push(reg.create_region(name.as_bytes(), 4096).unwrap());
        std::thread::sleep(Duration::from_micros(300));
    }
    println!("ready");
    std::thread::sleep(Duration::from_secs(120));
    drop(held);
}

fn spawn(dir: &Path, what: &str, crash_point: Option<&str>) -> Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--ignored",
        "--exact",
        "crash_child",
        "--nocapture",
        "--test-threads=1",
        "-q",
    ])
    .env("TRITON_SHM_CRASH_CHILD", what)
    .env("TRITON_SHM_STATE_DIR", dir)
    .env_remove("TRITON_SHM_CRASH_POINT")
    .stdout(Stdio::piped())
    .stderr(Stdio::null());
    if let Some(point) = crash_point {
        cmd.env("TRITON_SHM_CRASH_POINT", point);
    }
    cmd.spawn().expect("spawn child")
}

fn hold(dir: &Path, prefix: &str, count: usize, crash_point: Option<&str>) -> Child {
    spawn(dir, &format!("hold:{prefix}:{count}"), crash_point)
}

fn wait_ready(child: &mut Child) {
    let out = child.stdout.take().unwrap();
    let ready = BufReader::new(out)
        .lines()
        .map_while(Result::ok)
        .any(|l| l.trim() == "ready");
    assert!(ready, "child never became ready");
}

fn wait_killed(child: &mut Child) {
    assert_eq!(
        child.wait().unwrap().signal(),
        Some(libc::SIGKILL),
        "the child dies by SIGKILL"
    );
}

/// Wait until `child` is ready, then kill it: an owner dead with what it
/// made left behind.
fn kill_when_ready(mut child: Child) {
    wait_ready(&mut child);
    child.kill().unwrap();
    wait_killed(&mut child);
}

/// Wait until `child` has stopped itself at its crash point.
fn wait_stopped(child: &Child) {
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let status =
        nix::sys::wait::waitpid(pid, Some(nix::sys::wait::WaitPidFlag::WUNTRACED)).unwrap();
    assert!(
        matches!(status, nix::sys::wait::WaitStatus::Stopped(..)),
        "{status:?}"
    );
}

fn resume(child: &Child) {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::SIGCONT,
    )
    .unwrap();
}

fn resume_and_report(mut child: Child) -> String {
    resume(&child);
    let out = child.stdout.take().unwrap();
    let lines: Vec<String> = BufReader::new(out).lines().map_while(Result::ok).collect();
    let line = lines.into_iter().find(|l| l.starts_with("report"));
    let status = child.wait().unwrap();
    assert!(status.success(), "the reaper failed: {status:?} {line:?}");
    line.expect("the reaper printed its report")
}

fn inode(name: &str) -> u64 {
    use std::os::fd::AsRawFd;
    let fd = common::open_object(name).expect("the object exists");
    nix::sys::stat::fstat(fd.as_raw_fd()).unwrap().st_ino
}

#[test]
fn killed_owners_leave_nothing_after_one_reap() {
    let _serial = common::one_process_test_at_a_time();
    let prefix = prefix("k");
    let all: Vec<String> = (0..50)
        .flat_map(|c| names(&format!("{prefix}{c}_"), REGIONS_PER_CHILD))
        .collect();
    let (dir, _sweep) = scene("kill", &all);
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    println!("seed {seed}");
    let points = [
        "after-record",
        "after-create",
        "after-identity",
        "after-size",
    ];
    let mut children = Vec::new();
    for c in 0..50 {
        // Four children in six die exactly at one step of a creation; the
        // rest are killed from outside at a random moment.
        let hit = 1 + xorshift(&mut seed) % REGIONS_PER_CHILD as u64;
        let point = points.get(c % 6).map(|p| format!("{p}:{hit}"));
        let external = point.is_none();
        let child = hold(
            &dir,
            &format!("{prefix}{c}_"),
            REGIONS_PER_CHILD,
            point.as_deref(),
        );
        children.push((child, external, xorshift(&mut seed) % 25_000));
    }
    for (child, external, delay_us) in &mut children {
        if *external {
            std::thread::sleep(Duration::from_micros(*delay_us / 10));
            let _ = child.kill(); // SIGKILL
        }
    }
    for (child, _, _) in &mut children {
        wait_killed(child);
    }
    let before = existing(&all).len();
    assert!(
        before > 0,
        "the children created nothing: the test would prove nothing"
    );
    let report = reap(&dir);
    println!("{before} regions left by 50 killed children; reap: {report:?}");
    assert_eq!(report.journals_live, 0);
    assert_eq!(report.regions_failed, 0);
    assert_eq!(report.regions_unlinked, before);
    assert_eq!(
        existing(&all),
        Vec::<String>::new(),
        "regions survived the reap"
    );
    assert_eq!(journals(&dir), 0, "journals survived the reap");
}

#[test]
fn a_live_owners_regions_survive_a_reap() {
    let _serial = common::one_process_test_at_a_time();
    let prefix = prefix("l");
    let all = names(&prefix, REGIONS_PER_CHILD);
    let (dir, _sweep) = scene("live", &all);
    let mut child = hold(&dir, &prefix, REGIONS_PER_CHILD, None);
    wait_ready(&mut child);
    assert_eq!(existing(&all).len(), REGIONS_PER_CHILD);
    let report = reap(&dir);
    assert_eq!((report.journals_live, report.journals_reaped), (1, 0));
    assert_eq!(
        existing(&all).len(),
        REGIONS_PER_CHILD,
        "a live owner's regions were reaped"
    );
    child.kill().unwrap();
    wait_killed(&mut child);
    let report = reap(&dir);
    assert_eq!(report.regions_unlinked, REGIONS_PER_CHILD);
    assert!(existing(&all).is_empty());
}

#[test]
fn a_restarted_registry_reaps_its_crashed_predecessor_on_its_first_owned_region() {
    let _serial = common::one_process_test_at_a_time();
    let prefix = prefix("r");
    let mut all = names(&prefix, REGIONS_PER_CHILD);
    let own = common::unique_key("rown");
    all.push(own.clone());
    let (dir, _sweep) = scene("restart", &all);
    kill_when_ready(hold(&dir, &prefix, REGIONS_PER_CHILD, None));
    let restarted = Registry::new(options(&dir, true)).unwrap();
    assert_eq!(
        existing(&all).len(),
        REGIONS_PER_CHILD,
        "nothing is reaped before a journal is needed"
    );
    let region = restarted.create_region(own.as_bytes(), 4096).unwrap();
    assert_eq!(restarted.stats().reaped, REGIONS_PER_CHILD as u64);
    assert_eq!(
        existing(&all),
        vec![own.clone()],
        "the restarted registry left its predecessor's regions"
    );
    region.close().unwrap();
    drop(restarted);
    assert_eq!(journals(&dir), 0);
}

/// One region created by a child killed at `point`: the state directory,
/// the region's name, and the sweep.
fn killed_at(tag: &str, point: &str) -> (PathBuf, String, Sweep) {
    let (dir, prefix, name, sweep) = one_region(tag);
    let mut child = hold(&dir, &prefix, 1, Some(&format!("{point}:1")));
    wait_killed(&mut child);
    (dir, name, sweep)
}

#[test]
fn killed_after_the_record_a_plain_clients_object_under_the_name_survives() {
    let _serial = common::one_process_test_at_a_time();
    let (dir, name, _sweep) = killed_at("rec", "after-record");
    assert!(!common::object_exists(&name));
    common::create_object_sized(&name, 4096);
    let report = reap(&dir);
    assert!(
        common::object_exists(&name),
        "the reaper removed a client's object it never created: {report:?}"
    );
    assert_eq!((report.regions_unlinked, report.regions_left_alone), (0, 1));
    assert_eq!(journals(&dir), 0);
}

#[test]
fn killed_after_shm_open_the_unsized_object_is_reaped() {
    let _serial = common::one_process_test_at_a_time();
    let (dir, name, _sweep) = killed_at("open", "after-create");
    assert!(common::object_exists(&name));
    assert_eq!(reap(&dir).regions_unlinked, 1);
    assert!(!common::object_exists(&name));
}

#[test]
fn killed_after_shm_open_an_object_a_client_reused_and_sized_survives() {
    let _serial = common::one_process_test_at_a_time();
    let (dir, name, _sweep) = killed_at("reuse", "after-create");
    common::create_object_sized(&name, 8192);
    let report = reap(&dir);
    assert!(
        common::object_exists(&name),
        "a client's reused object was removed: {report:?}"
    );
    assert_eq!(report.regions_unlinked, 0);
}

#[test]
fn killed_after_the_identity_the_object_is_reaped() {
    let _serial = common::one_process_test_at_a_time();
    let (dir, name, _sweep) = killed_at("ident", "after-identity");
    assert!(common::object_exists(&name));
    assert_eq!(reap(&dir).regions_unlinked, 1);
    assert!(!common::object_exists(&name));
}

/// Whether the system gives shared-memory objects inodes (macOS does
/// not, so a test that compares them says it is skipped).
fn has_inodes() -> bool {
    if cfg!(target_os = "linux") {
        return true;
    }
    println!("skipped: this system gives shared-memory objects no inode to compare");
    false
}

#[test]
fn killed_after_ftruncate_a_recreated_object_under_the_name_survives() {
    let _serial = common::one_process_test_at_a_time();
    if !has_inodes() {
        return;
    }
    let (dir, name, _sweep) = killed_at("recreate", "after-size");
    let old = inode(&name);
    // Another process removes the dead owner's object and makes its own;
    // a second object is held open meanwhile so the inode cannot be reused.
    common::create_object(&format!("{name}x"));
    common::remove_object(&name);
    common::create_object(&name);
    common::remove_object(&format!("{name}x"));
    assert_ne!(inode(&name), old);
    let report = reap(&dir);
    assert!(
        common::object_exists(&name),
        "a new object under a dead owner's name was removed: {report:?}"
    );
    assert_eq!((report.regions_unlinked, report.regions_left_alone), (0, 1));
}

#[test]
fn killed_after_ftruncate_an_object_a_client_reopened_and_sized_survives() {
    let _serial = common::one_process_test_at_a_time();
    if !has_inodes() {
        return;
    }
    let (dir, name, _sweep) = killed_at("resize", "after-size");
    let old = inode(&name);
    common::create_object_sized(&name, 8192);
    assert_eq!(inode(&name), old, "the client reused the very object");
    let report = reap(&dir);
    assert!(
        common::object_exists(&name),
        "an object a client reused was removed: {report:?}"
    );
}

#[test]
fn killed_after_ftruncate_the_object_is_reaped() {
    let _serial = common::one_process_test_at_a_time();
    let (dir, name, _sweep) = killed_at("sized", "after-size");
    assert_eq!(reap(&dir).regions_unlinked, 1);
    assert!(!common::object_exists(&name));
}

/// A dead owner's journal listing three regions.
fn dead_journal(tag: &str) -> (PathBuf, Vec<String>, Sweep) {
    let prefix = prefix(tag);
    let all = names(&prefix, 3);
    let (dir, sweep) = scene(tag, &all);
    kill_when_ready(hold(&dir, &prefix, 3, None));
    (dir, all, sweep)
}

#[test]
fn a_reaper_paused_after_taking_the_lock_keeps_others_off_the_journal() {
    let _serial = common::one_process_test_at_a_time();
    let (dir, all, _sweep) = dead_journal("rlock");
    let first = spawn(&dir, "reap", Some("reaper-locked:1:stop"));
    wait_stopped(&first);
    let report = reap(&dir);
    assert_eq!(
        (report.journals_reaped, report.regions_unlinked),
        (0, 0),
        "{report:?}"
    );
    assert_eq!(existing(&all).len(), 3);
    let line = resume_and_report(first);
    assert!(line.contains("unlinked=3 reaped=1"), "{line}");
    assert!(existing(&all).is_empty());
    assert_eq!(journals(&dir), 0);
}

#[test]
fn a_reaper_that_locks_a_journal_another_reaper_removed_skips_it() {
    let _serial = common::one_process_test_at_a_time();
    let (dir, all, _sweep) = dead_journal("rtwo");
    let late = spawn(&dir, "reap", Some("reaper-opened:1:stop"));
    wait_stopped(&late);
    // It holds the state directory's reaper lock: no other reaper of this
    // version starts meanwhile.
    assert_eq!(reap(&dir), journal::ReapReport::default());
    assert_eq!(existing(&all).len(), 3);
    // A reaper of an earlier version, which takes no reaper lock, reaps the
    // journal meanwhile: unlinks its regions and removes it.
    for name in &all {
        common::remove_object(name);
    }
    for file in journal_files(&dir) {
        std::fs::remove_file(file).unwrap();
    }
    // Other processes take the names again meanwhile.
    for name in &all {
        common::create_object(name);
    }
    let line = resume_and_report(late);
    assert!(
        line.contains("unlinked=0 reaped=0 skipped=1"),
        "the late reaper replayed the journal: {line}"
    );
    assert_eq!(existing(&all).len(), 3);
}

#[test]
fn a_reaper_killed_between_lock_and_unlink_leaves_the_journal_to_the_next() {
    let _serial = common::one_process_test_at_a_time();
    let (dir, all, _sweep) = dead_journal("rkill");
    let mut dying = spawn(&dir, "reap", Some("reaper-checked:2"));
    wait_killed(&mut dying);
    let report = reap(&dir);
    assert_eq!(report.journals_reaped, 1);
    assert!(existing(&all).is_empty(), "{report:?}");
    assert_eq!(journals(&dir), 0);
}

// The four interleavings that made the reaper or an owner remove a region
// its live owner was still using. Each pauses processes at the exact steps
// with `:stop` crash points and SIGCONT.

fn kill_and_wait(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// A dead owner D recorded its intent for a name and died before
/// `shm_open`. A reaper surveys (nothing live lists the name) and locks D's
/// journal; then a live Q records its own intent and creates the object,
/// not yet sized. D's intent matches that object (never sized, newer than
/// the record): before the live journals were read again after the check,
/// the reaper unlinked Q's object, and Q's create returned OK on an object
/// nobody could find.
#[test]
fn a_dead_owners_intent_never_takes_a_live_creators_new_object() {
    let _serial = common::one_process_test_at_a_time();
    let (dir, prefix, name, _sweep) = one_region("i1");
    let mut dead = hold(&dir, &prefix, 1, Some("after-record:1"));
    wait_killed(&mut dead);
    assert!(!common::object_exists(&name));
    let reaper = spawn(&dir, "reap", Some("reaper-locked:1:stop"));
    wait_stopped(&reaper);
    let mut creator = hold(&dir, &prefix, 1, Some("after-create:1:stop"));
    wait_stopped(&creator);
    assert!(common::object_exists(&name), "the creator made its object");
    let line = resume_and_report(reaper);
    assert!(
        common::object_exists(&name),
        "the reaper removed a live creator's object: {line}"
    );
    assert!(
        line.contains("unlinked=0") && line.contains("deferred=1"),
        "{line}"
    );
    resume(&creator);
    wait_ready(&mut creator);
    assert!(
        common::object_exists(&name),
        "the creator's region is there"
    );
    kill_and_wait(creator);
}

/// An owner A's object is unlinked by someone else and B creates a new
/// object under the name; A closes its region. Unlinking by name removed
/// B's object (and with it, one wrong removal became a cascade).
#[test]
fn an_owner_closing_after_its_object_was_replaced_leaves_the_new_one() {
    let _serial = common::one_process_test_at_a_time();
    let name = common::unique_key("i2");
    let (dir, _sweep) = scene("i2", std::slice::from_ref(&name));
    let a = Registry::new(options(&dir, false)).unwrap();
    let b = Registry::new(options(&dir, false)).unwrap();
    let mine = a.create_region(name.as_bytes(), 4096).unwrap();
    common::remove_object(&name);
    // A size of other 16 KiB granules, so that macOS, which compares only
    // owner and rounded size, tells the objects apart too.
    let theirs = b.create_region(name.as_bytes(), 65536).unwrap();
    mine.close().unwrap();
    assert!(
        common::object_exists(&name),
        "closing A's region removed B's object"
    );
    assert_eq!(a.stats().regions_replaced, 1);
    assert_eq!(a.stats().unlinked, 0);
    assert!(theirs.write_at(65535, b"x"), "B's region is intact");
    theirs.close().unwrap();
    assert!(!common::object_exists(&name), "B's close removes its own");
    assert_eq!(b.stats().regions_replaced, 0);
}

/// A dead owner D registered a name as owned (a registration records no
/// identity) and died; its object is gone. After the reaper's survey a live
/// Q creates an object under the name: the registration took any object
/// of the user, so the reaper unlinked Q's.
#[test]
fn a_dead_owners_registration_never_takes_a_live_creators_object() {
    let _serial = common::one_process_test_at_a_time();
    let (dir, prefix, name, _sweep) = one_region("i3");
    kill_when_ready(spawn(&dir, &format!("register:{name}"), None));
    let reaper = spawn(&dir, "reap", Some("reaper-locked:1:stop"));
    wait_stopped(&reaper);
    let mut creator = hold(&dir, &prefix, 1, None);
    wait_ready(&mut creator);
    let line = resume_and_report(reaper);
    assert!(
        common::object_exists(&name),
        "the reaper removed a live creator's object: {line}"
    );
    assert!(line.contains("unlinked=0"), "{line}");
    kill_and_wait(creator);
}

/// A dead owner D registered an object that existed as owned: the
/// registration took the object's identity, so the reaper judges it as a
/// created region. The object was then removed and another made under the
/// name (by a process outside the protocol, which holds it no longer): the
/// reaper leaves the new object alone. (A registration without identity
/// took any object of the user that nobody listed or held.)
#[test]
fn a_dead_owners_registration_of_an_object_never_takes_its_replacement() {
    let _serial = common::one_process_test_at_a_time();
    let (dir, _, name, _sweep) = one_region("rid");
    common::create_object_sized(&name, 4096);
    kill_when_ready(spawn(&dir, &format!("register:{name}"), None));
    common::remove_object(&name);
    // Another size in 16 KiB granules, so that macOS, which compares owner
    // and rounded size, tells them apart too.
    common::create_object_sized(&name, 65536);
    let report = reap(&dir);
    assert!(
        common::object_exists(&name),
        "the reaper removed the replacement of a registered object: {report:?}"
    );
    assert_eq!(
        (report.regions_unlinked, report.regions_left_alone),
        (0, 1),
        "{report:?}"
    );
    assert_eq!(journals(&dir), 0);
}

/// The same registration, its object left as it was: one reap removes it.
#[test]
fn a_dead_owners_registration_of_an_object_is_reaped() {
    let _serial = common::one_process_test_at_a_time();
    let (dir, _, name, _sweep) = one_region("ridr");
    common::create_object_sized(&name, 4096);
    kill_when_ready(spawn(&dir, &format!("register:{name}"), None));
    let report = reap(&dir);
    assert_eq!(report.regions_unlinked, 1, "{report:?}");
    assert!(!common::object_exists(&name));
    assert_eq!(journals(&dir), 0);
}

/// A mapping of a shared-memory object made as a plain client does
/// (`shm_open(O_RDWR | O_CREAT)`, which reuses an object that exists, then
/// `mmap`): no journal, no `O_EXCL`.
struct PlainClient {
    addr: *mut libc::c_void,
    len: usize,
    fd: Option<std::os::fd::OwnedFd>,
}

impl PlainClient {
    fn map(name: &str, len: usize) -> PlainClient {
        use std::os::fd::AsRawFd;
        let fd = common::open_or_create_object(name);
        // SAFETY: a new shared mapping of an open descriptor; unmapped in
        // Drop, never touched by Rust references.
        let addr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        assert_ne!(addr, libc::MAP_FAILED);
        PlainClient {
            addr,
            len,
            fd: Some(fd),
        }
    }
}

impl Drop for PlainClient {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `map`, unmapped once.
        unsafe { libc::munmap(self.addr, self.len) };
    }
}

fn reap_in_another_process(dir: &Path) -> String {
    resume_and_report(spawn(dir, "reap", None))
}

/// A dead owner's object is reopened in place by a plain client (Triton's
/// C++ client: `O_RDWR | O_CREAT`, keeping the size). Identity and size
/// match the record, so the reaper removed an object a live process has
/// mapped. The reaper runs in another process: it never counts itself as
/// a holder.
#[test]
fn a_dead_owners_object_a_plain_client_holds_is_kept_until_released() {
    let _serial = common::one_process_test_at_a_time();
    let (dir, prefix, name, _sweep) = one_region("i4");
    kill_when_ready(hold(&dir, &prefix, 1, None));
    let mut client = PlainClient::map(&name, 4096);
    // Held through an open descriptor (and a mapping).
    let line = reap_in_another_process(&dir);
    assert!(
        common::object_exists(&name),
        "the reaper removed an object a live client holds: {line}"
    );
    assert!(
        line.contains("unlinked=0") && line.contains("in_use=1"),
        "{line}"
    );
    // Held through the mapping alone: Linux sees it in /proc/<pid>/maps;
    // macOS lists descriptors only, which is documented.
    client.fd = None;
    if cfg!(target_os = "linux") {
        let line = reap_in_another_process(&dir);
        assert!(
            common::object_exists(&name),
            "the reaper removed an object a live client maps: {line}"
        );
        assert!(line.contains("in_use=1"), "{line}");
    } else {
        println!("skipped: this system cannot show a mapping without its descriptor");
    }
    drop(client);
    let line = reap_in_another_process(&dir);
    assert!(line.contains("unlinked=1"), "{line}");
    assert!(!common::object_exists(&name));
    assert_eq!(journals(&dir), 0);
}

/// The fifth interleaving, which the protocol model found with the reaper's
/// steps as first listed: the object the reaper found under a dead intent's
/// name belongs to a live owner, which unlinks it and frees its record
/// before the reaper reads the live journals again, so nothing is listed
/// there; another creator then creates the name; the in-use check asks
/// about the first object, which nobody holds. Unlinking then removed the
/// new creator's object: the reaper must look at the name once more and
/// find the object it checked.
#[test]
fn a_reaper_never_unlinks_an_object_created_after_its_checks() {
    let _serial = common::one_process_test_at_a_time();
    let (dir, prefix, name, _sweep) = one_region("i5");
    // D records its intent and dies before shm_open.
    let mut dead = hold(&dir, &prefix, 1, Some("after-record:1"));
    wait_killed(&mut dead);
    let reaper = spawn(
        &dir,
        "reap",
        Some("reaper-surveyed:1:stop,reaper-checked:1:stop,reaper-rechecked:1:stop"),
    );
    wait_stopped(&reaper);
    // After the survey, a live owner creates the name (its object not yet
    // sized, as D's intent would have left it)...
    let mut owner = spawn(
        &dir,
        &format!("close:{name}"),
        Some("after-identity:1:stop"),
    );
    wait_stopped(&owner);
    let first = inode(&name);
    // ...the reaper opens and checks that object...
    resume(&reaper);
    wait_stopped(&reaper);
    // ...the owner closes its region: its object unlinked, its record
    // freed, before the reaper reads the live journals again...
    resume(&owner);
    assert!(owner.wait().unwrap().success(), "the owner closed");
    assert!(!common::object_exists(&name));
    // ...the reaper reads them (nothing listed) and finds nobody holding
    // the first object; then another creator takes the name.
    resume(&reaper);
    wait_stopped(&reaper);
    let creator = Registry::new(options(&dir, false)).unwrap();
    let region = creator.create_region(name.as_bytes(), 4096).unwrap();
    if has_inodes() {
        assert_ne!(inode(&name), first, "a new object has the name");
    }
    let line = resume_and_report(reaper);
    assert!(
        common::object_exists(&name),
        "the reaper removed an object created after its checks: {line}"
    );
    assert!(
        line.contains("unlinked=0") && line.contains("left_alone=1"),
        "{line}"
    );
    assert!(
        region.write_at(4095, b"x"),
        "the creator's region is intact"
    );
    region.close().unwrap();
    assert!(!common::object_exists(&name));
    assert_eq!(creator.stats().regions_replaced, 0);
}

/// An owner killed after its close checked the object, before the unlink:
/// the object and its record are both there, and one reap removes both.
#[test]
fn an_owner_killed_between_its_check_and_its_unlink_leaves_it_to_the_reaper() {
    let _serial = common::one_process_test_at_a_time();
    let name = common::unique_key("cchk");
    let (dir, _sweep) = scene("cchk", std::slice::from_ref(&name));
    let mut owner = spawn(&dir, &format!("close:{name}"), Some("close-checked:1"));
    wait_killed(&mut owner);
    assert!(common::object_exists(&name));
    let report = reap(&dir);
    assert_eq!(report.regions_unlinked, 1, "{report:?}");
    assert!(!common::object_exists(&name));
    assert_eq!(journals(&dir), 0);
}

/// An owner killed after its unlink, before it freed the record (the
/// order that keeps a live object listed): the record names an object that
/// is gone, and the reap only drops it.
#[test]
fn an_owner_killed_between_its_unlink_and_freeing_its_record_leaves_a_record_only() {
    let _serial = common::one_process_test_at_a_time();
    let name = common::unique_key("cunl");
    let (dir, _sweep) = scene("cunl", std::slice::from_ref(&name));
    let mut owner = spawn(&dir, &format!("close:{name}"), Some("close-unlinked:1"));
    wait_killed(&mut owner);
    assert!(!common::object_exists(&name));
    let report = reap(&dir);
    assert_eq!(
        (report.regions_unlinked, report.regions_already_gone),
        (0, 1),
        "{report:?}"
    );
    assert_eq!(journals(&dir), 0);
}

/// A reaper killed after its last checks, right before an unlink, leaves
/// the rest to the next reaper, which takes the reaper lock it dropped.
#[test]
fn a_reaper_killed_right_before_an_unlink_leaves_the_rest_to_the_next() {
    let _serial = common::one_process_test_at_a_time();
    let (dir, all, _sweep) = dead_journal("rrck");
    let mut dying = spawn(&dir, "reap", Some("reaper-rechecked:2"));
    wait_killed(&mut dying);
    assert_eq!(existing(&all).len(), 2, "one unlink was made");
    let report = reap(&dir);
    assert_eq!(
        (report.regions_unlinked, report.regions_already_gone),
        (2, 1),
        "{report:?}"
    );
    assert!(existing(&all).is_empty());
    assert_eq!(journals(&dir), 0);
}
