//! Helpers shared by the integration tests: unique names and real objects.
#![allow(dead_code)]

pub mod ffi;

use std::ffi::CString;
use std::sync::atomic::{AtomicUsize, Ordering};

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A short key unique to this process and call, e.g. `/tsm1234_7`.
pub fn unique_key(tag: &str) -> String {
    format!(
        "/tsm{}{}_{}",
        tag,
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

fn c(name: &str) -> CString {
    CString::new(name).expect("test names have no NUL")
}

/// Create the shared-memory object `name` (as the OS names it) with 4 KiB.
pub fn create_object(name: &str) {
    create_object_sized(name, 4096);
}

/// Create (or reuse) the object `name` and give it `size` bytes.
pub fn create_object_sized(name: &str, size: i64) {
    use nix::fcntl::OFlag;
    use nix::sys::stat::Mode;
    let fd = nix::sys::mman::shm_open(
        c(name).as_c_str(),
        OFlag::O_CREAT | OFlag::O_RDWR,
        Mode::from_bits_truncate(0o600),
    )
    .unwrap_or_else(|e| panic!("shm_open({name}) failed: {e}"));
    nix::unistd::ftruncate(&fd, size).expect("ftruncate");
}

/// Whether the object `name` exists.
pub fn object_exists(name: &str) -> bool {
    use nix::fcntl::OFlag;
    use nix::sys::stat::Mode;
    match nix::sys::mman::shm_open(c(name).as_c_str(), OFlag::O_RDONLY, Mode::empty()) {
        Ok(_) => true,
        Err(nix::errno::Errno::ENOENT) => false,
        Err(e) => panic!("shm_open({name}) failed unexpectedly: {e}"),
    }
}

/// Remove the object `name` if it exists.
pub fn remove_object(name: &str) {
    let _ = nix::sys::mman::shm_unlink(c(name).as_c_str());
}

/// A backend that answers only `shm_unlink`, through the function it holds;
/// every other call fails with `ENOSYS`. For registry tests that need no
/// real object.
pub struct UnlinkOnly(pub fn(&std::ffi::CStr) -> Result<(), i32>);

impl triton_shm::os::ShmBackend for UnlinkOnly {
    fn name(&self) -> &'static str {
        "unlink-only"
    }
    fn open(
        &self,
        _: &std::ffi::CStr,
        _: triton_shm::os::OpenFlags,
    ) -> Result<std::os::fd::OwnedFd, i32> {
        Err(libc::ENOSYS)
    }
    fn set_size(&self, _: std::os::fd::BorrowedFd<'_>, _: u64) -> Result<(), i32> {
        Err(libc::ENOSYS)
    }
    fn size(&self, _: std::os::fd::BorrowedFd<'_>) -> Result<u64, i32> {
        Err(libc::ENOSYS)
    }
    fn map(
        &self,
        _: std::os::fd::BorrowedFd<'_>,
        _: u64,
        _: usize,
    ) -> Result<triton_shm::os::Mapping, i32> {
        Err(libc::ENOSYS)
    }
    fn unlink(&self, name: &std::ffi::CStr) -> Result<(), i32> {
        (self.0)(name)
    }
}
