//! A model of macOS (XNU) POSIX shared memory, for tests on Linux.
//!
//! Each rule below is XNU's (sources in PLATFORM_FACTS: xnu
//! `bsd/kern/posix_shm.c`, `bsd/kern/kern_mman.c`, `bsd/sys/posix_shm.h`):
//!
//! * names are compared byte for byte: `/x`, `//x` and `x` are three objects;
//! * a name longer than 31 bytes gives `ENAMETOOLONG` from `shm_open`, and
//!   any name error from `shm_unlink` is `EINVAL`;
//! * `ftruncate` works once per object: a second call gives `EINVAL`, and so
//!   does `O_TRUNC` on an object that has a size;
//! * `fstat` reports the size rounded up to a 16 KiB page;
//! * `mmap` before `ftruncate`, or past the rounded size, gives `EINVAL`;
//!   an unaligned offset is accepted and rounded down to the page.
//!
//! Objects are memfds, so mappings are real shared memory within this
//! process. The model is process-local: another process cannot see its
//! objects.

use super::posix::{map_aligned, page_size};
use super::{Mapping, OpenFlags, ShmBackend};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::ffi::CStr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::LazyLock;

/// XNU's `PSHMNAMLEN`.
const NAME_MAX: usize = 31;
/// Apple Silicon's page size.
pub const PAGE: u64 = 16 * 1024;

/// Per object: whether `ftruncate` ran, and the size it set.
#[derive(Clone, Copy, Debug, Default)]
struct Sizing {
    truncated: bool,
    size: u64,
}

#[derive(Default)]
struct Kernel {
    /// Live names and their objects.
    names: HashMap<Vec<u8>, OwnedFd>,
    /// Sizing by memfd inode, kept while descriptors may outlive a name.
    sizing: HashMap<u64, Sizing>,
}

/// The model; one instance per process stands for the kernel.
pub struct XnuModel {
    kernel: Mutex<Kernel>,
}

impl XnuModel {
    /// The process's model kernel.
    pub fn shared() -> &'static XnuModel {
        static MODEL: LazyLock<XnuModel> = LazyLock::new(|| XnuModel {
            kernel: Mutex::new(Kernel::default()),
        });
        &MODEL
    }
}

fn inode(fd: BorrowedFd<'_>) -> Result<u64, i32> {
    nix::sys::stat::fstat(fd.as_raw_fd())
        .map(|st| st.st_ino)
        .map_err(|e| e as i32)
}

fn round_up(size: u64) -> Option<u64> {
    size.checked_add(PAGE - 1).map(|s| s - s % PAGE)
}

fn duplicate(fd: &OwnedFd) -> Result<OwnedFd, i32> {
    fd.try_clone().map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))
}

impl ShmBackend for XnuModel {
    fn name(&self) -> &'static str {
        "xnu-model"
    }

    fn open(&self, name: &CStr, flags: OpenFlags) -> Result<OwnedFd, i32> {
        let name = name.to_bytes();
        if name.is_empty() {
            return Err(libc::EINVAL);
        }
        if name.len() > NAME_MAX {
            return Err(libc::ENAMETOOLONG);
        }
        let mut kernel = self.kernel.lock();
        if let Some(fd) = kernel.names.get(name) {
            if flags.create && flags.exclusive {
                return Err(libc::EEXIST);
            }
            let ino = inode(fd.as_fd())?;
            if flags.truncate && kernel.sizing.get(&ino).is_some_and(|s| s.truncated) {
                return Err(libc::EINVAL);
            }
            return duplicate(fd);
        }
        if !flags.create {
            return Err(libc::ENOENT);
        }
        let memfd = nix::sys::memfd::memfd_create(c"xnu-model", nix::sys::memfd::MemFdCreateFlag::MFD_CLOEXEC)
            .map_err(|e| e as i32)?;
        let ino = inode(memfd.as_fd())?;
        let caller = duplicate(&memfd)?;
        kernel.sizing.insert(ino, Sizing::default());
        kernel.names.insert(name.to_vec(), memfd);
        Ok(caller)
    }

    fn set_size(&self, fd: BorrowedFd<'_>, size: u64) -> Result<(), i32> {
        let ino = inode(fd)?;
        let mut kernel = self.kernel.lock();
        let sizing = kernel.sizing.entry(ino).or_default();
        if sizing.truncated {
            return Err(libc::EINVAL);
        }
        let rounded = round_up(size).ok_or(libc::EINVAL)?;
        let len = libc::off_t::try_from(rounded).map_err(|_| libc::EINVAL)?;
        nix::unistd::ftruncate(fd, len).map_err(|e| e as i32)?;
        *sizing = Sizing {
            truncated: true,
            size,
        };
        Ok(())
    }

    fn size(&self, fd: BorrowedFd<'_>) -> Result<u64, i32> {
        let ino = inode(fd)?;
        let sizing = self.kernel.lock().sizing.get(&ino).copied().unwrap_or_default();
        if !sizing.truncated {
            return Ok(0);
        }
        round_up(sizing.size).ok_or(libc::EOVERFLOW)
    }

    fn map(&self, fd: BorrowedFd<'_>, offset: u64, len: usize) -> Result<Mapping, i32> {
        let rounded = self.size(fd)?;
        let sized = self
            .kernel
            .lock()
            .sizing
            .get(&inode(fd)?)
            .is_some_and(|s| s.truncated);
        let end = u64::try_from(len).ok().and_then(|l| offset.checked_add(l));
        if !sized || len == 0 || end.is_none_or(|end| end > rounded) {
            return Err(libc::EINVAL);
        }
        // XNU rounds the offset down to its page; a 16 KiB boundary is also
        // a host page boundary, so the real mmap accepts it.
        map_aligned(fd, offset, len, PAGE.max(page_size()))
    }

    fn unlink(&self, name: &CStr) -> Result<(), i32> {
        let name = name.to_bytes();
        if name.is_empty() || name.len() > NAME_MAX {
            return Err(libc::EINVAL);
        }
        match self.kernel.lock().names.remove(name) {
            Some(_) => Ok(()),
            None => Err(libc::ENOENT),
        }
    }

    fn identity(&self, fd: BorrowedFd<'_>) -> Result<super::Identity, i32> {
        // As macOS: owner and rounded size, no inode, no times.
        Ok(super::Identity {
            uid: nix::unistd::geteuid().as_raw(),
            size: self.size(fd)?,
            ..super::Identity::default()
        })
    }
}
