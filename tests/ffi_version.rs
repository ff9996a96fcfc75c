//! The C ABI's constant strings: every status's name, and the version.

use std::ffi::CStr;
use triton_shm::ffi::errors::*;
use triton_shm::ffi::version::*;
use triton_shm::Status;

#[test]
fn status_name_gives_every_status_its_c_name() {
    for status in Status::all() {
        let name = unsafe { CStr::from_ptr(triton_shm_status_name(*status as u32)) };
        assert_eq!(name.to_str().unwrap(), status.name());
        assert!(name.to_str().unwrap().starts_with("TRITON_SHM_"));
    }
}

#[test]
fn status_name_of_an_unknown_value_is_unknown_status() {
    let unknown = unsafe { CStr::from_ptr(triton_shm_status_name(12345)) };
    assert_eq!(unknown.to_bytes(), b"TRITON_SHM_UNKNOWN_STATUS");
}

#[test]
fn version_agrees_with_cargo_toml() {
    let v = unsafe { CStr::from_ptr(triton_shm_version()) };
    assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    let manifest = include_str!("../Cargo.toml");
    let line = manifest
        .lines()
        .find(|l| l.starts_with("version = "))
        .unwrap();
    assert_eq!(line, format!("version = \"{}\"", v.to_str().unwrap()));
}
