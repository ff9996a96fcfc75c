//! Four threads, 100k mixed operations on one registry: afterwards the
//! registry, its journal and the system agree exactly. Threads of two
//! registries over shared names never remove each other's open regions.
// Not under miri: every test here makes system calls (it creates and unlinks real objects).
#![cfg(not(miri))]

mod common;

use common::{create_object, object_exists, open_object, remove_object, scratch, xorshift};
use std::collections::BTreeSet;
use std::sync::Arc;
use triton_shm::name::NamingPolicy;
use triton_shm::{Options, Registry, Status, UnlinkPolicy};

const THREADS: usize = 4;
const OPS_PER_THREAD: usize = 25_000;
const KEYS_PER_THREAD: usize = 16;

fn key(thread: usize, k: usize) -> String {
    // Inner slashes: the darwin policy normalises them away.
    format!("/tsmc{}/t{thread}/k{k}", std::process::id())
}

#[test]
fn registry_and_system_agree_after_100k_mixed_operations() {
    let state_dir = scratch("conc");
    let reg = Arc::new(
        Registry::new(Options {
            naming: NamingPolicy::Darwin,
            unlink: UnlinkPolicy::OwnedOnly,
            state_dir: Some(state_dir.clone()),
            ..Options::default()
        })
        .unwrap(),
    );
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let reg = Arc::clone(&reg);
            std::thread::spawn(move || {
                let mut rng = 0x9e37_79b9_7f4a_7c15_u64 ^ (t as u64 + 1);
                for _ in 0..OPS_PER_THREAD {
                    let k = (xorshift(&mut rng) % KEYS_PER_THREAD as u64) as usize;
                    let key = key(t, k);
                    let system =
                        String::from_utf8(reg.system_name(key.as_bytes()).unwrap()).unwrap();
                    match xorshift(&mut rng) % 6 {
                        0 | 1 => {
                            if !reg.contains(key.as_bytes()) {
                                create_object(&system);
                            }
                            reg.register(key.as_bytes(), true).unwrap();
                        }
                        2 | 3 => match reg.unlink(key.as_bytes()) {
                            Ok(_) => assert!(!object_exists(&system)),
                            Err(e) => assert_eq!(e.status(), Status::NOT_FOUND, "{e}"),
                        },
                        4 => {
                            // The underscore spelling reaches the same object.
                            let alias = key.replace('/', "_").replacen('_', "/", 1);
                            if reg.contains(key.as_bytes()) {
                                let e = reg.register(alias.as_bytes(), true).unwrap_err();
                                assert_eq!(e.status(), Status::NAME_COLLISION);
                            }
                        }
                        _ => {
                            assert!(reg.count() <= THREADS * KEYS_PER_THREAD);
                        }
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("worker thread");
    }

    let tracked: BTreeSet<String> = reg
        .system_names()
        .into_iter()
        .map(|n| String::from_utf8(n).unwrap())
        .collect();
    // Every name the threads used, probed with shm_open (macOS has no
    // /dev/shm to list).
    let on_system: BTreeSet<String> = (0..THREADS)
        .flat_map(|t| (0..KEYS_PER_THREAD).map(move |k| key(t, k)))
        .map(|key| String::from_utf8(reg.system_name(key.as_bytes()).unwrap()).unwrap())
        .filter(|system| object_exists(system))
        .collect();
    assert_eq!(tracked, on_system);
    assert!(!tracked.is_empty());
    let journaled: BTreeSet<String> = triton_shm::journal::list_journals(&state_dir)
        .unwrap()
        .into_iter()
        .flat_map(|j| j.regions)
        .map(|r| String::from_utf8(r.name).unwrap())
        .collect();
    assert_eq!(
        journaled, tracked,
        "the journal lists exactly the owned regions"
    );

    let report = reg.cleanup_all();
    assert_eq!(report.unlinked, tracked.len());
    for name in &tracked {
        assert!(!object_exists(name));
        remove_object(name);
    }
    drop(reg);
    let _ = std::fs::remove_dir_all(&state_dir);
}

/// The token a thread wrote at offset 0 of the object now under `name`, or
/// `None` when no object has the name. Read as a plain client would, not
/// through a registry.
fn token_under(name: &str) -> Option<u64> {
    use std::os::fd::AsRawFd;
    let fd = open_object(name)?;
    let mut token = [0u8; 8];
    // SAFETY: pread into a local buffer from a descriptor we hold.
    let n = unsafe { libc::pread(fd.as_raw_fd(), token.as_mut_ptr().cast(), 8, 0) };
    (n == 8).then(|| u64::from_ne_bytes(token))
}

/// Threads of two registries create and close regions under a few shared
/// names while a remover, standing for a process outside the protocol,
/// now and then unlinks whatever object has a name. An open owned region
/// must keep its object under its name until it closes, unless the remover
/// took exactly that object: before the owner's close checked the
/// object's identity, a registry whose object the remover had taken
/// unlinked, by name, the object another registry had created since.
#[test]
fn two_registries_over_shared_names_never_remove_each_others_open_regions() {
    use parking_lot::RwLock;
    use std::collections::HashSet;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::time::{Duration, Instant};

    const NAMES: usize = 4;
    const THREADS_PER_REGISTRY: usize = 2;
    let run_for = Duration::from_secs(3);
    let state_dir = scratch("conc2");
    let registry = || {
        Arc::new(
            Registry::new(Options {
                naming: NamingPolicy::Posix,
                state_dir: Some(state_dir.clone()),
                ..Options::default()
            })
            .unwrap(),
        )
    };
    let registries = [registry(), registry()];
    let names: Arc<Vec<String>> = Arc::new(
        (0..NAMES)
            .map(|i| format!("/tsmc2{}_{i}", std::process::id()))
            .collect(),
    );
    // The remover takes a name's lock for writing; the threads take it for
    // reading around a create and around a check-then-close, so those race
    // each other freely, and the remover never acts mid-check.
    let locks: Arc<Vec<RwLock<()>>> = Arc::new((0..NAMES).map(|_| RwLock::new(())).collect());
    let removed: Arc<parking_lot::Mutex<HashSet<u64>>> = Arc::default();
    let next_token = Arc::new(AtomicU64::new(1));
    let stop = Arc::new(AtomicBool::new(false));
    let lost = Arc::new(AtomicU64::new(0));
    let checked = Arc::new(AtomicU64::new(0));
    let mut handles = Vec::new();
    for (r, reg) in registries.iter().enumerate() {
        for t in 0..THREADS_PER_REGISTRY {
            let (reg, names, locks, removed) = (
                Arc::clone(reg),
                Arc::clone(&names),
                Arc::clone(&locks),
                Arc::clone(&removed),
            );
            let (next_token, stop, lost, checked) = (
                Arc::clone(&next_token),
                Arc::clone(&stop),
                Arc::clone(&lost),
                Arc::clone(&checked),
            );
            handles.push(std::thread::spawn(move || {
                let mut rng = 0x2545_f491_4f6c_dd1d_u64 ^ ((r * 8 + t) as u64 + 1);
                while !stop.load(Ordering::Relaxed) {
                    let n = (xorshift(&mut rng) % NAMES as u64) as usize;
                    let name = &names[n];
                    let made = {
                        let _shared = locks[n].read();
                        match reg.create_region(name.as_bytes(), 4096) {
                            Ok(region) => {
                                let token = next_token.fetch_add(1, Ordering::Relaxed);
                                assert!(region.write_at(0, &token.to_ne_bytes()));
                                Some((region, token))
                            }
                            Err(e) => {
                                assert_eq!(e.status(), Status::ALREADY_EXISTS, "{e}");
                                None
                            }
                        }
                    };
                    let Some((region, token)) = made else {
                        continue;
                    };
                    if xorshift(&mut rng) % 2 == 0 {
                        std::thread::yield_now();
                    }
                    let _shared = locks[n].read();
                    let found = token_under(name);
                    if found != Some(token) && !removed.lock().contains(&token) {
                        lost.fetch_add(1, Ordering::Relaxed);
                    }
                    checked.fetch_add(1, Ordering::Relaxed);
                    region.close().unwrap();
                }
            }));
        }
    }
    let remover = {
        let (names, locks, removed, stop) = (
            Arc::clone(&names),
            Arc::clone(&locks),
            Arc::clone(&removed),
            Arc::clone(&stop),
        );
        std::thread::spawn(move || {
            let mut rng = 0x9e37_79b9_u64;
            while !stop.load(Ordering::Relaxed) {
                let n = (xorshift(&mut rng) % NAMES as u64) as usize;
                {
                    let _alone = locks[n].write();
                    if let Some(token) = token_under(&names[n]) {
                        removed.lock().insert(token);
                        remove_object(&names[n]);
                    }
                }
                std::thread::sleep(Duration::from_micros(200));
            }
        })
    };
    let started = Instant::now();
    while started.elapsed() < run_for {
        std::thread::sleep(Duration::from_millis(50));
    }
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        h.join().expect("worker thread");
    }
    remover.join().expect("remover thread");
    let (lost, checked) = (
        lost.load(Ordering::Relaxed),
        checked.load(Ordering::Relaxed),
    );
    let replaced: u64 = registries.iter().map(|r| r.stats().regions_replaced).sum();
    println!("{checked} regions checked before their close; {replaced} closes found their object replaced");
    assert!(
        checked > 100,
        "too few regions to prove anything: {checked}"
    );
    assert_eq!(
        lost, 0,
        "open owned regions lost their object under their name"
    );
    for name in names.iter() {
        remove_object(name);
    }
    drop(registries);
    let _ = std::fs::remove_dir_all(&state_dir);
}
