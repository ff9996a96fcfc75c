//! Build script: generates the C header with cbindgen and sets the shared
//! library's SONAME (Linux) or install name (macOS).

use std::env;
use std::path::PathBuf;

fn main() {
    let crate_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("set by cargo"));
    let major = env::var("CARGO_PKG_VERSION_MAJOR").expect("set by cargo");
    let minor = env::var("CARGO_PKG_VERSION_MINOR").expect("set by cargo");
    let patch = env::var("CARGO_PKG_VERSION_PATCH").expect("set by cargo");

    match env::var("CARGO_CFG_TARGET_OS").as_deref() {
        Ok("linux") | Ok("android") | Ok("freebsd") | Ok("netbsd") | Ok("openbsd") => {
            println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libtriton_shm.so.{major}");
        }
        Ok("macos") | Ok("ios") => {
            println!("cargo:rustc-cdylib-link-arg=-Wl,-install_name,@rpath/libtriton_shm.dylib");
        }
        _ => {}
    }

    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=src");

    let mut config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml is readable and valid");
    config.after_includes = Some(format!(
        "\n#define TRITON_SHM_VERSION_MAJOR {major}\n\
         #define TRITON_SHM_VERSION_MINOR {minor}\n\
         #define TRITON_SHM_VERSION_PATCH {patch}\n\
         #define TRITON_SHM_VERSION_STRING \"{major}.{minor}.{patch}\"\n\n\
         /* Fill *(opts) with the defaults; passes the struct's size as compiled. */\n\
         #define TRITON_SHM_OPTIONS_INIT(opts) triton_shm_options_init((opts), sizeof *(opts))\n"
    ));
    cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen can parse the crate")
        .write_to_file(out_dir.join("triton_shm.h"));
}
