//! No descriptor is left open after 10k failed opens, on either backend.
//! Own test binary with one test, so no other test opens descriptors while
//! `/dev/fd` is counted (Linux and macOS both have it).
// Not under miri: every test here makes system calls (it counts descriptors in /dev/fd).
#![cfg(not(miri))]

mod common;

use common::unique_key;
use triton_shm::name::NamingPolicy;
use triton_shm::os::BackendKind;
use triton_shm::{Options, Registry, Status};

fn open_fds() -> usize {
    std::fs::read_dir("/dev/fd").expect("/dev/fd").count()
}

fn check(backend: BackendKind) {
    let reg = Registry::new(Options {
        naming: NamingPolicy::Darwin,
        backend,
        ..Options::default()
    })
    .unwrap();
    let key = unique_key("fd");
    let region = reg.create_region(key.as_bytes(), 16384).unwrap();
    let missing = unique_key("none");
    let before = open_fds();
    for i in 0..10_000 {
        let e = if i % 2 == 0 {
            reg.open_region(key.as_bytes(), 16384, 1).unwrap_err()
        } else {
            reg.open_region(missing.as_bytes(), 0, 1).unwrap_err()
        };
        assert!(
            matches!(e.status(), Status::OUT_OF_BOUNDS | Status::NOT_FOUND),
            "{e}"
        );
    }
    assert_eq!(open_fds(), before, "{backend:?} leaked descriptors");
    region.close().unwrap();
}

#[test]
fn no_descriptor_leaks_after_10k_failed_opens() {
    check(BackendKind::System);
    #[cfg(feature = "xnu-model")]
    check(BackendKind::XnuModel);
}
