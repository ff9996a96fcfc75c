//! A multi-process soak of the journal and the reaper, as a user would run
//! them: several processes, each with several threads, create, check, open
//! and close regions from a small pool of names shared by all; the test
//! SIGKILLs and restarts them at random while reapers (a thread here, and
//! the `triton-shm reap` tool) run all along. Each live process tracks what
//! it owns (the region's content, read back through a second registry) and
//! fails on any region of its own removed or replaced. At the end every
//! process exits, one last reap runs, and no name of the pool and no
//! journal may be left. A hang fails the test too. Workers and reap tools
//! are also paused (SIGSTOP, then SIGCONT) at random moments for up to
//! half a second: a pause stretches whatever window it falls in, as a busy
//! machine with many cores would.
//!
//! About 30 seconds by default; `TRITON_SHM_SOAK_SECS` sets the duration,
//! `TRITON_SHM_SOAK_PROCS` the number of worker processes (4 by default;
//! several times the number of cores shows races that few processes on
//! few cores hide).
//! The workers are this test binary re-run with `--ignored --exact
//! soak_worker`.
// Not under miri: real processes, killed at random.
#![cfg(not(miri))]

mod common;

use common::{object_exists, reap, scratch, xorshift, Sweep};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use triton_shm::name::NamingPolicy;
use triton_shm::{journal, Options, Region, Registry, Status};

/// Worker processes unless `TRITON_SHM_SOAK_PROCS` says otherwise.
const WORKERS: usize = 4;
const THREADS: usize = 3;
const POOL: usize = 16;

fn pool_name(pool: &str, i: usize) -> String {
    format!("/{pool}_{i}")
}

fn seed() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    t ^ u64::from(std::process::id()).rotate_left(32) | 1
}

struct Held {
    region: Region,
    token: [u8; 16],
}

/// One thread of a worker: random operations until `stop` exists.
fn work(
    owner: Registry,
    checker: Registry,
    pool: String,
    stop: PathBuf,
    thread: usize,
) -> Result<u64, String> {
    let mut rng = seed() ^ (thread as u64 + 1).rotate_left(48);
    let mut held: Vec<Held> = Vec::new();
    let mut ops = 0u64;
    while !stop.exists() {
        ops += 1;
        let name = pool_name(&pool, (xorshift(&mut rng) % POOL as u64) as usize);
        match xorshift(&mut rng) % 8 {
            0..=2 => {
                let size = [4096usize, 10_000, 65_536][(xorshift(&mut rng) % 3) as usize];
                match owner.create_region(name.as_bytes(), size) {
                    Ok(region) => {
                        let mut token = [0u8; 16];
                        token[..8].copy_from_slice(&u64::from(std::process::id()).to_ne_bytes());
                        token[8..].copy_from_slice(&(ops << 8 | thread as u64).to_ne_bytes());
                        assert!(region.write_at(0, &token));
                        held.push(Held { region, token });
                    }
                    Err(e)
                        if matches!(
                            e.status(),
                            Status::ALREADY_EXISTS | Status::NAME_COLLISION
                        ) => {}
                    Err(e) => return Err(format!("create {name}: {e}")),
                }
            }
            3 | 4 => {
                // Every region this thread holds must still be its own.
                for h in &held {
                    let key = h.region.key().to_vec();
                    let label = String::from_utf8_lossy(&key).into_owned();
                    let seen = checker
                        .open_region(&key, 0, 16)
                        .map_err(|e| format!("a live region was removed: {label}: {e}"))?;
                    let mut got = [0u8; 16];
                    assert!(seen.read_at(0, &mut got));
                    drop(seen);
                    if got != h.token {
                        return Err(format!("a live region was replaced: {label}"));
                    }
                }
            }
            5 => {
                if !held.is_empty() {
                    let i = (xorshift(&mut rng) % held.len() as u64) as usize;
                    let h = held.swap_remove(i);
                    h.region.close().map_err(|e| format!("close: {e}"))?;
                }
            }
            6 => {
                // The server role: map whatever a client made, never unlink.
                if let Ok(region) = checker.open_region(name.as_bytes(), 0, 1) {
                    region
                        .close()
                        .map_err(|e| format!("close a client region: {e}"))?;
                }
            }
            _ => std::thread::sleep(Duration::from_micros(xorshift(&mut rng) % 500)),
        }
    }
    for h in held {
        h.region.close().map_err(|e| format!("close: {e}"))?;
    }
    Ok(ops)
}

/// Entry point of the worker processes; does nothing in a normal run.
#[test]
#[ignore = "entry point for the soak test's worker processes"]
fn soak_worker() {
    let Ok(pool) = std::env::var("TRITON_SHM_SOAK_POOL") else {
        return;
    };
    let dir = PathBuf::from(std::env::var("TRITON_SHM_STATE_DIR").unwrap());
    let stop = PathBuf::from(std::env::var("TRITON_SHM_SOAK_STOP").unwrap());
    let owner = Registry::new(Options {
        naming: NamingPolicy::Posix,
        state_dir: Some(dir),
        reap_on_create: true,
        ..Options::default()
    })
    .unwrap();
    let checker = Registry::new(Options {
        naming: NamingPolicy::Posix,
        journal: false,
        ..Options::default()
    })
    .unwrap();
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (owner, checker, pool, stop) =
                (owner.clone(), checker.clone(), pool.clone(), stop.clone());
            std::thread::spawn(move || work(owner, checker, pool, stop, t))
        })
        .collect();
    let mut total = 0;
    for t in threads {
        match t.join().expect("worker thread") {
            Ok(ops) => total += ops,
            Err(why) => {
                println!("FAIL {why}");
                std::process::exit(1);
            }
        }
    }
    let report = owner.cleanup_all();
    assert_eq!(report.failed, 0, "{report:?}");
    println!("ok {total}");
}

fn spawn_worker(dir: &Path, pool: &str, stop: &Path) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "soak_worker",
            "--nocapture",
            "--test-threads=1",
            "-q",
        ])
        .env("TRITON_SHM_SOAK_POOL", pool)
        .env("TRITON_SHM_STATE_DIR", dir)
        .env("TRITON_SHM_SOAK_STOP", stop)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn worker")
}

/// The output of a worker that exited by itself; a failure says why.
fn finished(mut child: Child, deadline: Instant) -> Result<u64, String> {
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut out = String::new();
            for line in BufReader::new(child.stdout.take().unwrap())
                .lines()
                .map_while(Result::ok)
            {
                out += &line;
                out.push('\n');
            }
            let err: String = BufReader::new(child.stderr.take().unwrap())
                .lines()
                .map_while(Result::ok)
                .collect::<Vec<_>>()
                .join("\n");
            if let Some(line) = out.lines().find(|l| l.starts_with("FAIL")) {
                return Err(line.to_owned());
            }
            if !status.success() {
                return Err(format!("a worker crashed: {status:?}\n{out}\n{err}"));
            }
            let ops = out
                .lines()
                .find_map(|l| l.strip_prefix("ok "))
                .and_then(|n| n.trim().parse().ok());
            return ops.ok_or_else(|| format!("a worker said nothing: {out}\n{err}"));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err("a worker hung".to_owned());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn signal(child: &Child, signal: nix::sys::signal::Signal) {
    // The child may have exited meanwhile: nothing to do then.
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), signal);
}

#[test]
fn processes_killed_at_random_never_lose_a_live_region_nor_leak_one() {
    let secs: u64 = std::env::var("TRITON_SHM_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let procs: usize = std::env::var("TRITON_SHM_SOAK_PROCS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(WORKERS);
    let base = scratch("soak");
    std::fs::create_dir(&base).unwrap();
    let dir = base.join("state");
    let stop = base.join("stop");
    let pool = format!("tsmsoak{}", std::process::id());
    let names: Vec<String> = (0..POOL).map(|i| pool_name(&pool, i)).collect();
    let _sweep = Sweep::new(&base, &names);

    // Reapers all along: one in a thread, and the command-line tool.
    let running = Arc::new(AtomicBool::new(true));
    let reaper = {
        let (running, dir) = (Arc::clone(&running), dir.clone());
        std::thread::spawn(move || {
            let mut reaps = 0u64;
            while running.load(Ordering::Relaxed) {
                journal::reap_stale(&dir, triton_shm::os::system(), false)
                    .map_err(|e| e.to_string())?;
                reaps += 1;
                std::thread::sleep(Duration::from_millis(3));
            }
            Ok::<u64, String>(reaps)
        })
    };

    let mut rng = seed();
    let mut workers: Vec<Child> = (0..procs)
        .map(|_| spawn_worker(&dir, &pool, &stop))
        .collect();
    // Workers paused now, with when each goes on.
    let mut paused: Vec<(usize, Instant)> = Vec::new();
    let (mut kills, mut tool_reaps, mut pauses) = (0u64, 0u64, 0u64);
    let end = Instant::now() + Duration::from_secs(secs);
    let mut next_kill = Instant::now() + Duration::from_millis(100 + xorshift(&mut rng) % 400);
    while Instant::now() < end {
        std::thread::sleep(Duration::from_millis(10 + xorshift(&mut rng) % 40));
        let now = Instant::now();
        paused.retain(|&(i, until)| {
            if until <= now {
                signal(&workers[i], nix::sys::signal::SIGCONT);
            }
            until > now
        });
        if xorshift(&mut rng) % 3 == 0 {
            let i = (xorshift(&mut rng) % procs as u64) as usize;
            if !paused.iter().any(|&(p, _)| p == i) {
                signal(&workers[i], nix::sys::signal::SIGSTOP);
                let until = now + Duration::from_millis(xorshift(&mut rng) % 500);
                paused.push((i, until));
                pauses += 1;
            }
        }
        if now < next_kill {
            continue;
        }
        next_kill =
            now + Duration::from_millis((100 + xorshift(&mut rng) % 400) * 4 / procs as u64);
        let i = (xorshift(&mut rng) % procs as u64) as usize;
        if let Some(status) = workers[i].try_wait().unwrap() {
            let out: String = BufReader::new(workers[i].stdout.take().unwrap())
                .lines()
                .map_while(Result::ok)
                .collect();
            panic!("a worker stopped by itself: {status:?}: {out}");
        }
        workers[i].kill().unwrap(); // SIGKILL, paused or not
        workers[i].wait().unwrap();
        paused.retain(|&(p, _)| p != i);
        kills += 1;
        workers[i] = spawn_worker(&dir, &pool, &stop);
        if kills % 4 == 0 {
            let mut tool = Command::new(env!("CARGO_BIN_EXE_triton-shm"))
                .args(["reap", "--state-dir"])
                .arg(&dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            if kills % 8 == 0 {
                // A reaper paused wherever it is, perhaps holding the
                // reaper lock: the others must go on without it.
                std::thread::sleep(Duration::from_millis(xorshift(&mut rng) % 20));
                signal(&tool, nix::sys::signal::SIGSTOP);
                std::thread::sleep(Duration::from_millis(xorshift(&mut rng) % 300));
                signal(&tool, nix::sys::signal::SIGCONT);
                pauses += 1;
            }
            let tool = tool.wait().unwrap();
            assert!(tool.code().is_some(), "the reap tool crashed: {tool:?}");
            tool_reaps += 1;
        }
    }
    for (i, _) in paused.drain(..) {
        signal(&workers[i], nix::sys::signal::SIGCONT);
    }
    std::fs::write(&stop, b"").unwrap();
    let deadline = Instant::now() + Duration::from_secs(30 + procs as u64);
    let mut ops = 0;
    for worker in workers {
        ops += finished(worker, deadline).unwrap_or_else(|why| panic!("{why}"));
    }
    running.store(false, Ordering::Relaxed);
    let reaps = reaper
        .join()
        .unwrap()
        .unwrap_or_else(|why| panic!("a reap failed: {why}"));
    let report = reap(&dir);
    println!(
        "soak {secs}s, {procs} processes: {kills} kills, {pauses} pauses, {reaps} reaps in a \
         thread, {tool_reaps} by the tool, {ops} operations by the last workers; final reap \
         {report:?}"
    );
    let left: Vec<&String> = names.iter().filter(|n| object_exists(n)).collect();
    assert!(
        left.is_empty(),
        "regions left after the final reap: {left:?}"
    );
    assert!(
        journal::list_journals(&dir).unwrap().is_empty(),
        "journals left after the final reap"
    );
    assert!(kills > 0, "nothing was killed: the test proved nothing");
}
