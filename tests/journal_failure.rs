//! When the journal cannot be written, no region is created: a region never
//! exists without its record. Then, once the journal can be written again,
//! regions are created and recorded as usual.
#![cfg(not(miri))]

mod common;

use triton_shm::journal;
use triton_shm::name::NamingPolicy;
use triton_shm::{Options, Registry, Status};

#[test]
fn no_region_is_created_while_its_record_cannot_be_written() {
    let dir = std::env::temp_dir().join(format!("tsm-jfail-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let reg = Registry::new(Options {
        naming: NamingPolicy::Posix,
        state_dir: Some(dir.clone()),
        ..Options::default()
    })
    .unwrap();
    // The registry holds the directory open; removing it makes every file
    // creation in it fail (ENOENT), as a full or broken disk would.
    std::fs::remove_dir(&dir).unwrap();
    let key = common::unique_key("jf");
    for _ in 0..2 {
        let e = reg.create_region(key.as_bytes(), 4096).unwrap_err();
        assert_eq!(e.status(), Status::OS_ERROR, "{e}");
        assert!(e.message().contains("journal"), "{e}");
        assert!(!common::object_exists(&key), "a region was created without a record");
    }
    assert_eq!(reg.count(), 0);

    // A registry whose journal works records the region.
    let reg = Registry::new(Options {
        naming: NamingPolicy::Posix,
        state_dir: Some(dir.clone()),
        ..Options::default()
    })
    .unwrap();
    let region = reg.create_region(key.as_bytes(), 4096).unwrap();
    let listed = journal::list_journals(&dir).unwrap();
    assert_eq!(listed.iter().map(|j| j.regions.len()).sum::<usize>(), 1);
    region.close().unwrap();
    drop(reg);
    std::fs::remove_dir_all(&dir).unwrap();
}
