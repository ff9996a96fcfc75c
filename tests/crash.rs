//! Crash safety: owners killed with SIGKILL at random moments (and exactly
//! between the journal record and the create) leave nothing a reap does not
//! remove; a live owner's regions survive a reap; a restarted registry reaps
//! its crashed predecessor by itself.
//!
//! The children are this test binary re-run with `--ignored --exact
//! crash_child`; `TRITON_SHM_CRASH_CHILD` tells that entry point what to do.
// Not under miri: the children are real processes killed mid-syscall.
#![cfg(all(feature = "crash-points", not(miri)))]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use triton_shm::name::NamingPolicy;
use triton_shm::{journal, Options, Registry};

const REGIONS_PER_CHILD: usize = 20;

fn options(dir: &Path, reap_on_create: bool) -> Options {
    Options {
        naming: NamingPolicy::Posix,
        state_dir: Some(dir.to_owned()),
        journal: true,
        reap_on_create,
        ..Options::default()
    }
}

fn state_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tsm-crash-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn prefix(tag: &str) -> String {
    format!("tsk{}{tag}_", std::process::id())
}

/// Names in /dev/shm that start with `prefix`.
fn objects(prefix: &str) -> Vec<String> {
    std::fs::read_dir("/dev/shm")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with(prefix))
        .collect()
}

/// Removes whatever a test leaves, on success and on a failed assertion alike,
/// so a failing run does not leave its children's regions in /dev/shm.
struct Sweep {
    prefix: String,
    dir: PathBuf,
}

impl Drop for Sweep {
    fn drop(&mut self) {
        for name in objects(&self.prefix) {
            let _ = std::fs::remove_file(Path::new("/dev/shm").join(name));
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn journals(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|d| d.filter_map(Result::ok).filter(|e| e.file_name().to_string_lossy().ends_with(".journal")).count())
        .unwrap_or(0)
}

/// Entry point of the child processes; does nothing in a normal test run.
#[test]
#[ignore = "entry point for the crash tests' child processes"]
fn crash_child() {
    let Ok(name_prefix) = std::env::var("TRITON_SHM_CRASH_CHILD") else { return };
    let dir = PathBuf::from(std::env::var("TRITON_SHM_STATE_DIR").unwrap());
    let reg = Registry::new(options(&dir, false)).unwrap();
    let mut held = Vec::new();
    for i in 0..REGIONS_PER_CHILD {
        let key = format!("/{name_prefix}{i}");
        held.push(reg.create_region(key.as_bytes(), 4096).unwrap());
        std::thread::sleep(Duration::from_micros(300));
    }
    println!("ready");
    std::thread::sleep(Duration::from_secs(120));
    drop(held);
}

fn spawn_child(dir: &Path, name_prefix: &str, crash_point: Option<String>) -> Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--ignored", "--exact", "crash_child", "--nocapture", "--test-threads=1", "-q"])
        .env("TRITON_SHM_CRASH_CHILD", name_prefix)
        .env("TRITON_SHM_STATE_DIR", dir)
        .env_remove("TRITON_SHM_CRASH_POINT")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(point) = crash_point {
        cmd.env("TRITON_SHM_CRASH_POINT", point);
    }
    cmd.spawn().expect("spawn child")
}

fn wait_ready(child: &mut Child) {
    let out = child.stdout.take().unwrap();
    let ready = BufReader::new(out).lines().map_while(Result::ok).any(|l| l.trim() == "ready");
    assert!(ready, "child never became ready");
}

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn killed_owners_leave_nothing_after_one_reap() {
    let dir = state_dir("kill");
    // Make the directory as a registry would, 0700.
    drop(Registry::new(options(&dir, false)).unwrap());
    let prefix = prefix("k");
    let _sweep = Sweep { prefix: prefix.clone(), dir: dir.clone() };
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    println!("seed {seed}");
    let mut children = Vec::new();
    for c in 0..50 {
        // Every fifth child dies exactly between the journal record and the
        // create, every fifth after the create and before ftruncate; the
        // rest are killed from outside at a random moment.
        let hit = 1 + xorshift(&mut seed) % REGIONS_PER_CHILD as u64;
        let point = match c % 5 {
            0 => Some(format!("after-record:{hit}")),
            1 => Some(format!("after-create:{hit}")),
            _ => None,
        };
        let external = point.is_none();
        let child = spawn_child(&dir, &format!("{prefix}{c}_"), point);
        children.push((child, external, xorshift(&mut seed) % 25_000));
    }
    for (child, external, delay_us) in &mut children {
        if *external {
            std::thread::sleep(Duration::from_micros(*delay_us / 10));
            let _ = child.kill(); // SIGKILL
        }
    }
    for (child, _, _) in &mut children {
        let status = child.wait().unwrap();
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(libc::SIGKILL), "every child dies by SIGKILL");
    }
    let before = objects(&prefix).len();
    assert!(before > 0, "the children created nothing: the test would prove nothing");
    let report = journal::reap_stale(&dir, triton_shm::os::system(), false).unwrap();
    println!("{before} regions left by 50 killed children; reap: {report:?}");
    assert_eq!(report.journals_live, 0);
    assert_eq!(report.regions_failed, 0);
    assert_eq!(report.regions_unlinked, before);
    assert_eq!(objects(&prefix), Vec::<String>::new(), "regions survived the reap");
    assert_eq!(journals(&dir), 0, "journals survived the reap");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_live_owners_regions_survive_a_reap() {
    let dir = state_dir("live");
    drop(Registry::new(options(&dir, false)).unwrap());
    let prefix = prefix("l");
    let _sweep = Sweep { prefix: prefix.clone(), dir: dir.clone() };
    let mut child = spawn_child(&dir, &prefix, None);
    wait_ready(&mut child);
    assert_eq!(objects(&prefix).len(), REGIONS_PER_CHILD);
    let report = journal::reap_stale(&dir, triton_shm::os::system(), false).unwrap();
    assert_eq!((report.journals_live, report.journals_reaped), (1, 0));
    assert_eq!(objects(&prefix).len(), REGIONS_PER_CHILD, "a live owner's regions were reaped");
    child.kill().unwrap();
    child.wait().unwrap();
    let report = journal::reap_stale(&dir, triton_shm::os::system(), false).unwrap();
    assert_eq!(report.regions_unlinked, REGIONS_PER_CHILD);
    assert!(objects(&prefix).is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_restarted_registry_reaps_its_crashed_predecessor() {
    let dir = state_dir("restart");
    drop(Registry::new(options(&dir, false)).unwrap());
    let prefix = prefix("r");
    let _sweep = Sweep { prefix: prefix.clone(), dir: dir.clone() };
    let mut child = spawn_child(&dir, &prefix, None);
    wait_ready(&mut child);
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(objects(&prefix).len(), REGIONS_PER_CHILD);
    let restarted = Registry::new(options(&dir, true)).unwrap();
    assert_eq!(restarted.stats().reaped, REGIONS_PER_CHILD as u64);
    assert!(objects(&prefix).is_empty(), "the restarted registry left its predecessor's regions");
    assert_eq!(journals(&dir), 0);
    drop(restarted);
    let _ = std::fs::remove_dir_all(&dir);
}
