//! A registry's entries through the C ABI: register, contains, unlink and
//! cleanup-all on a registry from `triton_shm_registry_new`.

mod common;

use common::ffi::{last_message, CRegistry};
use common::{create_object, object_exists, unique_key};
use triton_shm::Status;

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn registering_a_name_twice_is_ok_and_tracks_it_once() {
    let reg = CRegistry::darwin();
    let key = unique_key("twice");
    let client = unique_key("cli");
    assert_eq!(reg.register(&key, true), Status::OK);
    assert_eq!(reg.register(&key, true), Status::OK);
    assert_eq!(reg.register(&client, false), Status::OK);
    assert_eq!(reg.count(), 2);
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn contains_is_true_for_a_registered_name() {
    let reg = CRegistry::darwin();
    let key = unique_key("has");
    assert_eq!(reg.register(&key, true), Status::OK);
    assert!(reg.contains(&key));
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn contains_is_false_for_an_invalid_name() {
    assert!(!CRegistry::darwin().contains(""));
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn register_refuses_another_spelling_of_a_tracked_object_naming_both() {
    let reg = CRegistry::darwin();
    let base = unique_key("nest");
    let nested = format!("{base}/b");
    let flat = format!("{base}_b");
    assert_eq!(reg.register(&nested, true), Status::OK);
    assert_eq!(reg.register(&flat, false), Status::NAME_COLLISION);
    let msg = last_message();
    assert!(
        msg.contains(&format!("'{flat}'")) && msg.contains(&format!("'{nested}'")),
        "{msg}"
    );
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn unlink_removes_an_owned_object() {
    let reg = CRegistry::darwin();
    let key = unique_key("abi");
    create_object(&key);
    assert_eq!(reg.register(&key, true), Status::OK);
    assert_eq!(reg.unlink(&key), Status::OK);
    assert!(!object_exists(&key));
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn unlinking_twice_is_not_found_naming_the_key() {
    let reg = CRegistry::darwin();
    let key = unique_key("abi");
    create_object(&key);
    assert_eq!(reg.register(&key, true), Status::OK);
    assert_eq!(reg.unlink(&key), Status::OK);
    assert_eq!(reg.unlink(&key), Status::NOT_FOUND);
    assert!(last_message().contains(&key), "{}", last_message());
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn cleanup_all_finds_an_uncreated_owned_name_gone_and_releases_a_clients_name() {
    let reg = CRegistry::darwin();
    let client = unique_key("cli");
    create_object(&client);
    assert_eq!(reg.register(&client, false), Status::OK);
    // Registered as owned but never created: already gone.
    assert_eq!(
        reg.register(&format!("{}/b", unique_key("gone")), true),
        Status::OK
    );
    let report = reg.cleanup_all();
    assert_eq!(
        (
            report.unlinked,
            report.already_gone,
            report.released,
            report.failed
        ),
        (0, 1, 1, 0)
    );
    common::remove_object(&client);
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn cleanup_all_leaves_a_clients_object_by_default() {
    let reg = CRegistry::darwin();
    let client = unique_key("cli");
    create_object(&client);
    assert_eq!(reg.register(&client, false), Status::OK);
    reg.cleanup_all();
    assert!(
        object_exists(&client),
        "a client's region survives cleanup by default"
    );
    common::remove_object(&client);
}

#[test]
#[cfg_attr(miri, ignore = "makes system calls: state directory, shared memory")]
fn a_second_cleanup_all_finds_nothing_left() {
    let reg = CRegistry::darwin();
    let client = unique_key("cli");
    create_object(&client);
    assert_eq!(reg.register(&client, false), Status::OK);
    reg.cleanup_all();
    let report = reg.cleanup_all();
    assert_eq!((report.unlinked, report.released), (0, 0));
    common::remove_object(&client);
}
