//! Under `darwin`, opening a client's region tries the names real macOS
//! clients create, in order: the normalised name, the key as given (Triton's
//! C++ client), `/` + key (CPython). Run on the model of XNU, which compares
//! names byte for byte and checks only their length.
#![cfg(all(feature = "xnu-model", not(miri)))]

mod common;

use common::{cs, unique_word};
use std::os::fd::AsFd;
use triton_shm::name::NamingPolicy;
use triton_shm::os::{BackendKind, OpenFlags, ShmBackend, XnuModel};
use triton_shm::{Options, Registry, Status, UnlinkPolicy};

fn model() -> &'static dyn ShmBackend {
    XnuModel::shared()
}

fn registry(unlink: UnlinkPolicy) -> Registry {
    Registry::new(Options {
        naming: NamingPolicy::Darwin,
        unlink,
        backend: BackendKind::XnuModel,
        journal: false,
        ..Options::default()
    })
    .unwrap()
}

/// Create the object `name` on the model as a client would, 4 KiB.
fn client_creates(name: &str) {
    let fd = model().open(&cs(name), OpenFlags::CREATE_NEW).unwrap();
    model().set_size(fd.as_fd(), 4096).unwrap();
}

fn exists(name: &str) -> bool {
    model().open(&cs(name), OpenFlags::EXISTING).is_ok()
}

fn remove(name: &str) {
    let _ = model().unlink(&cs(name));
}

#[test]
fn the_cpp_clients_verbatim_key_without_a_slash_is_found() {
    let key = unique_word("k");
    client_creates(&key);
    let reg = registry(UnlinkPolicy::OwnedOnly);
    let region = reg.open_region(key.as_bytes(), 0, 4096).unwrap();
    assert_eq!(region.system_name(), key.as_bytes());
    region.close().unwrap();
    assert!(exists(&key), "a client's object is never unlinked");
    remove(&key);
}

#[test]
fn the_cpp_clients_verbatim_key_with_an_inner_slash_is_found() {
    let key = format!("/{}/in", unique_word("k"));
    client_creates(&key);
    let reg = registry(UnlinkPolicy::OwnedOnly);
    let region = reg.open_region(key.as_bytes(), 0, 4096).unwrap();
    assert_eq!(region.system_name(), key.as_bytes());
    region.close().unwrap();
    remove(&key);
}

#[test]
fn the_normalised_name_comes_first_when_several_spellings_exist() {
    let w = unique_word("k");
    let key = format!("/{w}/in");
    let normalised = format!("/{w}_in");
    client_creates(&key);
    client_creates(&normalised);
    let reg = registry(UnlinkPolicy::OwnedOnly);
    let region = reg.open_region(key.as_bytes(), 0, 4096).unwrap();
    assert_eq!(region.system_name(), normalised.as_bytes());
    region.close().unwrap();
    remove(&key);
    remove(&normalised);
}

#[test]
fn the_python_clients_prepended_slash_is_found_last() {
    let key = format!("/{}", unique_word("k"));
    let python = format!("/{key}");
    client_creates(&python);
    let reg = registry(UnlinkPolicy::OwnedOnly);
    let region = reg.open_region(key.as_bytes(), 0, 4096).unwrap();
    assert_eq!(region.system_name(), python.as_bytes());
    region.close().unwrap();
    remove(&python);
}

#[test]
fn unlink_all_removes_the_name_that_opened_and_no_other() {
    let key = unique_word("k");
    client_creates(&key);
    let reg = registry(UnlinkPolicy::All);
    let region = reg.open_region(key.as_bytes(), 0, 4096).unwrap();
    // An unrelated object appears under the normalised name meanwhile.
    let normalised = format!("/{key}");
    client_creates(&normalised);
    region.close().unwrap();
    assert!(
        !exists(&key),
        "the object opened is unlinked under unlink-all"
    );
    assert!(
        exists(&normalised),
        "the normalised name's object is someone else's"
    );
    remove(&normalised);
}

#[test]
fn a_31_byte_key_no_python_client_can_create_reports_the_length() {
    let key = format!("/{}", "p".repeat(30));
    let reg = registry(UnlinkPolicy::OwnedOnly);
    let e = reg.open_region(key.as_bytes(), 0, 1).unwrap_err();
    assert_eq!(e.status(), Status::NAME_TOO_LONG, "{e}");
    assert!(e.message().contains(&format!("/{key}")), "{e}");
    assert!(e.message().contains("32 bytes"), "{e}");
    assert!(e.message().contains("Python"), "{e}");
}

#[test]
fn a_31_byte_key_without_a_slash_opens_as_given() {
    let key = format!("{:v<31}", unique_word("k"));
    assert_eq!(key.len(), 31);
    client_creates(&key);
    let reg = registry(UnlinkPolicy::OwnedOnly);
    let region = reg.open_region(key.as_bytes(), 0, 4096).unwrap();
    assert_eq!(region.system_name(), key.as_bytes());
    region.close().unwrap();
    remove(&key);
}

#[test]
fn a_missing_region_names_every_spelling_tried() {
    let w = unique_word("k");
    let key = format!("/{w}/x");
    let reg = registry(UnlinkPolicy::OwnedOnly);
    let e = reg.open_region(key.as_bytes(), 0, 1).unwrap_err();
    assert_eq!(e.status(), Status::NOT_FOUND);
    assert_eq!(e.errno(), Some(libc::ENOENT));
    for tried in [format!("/{w}_x"), key.clone(), format!("/{key}")] {
        assert!(e.message().contains(&format!("'{tried}'")), "{tried}: {e}");
    }
}

#[test]
fn a_spelling_that_opens_an_owned_keys_object_is_a_collision() {
    let w = unique_word("k");
    let normalised = format!("/{w}_in");
    let reg = registry(UnlinkPolicy::OwnedOnly);
    let mine = reg.create_region(normalised.as_bytes(), 4096).unwrap();
    let key = format!("/{w}/in");
    let e = reg.open_region(key.as_bytes(), 0, 4096).unwrap_err();
    assert_eq!(e.status(), Status::NAME_COLLISION, "{e}");
    assert_eq!(reg.count(), 1, "nothing tracked for the refused key");
    assert_eq!(reg.stats().mapped_bytes, 4096, "its mapping is gone again");
    mine.close().unwrap();
    assert!(!exists(&normalised));
}

#[test]
fn posix_naming_tries_only_the_key() {
    let reg = Registry::new(Options {
        naming: NamingPolicy::Posix,
        backend: BackendKind::XnuModel,
        journal: false,
        ..Options::default()
    })
    .unwrap();
    let key = format!("/{}", unique_word("k"));
    let python = format!("/{key}");
    client_creates(&python);
    let e = reg.open_region(key.as_bytes(), 0, 1).unwrap_err();
    assert_eq!(e.status(), Status::NOT_FOUND);
    remove(&python);
}
