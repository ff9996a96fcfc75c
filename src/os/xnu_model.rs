//! A model of macOS (XNU) POSIX shared memory, for tests on Linux.
//!
//! Each rule below is XNU's (sources: xnu
//! `bsd/kern/posix_shm.c`, `bsd/kern/kern_mman.c`, `bsd/sys/posix_shm.h`):
//!
//! * names are compared byte for byte: `/x`, `//x` and `x` are three objects;
//! * a name longer than 31 bytes gives `ENAMETOOLONG` from `shm_open`, and
//!   any name error from `shm_unlink` is `EINVAL`;
//! * `ftruncate` works once per object: a second call gives `EINVAL`, and so
//!   does `O_TRUNC` on an object that has a size;
//! * `fstat` reports the size rounded up to the page size of the process
//!   that called `ftruncate` (16 KiB on Apple Silicon, 4 KiB on Intel);
//! * `mmap` before `ftruncate`, or past the rounded size, gives `EINVAL`;
//!   so does a file offset that is not a multiple of the page size: libSystem's
//!   64-bit `mmap` adds `MAP_UNIX03`, and with it the kernel refuses
//!   unaligned offsets (xnu `libsyscall/wrappers/unix03/mmap.c`). The
//!   library's own alignment ([`ShmBackend::map`]) is what makes unaligned
//!   region offsets work, and the model checks it.
//!
//! Objects are memfds, so mappings are real shared memory within this
//! process. One model kernel serves the whole process; each [`XnuModel`] is a
//! view of it with its own page size, as two processes on one Mac can have
//! (an x86_64 program under Rosetta beside an arm64 one). Another process
//! cannot see the model's objects.

use super::posix::{map_window, page_size, page_window};
use super::{Mapping, OpenFlags, ShmBackend};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::ffi::CStr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::LazyLock;

/// XNU's `PSHMNAMLEN`.
const NAME_MAX: usize = 31;

/// Per object: whether `ftruncate` ran, and the size `fstat` reports: the
/// size it set, rounded up to the page size of the process that set it.
#[derive(Clone, Copy, Debug, Default)]
struct Sizing {
    truncated: bool,
    rounded: u64,
}

#[derive(Default)]
struct Kernel {
    /// Live names and their objects.
    names: HashMap<Vec<u8>, OwnedFd>,
    /// Sizing by memfd inode, kept while descriptors may outlive a name.
    sizing: HashMap<u64, Sizing>,
}

/// The one model kernel of this process.
static KERNEL: LazyLock<Mutex<Kernel>> = LazyLock::new(|| Mutex::new(Kernel::default()));

/// A process's view of the model kernel: its calls, with its page size.
pub struct XnuModel {
    kernel: &'static Mutex<Kernel>,
    page: u64,
}

impl XnuModel {
    /// Apple Silicon's page size.
    ///
    /// cbindgen:ignore
    pub const APPLE_SILICON_PAGE: u64 = 16 * 1024;
    /// Intel Macs' page size.
    ///
    /// cbindgen:ignore
    pub const INTEL_PAGE: u64 = 4 * 1024;

    /// The model as an Apple Silicon process sees it (16 KiB pages): the
    /// backend `TRITON_SHM_BACKEND=xnu-model` selects.
    pub fn shared() -> &'static XnuModel {
        static MODEL: LazyLock<XnuModel> = LazyLock::new(|| XnuModel {
            kernel: &KERNEL,
            page: XnuModel::APPLE_SILICON_PAGE,
        });
        &MODEL
    }

    /// A view of the same model kernel from a process whose pages are `page`
    /// bytes ([`XnuModel::INTEL_PAGE`], [`XnuModel::APPLE_SILICON_PAGE`]). `None` unless `page`
    /// is a power of two and a multiple of this machine's page size, which
    /// the real mappings behind the model need.
    pub fn with_page_size(page: u64) -> Option<XnuModel> {
        (page.is_power_of_two() && page % page_size() == 0).then_some(XnuModel {
            kernel: &KERNEL,
            page,
        })
    }

    /// This view's page size.
    pub fn page_size(&self) -> u64 {
        self.page
    }

    /// The kernel's `mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
    /// offset)` as libSystem issues it (with `MAP_UNIX03`): `EINVAL` for an
    /// offset that is not a multiple of the page size, before `ftruncate`,
    /// for a zero length, or past the rounded size. The mapping starts at
    /// `offset` itself.
    pub fn mmap(&self, fd: BorrowedFd<'_>, offset: u64, len: usize) -> Result<Mapping, i32> {
        self.check_mmap(fd, offset, len)?;
        map_window(fd, page_window(offset, len, self.page)?)
    }

    /// The kernel's checks of [`XnuModel::mmap`].
    fn check_mmap(&self, fd: BorrowedFd<'_>, offset: u64, len: usize) -> Result<(), i32> {
        if offset % self.page != 0 || len == 0 {
            return Err(libc::EINVAL);
        }
        let sizing = self.sizing(fd)?;
        let end = u64::try_from(len).ok().and_then(|l| offset.checked_add(l));
        if !sizing.truncated || end.is_none_or(|end| end > sizing.rounded) {
            return Err(libc::EINVAL);
        }
        Ok(())
    }

    fn sizing(&self, fd: BorrowedFd<'_>) -> Result<Sizing, i32> {
        let ino = inode(fd)?;
        Ok(self
            .kernel
            .lock()
            .sizing
            .get(&ino)
            .copied()
            .unwrap_or_default())
    }

    fn round_up(&self, size: u64) -> Option<u64> {
        size.checked_add(self.page - 1).map(|s| s - s % self.page)
    }
}

fn inode(fd: BorrowedFd<'_>) -> Result<u64, i32> {
    nix::sys::stat::fstat(fd.as_raw_fd())
        .map(|st| st.st_ino)
        .map_err(|e| e as i32)
}

fn duplicate(fd: &OwnedFd) -> Result<OwnedFd, i32> {
    fd.try_clone()
        .map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))
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
        let memfd = nix::sys::memfd::memfd_create(
            c"xnu-model",
            nix::sys::memfd::MemFdCreateFlag::MFD_CLOEXEC,
        )
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
        // vm_map_round_page with the calling process's page mask.
        let rounded = self.round_up(size).ok_or(libc::EINVAL)?;
        let len = libc::off_t::try_from(rounded).map_err(|_| libc::EINVAL)?;
        nix::unistd::ftruncate(fd, len).map_err(|e| e as i32)?;
        *sizing = Sizing {
            truncated: true,
            rounded,
        };
        Ok(())
    }

    fn size(&self, fd: BorrowedFd<'_>) -> Result<u64, i32> {
        Ok(self.sizing(fd)?.rounded)
    }

    fn map(&self, fd: BorrowedFd<'_>, offset: u64, len: usize) -> Result<Mapping, i32> {
        if len == 0 {
            return Err(libc::EINVAL);
        }
        // What the library does before it calls mmap: map from the page
        // boundary at or below the offset, and point past the lead.
        let window = page_window(offset, len, self.page)?;
        self.check_mmap(fd, window.offset, window.len.get())?;
        map_window(fd, window)
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
