//! Build script: names the shared library for its loader and, with the
//! cargo feature `generate-header`, generates the C header with cbindgen.
//!
//! * Linux and the BSDs: SONAME `libtriton_shm.so.<major>`.
//! * macOS: install name `@rpath/libtriton_shm.<major>.dylib`, current
//!   version the package version, compatibility version `<major>.<minor>`
//!   (a program linked against 0.2 refuses a 0.1 library; a 0.1 program
//!   loads 0.2), and room in the header for `install_name_tool`. The CMake
//!   package installs the library under that name.
//!
//! Under cargo-c (the `capi` feature) neither is set: cargo-c names the
//! library itself.
//!
//! The version is read here once ([`Version`]) and handed to the library's
//! code as the compile-time variable `TRITON_SHM_VERSION`.
//!
//! The committed `include/triton_shm.h` is the shipped header: a default build
//! does not compile cbindgen. `scripts/header.sh` and its `--verify` drift
//! check turn the feature on and write the result to `$OUT_DIR/triton_shm.h`.

use std::env;

/// The package version as cargo read it from Cargo.toml: the one reading of
/// it, for the library's names, the header's macros and (through the
/// compile-time variable `TRITON_SHM_VERSION`) `triton_shm_version` and the
/// tool.
struct Version {
    major: String,
    minor: String,
    patch: String,
}

impl Version {
    fn from_cargo() -> Version {
        let part = |name| env::var(name).unwrap_or_default();
        Version {
            major: part("CARGO_PKG_VERSION_MAJOR"),
            minor: part("CARGO_PKG_VERSION_MINOR"),
            patch: part("CARGO_PKG_VERSION_PATCH"),
        }
    }
}

/// `MAJOR.MINOR.PATCH`, without a pre-release or build suffix: what the
/// linker's `-current_version` and the header's numeric macros can hold.
impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

fn main() {
    let version = Version::from_cargo();
    let (major, minor) = (&version.major, &version.minor);
    println!("cargo:rustc-env=TRITON_SHM_VERSION={version}");

    // cargo-c (`cargo cinstall`, which turns on the `capi` feature) names
    // the library itself; two install names or sonames would conflict.
    let named_by_cargo_c = env::var_os("CARGO_FEATURE_CAPI").is_some();
    match env::var("CARGO_CFG_TARGET_OS").as_deref() {
        _ if named_by_cargo_c => {}
        Ok("linux") | Ok("android") | Ok("freebsd") | Ok("netbsd") | Ok("openbsd") => {
            println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libtriton_shm.so.{major}");
        }
        Ok("macos") | Ok("ios") => {
            for arg in [
                format!("-Wl,-install_name,@rpath/libtriton_shm.{major}.dylib"),
                format!("-Wl,-current_version,{version}"),
                format!("-Wl,-compatibility_version,{major}.{minor}.0"),
                "-Wl,-headerpad_max_install_names".to_owned(),
            ] {
                println!("cargo:rustc-cdylib-link-arg={arg}");
            }
        }
        _ => {}
    }
    println!("cargo:rerun-if-changed=build.rs");

    #[cfg(feature = "generate-header")]
    generate_header(&version);
}

/// Write `$OUT_DIR/triton_shm.h` from the sources and cbindgen.toml.
#[cfg(feature = "generate-header")]
fn generate_header(version: &Version) {
    use std::path::PathBuf;

    let crate_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("set by cargo"));
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=src");

    let mut config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml is readable and valid");
    let Version {
        major,
        minor,
        patch,
    } = version;
    config.after_includes = Some(format!(
        "\n#define TRITON_SHM_VERSION_MAJOR {major}\n\
         #define TRITON_SHM_VERSION_MINOR {minor}\n\
         #define TRITON_SHM_VERSION_PATCH {patch}\n\
         #define TRITON_SHM_VERSION_STRING \"{version}\"\n\n\
         /** Fill *(opts) with the defaults; passes the struct's size as compiled. */\n\
         #define TRITON_SHM_OPTIONS_INIT(opts) triton_shm_options_init((opts), sizeof *(opts))\n"
    ));
    cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen can parse the crate")
        .write_to_file(out_dir.join("triton_shm.h"));
}
