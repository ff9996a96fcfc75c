//! The committed header is what the code generates (with the
//! `generate-header` feature, which runs cbindgen), and it declares the
//! crate's version.
//!
//! That the header compiles alone and twice in one unit, as C99, C11, C++11
//! and C++17 with strict warnings, is checked where a C host compiles it:
//! ctest/header_compile/ (scripts/ctest.sh), which also compiles the C++
//! wrapper, with and without exceptions.

#[cfg(feature = "generate-header")]
use std::path::{Path, PathBuf};

#[cfg(feature = "generate-header")]
const GENERATED: &str = include_str!(concat!(env!("OUT_DIR"), "/triton_shm.h"));

/// The committed header: what ships, and what the other tests read.
const COMMITTED: &str = include_str!("../include/triton_shm.h");

#[cfg(feature = "generate-header")]
fn committed_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("include/triton_shm.h")
}

#[cfg(feature = "generate-header")]
#[test]
#[cfg_attr(miri, ignore = "reads include/")]
fn committed_header_matches_the_code() {
    let path = committed_path();
    if std::env::var_os("TRITON_SHM_BLESS").is_some() {
        std::fs::write(&path, GENERATED).expect("include/ is writable");
    }
    let committed = std::fs::read_to_string(&path).expect("include/triton_shm.h exists");
    assert!(
        committed == GENERATED,
        "include/triton_shm.h differs from what cbindgen generates from the sources; \
         run scripts/header.sh and commit the result"
    );
}

#[test]
fn header_declares_the_cargo_version() {
    let v = env!("CARGO_PKG_VERSION");
    assert!(COMMITTED.contains(&format!("#define TRITON_SHM_VERSION_STRING \"{v}\"")));
    for (macro_name, part) in [
        ("MAJOR", env!("CARGO_PKG_VERSION_MAJOR")),
        ("MINOR", env!("CARGO_PKG_VERSION_MINOR")),
        ("PATCH", env!("CARGO_PKG_VERSION_PATCH")),
    ] {
        assert!(COMMITTED.contains(&format!("#define TRITON_SHM_VERSION_{macro_name} {part}\n")));
    }
}
