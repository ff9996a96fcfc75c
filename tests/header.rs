//! The committed header is what the code generates (with the
//! `generate-header` feature, which runs cbindgen), and it compiles alone and
//! twice in one unit as C and C++ with strict warnings.

use std::path::Path;
#[cfg(feature = "generate-header")]
use std::path::PathBuf;
use std::process::Command;

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
#[cfg_attr(miri, ignore = "reads include/ and runs compilers")]
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

fn compile(compiler: &str, std: &str, source: &str, ext: &str) {
    let dir = std::env::temp_dir().join(format!("triton-shm-header-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let src = dir.join(format!("unit_{}.{ext}", std.replace('+', "p")));
    std::fs::write(&src, source).expect("write source");
    let include = Path::new(env!("CARGO_MANIFEST_DIR")).join("include");
    let out = Command::new(compiler)
        .arg(format!("-std={std}"))
        .args([
            "-Wall",
            "-Wextra",
            "-Wpedantic",
            "-Werror",
            "-fsyntax-only",
            "-I",
        ])
        .arg(&include)
        .arg(&src)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {compiler}: {e}"));
    let _ = std::fs::remove_file(&src);
    assert!(
        out.status.success(),
        "{compiler} -std={std} rejected the header:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

const TWICE: &str = "#include \"triton_shm.h\"\n#include \"triton_shm.h\"\n\
    int main(void) { return triton_shm_version() == 0; }\n";
const ALONE: &str = "#include \"triton_shm.h\"\n\
    int main(void) { return triton_shm_version() == 0; }\n";

#[test]
#[cfg_attr(miri, ignore = "reads include/ and runs compilers")]
fn header_compiles_as_c99_and_c11() {
    for std in ["c99", "c11"] {
        compile("cc", std, ALONE, "c");
        compile("cc", std, TWICE, "c");
    }
}

#[test]
#[cfg_attr(miri, ignore = "reads include/ and runs compilers")]
fn header_compiles_as_cxx11_and_cxx17() {
    for std in ["c++11", "c++17"] {
        compile("c++", std, ALONE, "cc");
        compile("c++", std, TWICE, "cc");
    }
}
