//! Unmapping a region is the step that can fail and be retried: a failed
//! `munmap` leaves the region mapped, usable and tracked.
// Not under miri: every test here makes system calls.
#![cfg(not(miri))]

mod common;

use std::ffi::CStr;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use triton_shm::os::{self, Mapping, OpenFlags, ShmBackend};
use triton_shm::{Options, Registry, Status};

/// The real OS, except that the next `failures` unmaps fail with `EINVAL`.
struct FailingUnmap {
    failures: AtomicUsize,
}

impl ShmBackend for FailingUnmap {
    fn name(&self) -> &'static str {
        "failing-unmap"
    }
    fn open(&self, name: &CStr, flags: OpenFlags) -> Result<OwnedFd, i32> {
        os::system().open(name, flags)
    }
    fn set_size(&self, fd: BorrowedFd<'_>, size: u64) -> Result<(), i32> {
        os::system().set_size(fd, size)
    }
    fn size(&self, fd: BorrowedFd<'_>) -> Result<u64, i32> {
        os::system().size(fd)
    }
    fn map(&self, fd: BorrowedFd<'_>, offset: u64, len: usize) -> Result<Mapping, i32> {
        os::system().map(fd, offset, len)
    }
    fn unlink(&self, name: &CStr) -> Result<(), i32> {
        os::system().unlink(name)
    }
    fn unmap(&self, mapping: Mapping) -> Result<(), (Mapping, i32)> {
        let failing = self
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if failing {
            return Err((mapping, libc::EINVAL));
        }
        mapping.unmap()
    }
}

fn failing_once() -> &'static FailingUnmap {
    Box::leak(Box::new(FailingUnmap {
        failures: AtomicUsize::new(1),
    }))
}

fn registry(backend: &'static FailingUnmap) -> Registry {
    Registry::with_backend(
        Options {
            journal: false,
            ..Options::default()
        },
        backend,
    )
    .expect("a registry without a journal")
}

#[test]
fn a_region_whose_munmap_fails_stays_open_mapped_and_tracked() {
    let key = common::unique_key("unmap");
    common::create_object(&key);
    let reg = registry(failing_once());
    let mut region = reg.open_region(key.as_bytes(), 0, 4096).unwrap();
    assert!(region.write_at(0, b"kept"));

    let error = region.unmap().unwrap_err();
    assert_eq!(error.status(), Status::OS_ERROR);
    assert!(error.message().contains("munmap"), "{}", error.message());
    assert!(region.is_mapped());
    assert!(reg.contains(key.as_bytes()), "the entry stays tracked");
    let mut back = [0u8; 4];
    assert!(region.read_at(0, &mut back), "still mapped");
    assert_eq!(&back, b"kept");

    region.unmap().unwrap();
    assert!(!region.is_mapped());
    assert!(region.data().is_null());
    assert!(reg.contains(key.as_bytes()), "unmapped, not yet released");
    region.unmap().unwrap();
    region.close().unwrap();
    assert!(!reg.contains(key.as_bytes()));
    assert!(
        common::object_exists(&key),
        "a client's object is never unlinked"
    );
    common::remove_object(&key);
}

#[test]
fn the_c_unmap_keeps_the_region_when_munmap_fails_and_close_frees_it() {
    use triton_shm::ffi::region::{
        triton_shm_region_close, triton_shm_region_data, triton_shm_region_open,
        triton_shm_region_unmap,
    };
    let key = common::unique_key("unmapc");
    common::create_object(&key);
    let reg = registry(failing_once());
    let c_key = std::ffi::CString::new(key.clone()).unwrap();
    let mut region = std::ptr::null_mut();
    let reg_ptr = std::ptr::from_ref(&reg).cast_mut();
    // SAFETY: a live registry, a C string and a writable out pointer.
    let opened =
        unsafe { triton_shm_region_open(reg_ptr, c_key.as_ptr(), 0, 4096, 0, &mut region) };
    assert_eq!(opened, Status::OK);

    // SAFETY: `region` is live until the close below.
    unsafe {
        assert_eq!(triton_shm_region_unmap(region), Status::OS_ERROR);
        assert!(!triton_shm_region_data(region).is_null(), "still mapped");
        assert!(reg.contains(key.as_bytes()));
        assert_eq!(triton_shm_region_unmap(region), Status::OK);
        assert!(triton_shm_region_data(region).is_null());
        assert_eq!(triton_shm_region_close(region), Status::OK);
    }
    assert!(!reg.contains(key.as_bytes()));
    common::remove_object(&key);
}

#[test]
fn close_reports_a_failed_munmap_and_still_releases_the_entry() {
    let key = common::unique_key("unmapclose");
    common::create_object(&key);
    let reg = registry(failing_once());
    let region = reg.open_region(key.as_bytes(), 0, 4096).unwrap();
    let error = region.close().unwrap_err();
    assert_eq!(error.status(), Status::OS_ERROR);
    assert!(
        !reg.contains(key.as_bytes()),
        "nothing can use the region again"
    );
    assert_eq!(reg.stats().mapped_bytes, 0);
    common::remove_object(&key);
}
