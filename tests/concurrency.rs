//! Four threads, 100k mixed operations on one registry: afterwards the
//! registry, its journal and the system agree exactly.
// Not under miri: every test here makes system calls (it creates and unlinks real objects).
#![cfg(not(miri))]

mod common;

use common::{create_object, object_exists, remove_object};
use std::collections::BTreeSet;
use std::sync::Arc;
use triton_shm::name::NamingPolicy;
use triton_shm::{Options, Registry, Status, UnlinkPolicy};

const THREADS: usize = 4;
const OPS_PER_THREAD: usize = 25_000;
const KEYS_PER_THREAD: usize = 16;

/// xorshift: a deterministic stream of choices per thread.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

fn key(thread: usize, k: usize) -> String {
    // Inner slashes: the darwin policy normalises them away.
    format!("/tsmc{}/t{thread}/k{k}", std::process::id())
}

#[test]
fn registry_and_system_agree_after_100k_mixed_operations() {
    let state_dir = std::env::temp_dir().join(format!("tsm-conc-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&state_dir);
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
                    let k = (next(&mut rng) % KEYS_PER_THREAD as u64) as usize;
                    let key = key(t, k);
                    let system =
                        String::from_utf8(reg.system_name(key.as_bytes()).unwrap()).unwrap();
                    match next(&mut rng) % 6 {
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
