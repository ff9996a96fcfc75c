//! The real POSIX backend, through nix, except `shm_open` and the size
//! from `fstat`, which a registration's direct path makes too and which
//! call libc themselves (nix's wrappers cost about 200 instructions a
//! registration more). On Apple targets `shm_open`'s mode is passed as
//! `c_uint`, as the variadic prototype requires there.

use super::{Identity, Mapping, OpenFlags, ShmBackend};
use nix::fcntl::OFlag;
use nix::sys::mman::{MapFlags, ProtFlags};
use nix::sys::stat::Mode;
use std::ffi::CStr;
use std::num::NonZeroUsize;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
#[cfg(target_os = "linux")]
use std::os::unix::ffi::OsStrExt;

/// Calls the operating system's `shm_*` functions.
#[derive(Clone, Copy, Debug, Default)]
pub struct Posix;

/// The system page size, asked of `sysconf` once: it cannot change while
/// the process runs, and every mapping needs it.
pub(crate) fn page_size() -> u64 {
    static PAGE_SIZE: std::sync::LazyLock<u64> = std::sync::LazyLock::new(|| {
        nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
            .ok()
            .flatten()
            .and_then(|p| u64::try_from(p).ok())
            .filter(|p| p.is_power_of_two())
            .unwrap_or(4096)
    });
    *PAGE_SIZE
}

pub(crate) fn oflags(flags: OpenFlags) -> OFlag {
    let mut o = OFlag::O_RDWR;
    o.set(OFlag::O_CREAT, flags.create);
    o.set(OFlag::O_EXCL, flags.exclusive);
    o.set(OFlag::O_TRUNC, flags.truncate);
    o
}

/// Where a mapping of `len` bytes at byte `offset` starts and how long it is:
/// from the page boundary at or below `offset` (pages of `page` bytes), so
/// that the file offset handed to `mmap` is always aligned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PageWindow {
    /// The aligned file offset.
    pub(crate) offset: u64,
    /// Bytes from the aligned offset to `offset`.
    pub(crate) lead: usize,
    /// `lead + len`.
    pub(crate) len: NonZeroUsize,
}

/// The [`PageWindow`] for `len` bytes at `offset`.
pub(crate) fn page_window(offset: u64, len: usize, page: u64) -> Result<PageWindow, i32> {
    let aligned = offset - offset % page;
    let lead = usize::try_from(offset - aligned).map_err(|_| libc::EINVAL)?;
    let map_len = len.checked_add(lead).ok_or(libc::EOVERFLOW)?;
    let map_len = NonZeroUsize::new(map_len).ok_or(libc::EINVAL)?;
    Ok(PageWindow {
        offset: aligned,
        lead,
        len: map_len,
    })
}

/// `mmap` the window, shared and read-write.
pub(crate) fn map_window(fd: BorrowedFd<'_>, window: PageWindow) -> Result<Mapping, i32> {
    let file_offset = libc::off_t::try_from(window.offset).map_err(|_| libc::EOVERFLOW)?;
    // SAFETY: a fresh shared mapping of a descriptor we were handed; no
    // existing Rust memory is affected, and the result is owned by the
    // returned Mapping, the only thing that unmaps it.
    let base = unsafe {
        nix::sys::mman::mmap(
            None,
            window.len,
            ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
            MapFlags::MAP_SHARED,
            fd,
            file_offset,
        )
    }
    .map_err(|e| e as i32)?;
    // SAFETY: base and window.len come from the successful mmap above, and
    // lead < window.len because window.len = lead + len with len > 0, or
    // lead is 0.
    Ok(unsafe { Mapping::from_raw(base, window.len.get(), window.lead) })
}

/// `mmap` `len` bytes from the page boundary at or below `offset`, with
/// pages of `page` bytes.
pub(crate) fn map_aligned(
    fd: BorrowedFd<'_>,
    offset: u64,
    len: usize,
    page: u64,
) -> Result<Mapping, i32> {
    map_window(fd, page_window(offset, len, page)?)
}

/// `shm_open(name, oflag, 0600)`, through libc rather than nix's wrapper
/// (which checks the name's length again): [`Posix::open`] and
/// [`map_existing`] both call it. Apple's `shm_open` is variadic and takes
/// the mode as an unsigned int.
fn open_object(name: &CStr, oflag: OFlag) -> Result<OwnedFd, i32> {
    let mode = (Mode::S_IRUSR | Mode::S_IWUSR).bits();
    #[cfg(any(target_os = "macos", target_os = "ios"))]
    // SAFETY: `name` is a NUL-terminated string; shm_open only reads it.
    let fd = unsafe { libc::shm_open(name.as_ptr(), oflag.bits(), libc::c_uint::from(mode)) };
    #[cfg(not(any(target_os = "macos", target_os = "ios")))]
    // SAFETY: as above.
    let fd = unsafe { libc::shm_open(name.as_ptr(), oflag.bits(), mode) };
    if fd < 0 {
        return Err(nix::errno::Errno::last_raw());
    }
    // SAFETY: `fd` was just returned by a successful shm_open and nothing
    // else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `fstat(fd).st_size`, through libc rather than nix's wrapper (which
/// copies the whole `stat` out): [`Posix::size`] and [`map_existing`] both
/// call it.
fn object_size(fd: BorrowedFd<'_>) -> Result<u64, i32> {
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: `fd` is open and `st` is writable for one `stat`.
    if unsafe { libc::fstat(fd.as_raw_fd(), st.as_mut_ptr()) } != 0 {
        return Err(nix::errno::Errno::last_raw());
    }
    // SAFETY: fstat succeeded, so it filled `st`.
    let size = unsafe { st.assume_init() }.st_size;
    u64::try_from(size).map_err(|_| libc::EOVERFLOW)
}

/// Open the existing object `name` read-write, check that `byte_size`
/// bytes at `offset` lie within it, and map them (from the page at or below
/// `offset`): `shm_open`, `fstat`, `mmap` and `close`, with nothing between
/// them but the bounds check. `None` when any step fails, without saying
/// which: the caller's general path, which repeats the steps through the
/// registry's backend, gives the reason. `name` must be one the naming
/// policy accepts as it stands (glibc and libSystem check it again).
pub(crate) fn map_existing(name: &CStr, offset: usize, byte_size: usize) -> Option<Mapping> {
    let end = u64::try_from(offset.checked_add(byte_size)?).ok()?;
    let fd = open_object(name, oflags(OpenFlags::EXISTING)).ok()?;
    if end > object_size(fd.as_fd()).ok()? {
        return None;
    }
    map_aligned(
        fd.as_fd(),
        u64::try_from(offset).ok()?,
        byte_size,
        page_size(),
    )
    .ok()
}

impl ShmBackend for Posix {
    fn name(&self) -> &'static str {
        "posix"
    }

    fn is_system(&self) -> bool {
        true
    }

    fn open(&self, name: &CStr, flags: OpenFlags) -> Result<OwnedFd, i32> {
        open_object(name, oflags(flags))
    }

    fn set_size(&self, fd: BorrowedFd<'_>, size: u64) -> Result<(), i32> {
        let size = libc::off_t::try_from(size).map_err(|_| libc::EFBIG)?;
        nix::unistd::ftruncate(fd, size).map_err(|e| e as i32)
    }

    fn size(&self, fd: BorrowedFd<'_>) -> Result<u64, i32> {
        object_size(fd)
    }

    fn map(&self, fd: BorrowedFd<'_>, offset: u64, len: usize) -> Result<Mapping, i32> {
        if len == 0 {
            return Err(libc::EINVAL);
        }
        map_aligned(fd, offset, len, page_size())
    }

    fn unlink(&self, name: &CStr) -> Result<(), i32> {
        nix::sys::mman::shm_unlink(name).map_err(|e| e as i32)
    }

    fn identity(&self, fd: BorrowedFd<'_>) -> Result<Identity, i32> {
        let st = nix::sys::stat::fstat(fd.as_raw_fd()).map_err(|e| e as i32)?;
        Ok(stat_identity(&st))
    }

    #[cfg(target_os = "linux")]
    fn identity_by_name(&self, name: &CStr) -> Result<Identity, i32> {
        // glibc and musl open `/dev/shm/` + the name without its leading
        // slashes, with O_NOFOLLOW: one lstat of that path sees the very
        // object, at a third of the cost of shm_open, fstat and close (an
        // owner makes this check on every close, an owned registration
        // once). Where `/dev/shm` is a directory, its ENOENT is the answer
        // too (shm_open would look in the same place); where it is not (a
        // system whose shared memory lives elsewhere), shm_open itself
        // answers. A wrong "gone" could only leave an object in place.
        let bytes = name.to_bytes();
        let bare = &bytes[bytes.iter().take_while(|&&b| b == b'/').count()..];
        if !bare.is_empty() && !bare.contains(&b'/') {
            let mut path = Vec::with_capacity(SHM_DIR.len() + bare.len());
            path.extend_from_slice(SHM_DIR);
            path.extend_from_slice(bare);
            let path = std::ffi::OsStr::from_bytes(&path);
            match nix::sys::stat::lstat(path) {
                Ok(st) => return Ok(stat_identity(&st)),
                Err(nix::errno::Errno::ENOENT) if shm_dir_exists() => return Err(libc::ENOENT),
                Err(nix::errno::Errno::ENOENT) => {}
                Err(e) => return Err(e as i32),
            }
        }
        let fd = self.open(name, OpenFlags::EXISTING)?;
        self.identity(fd.as_fd())
    }
}

/// Where glibc and musl keep POSIX shared-memory objects.
#[cfg(target_os = "linux")]
const SHM_DIR: &[u8] = b"/dev/shm/";

/// Whether [`SHM_DIR`] is a directory (looked at once).
#[cfg(target_os = "linux")]
fn shm_dir_exists() -> bool {
    static EXISTS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *EXISTS.get_or_init(|| std::path::Path::new(std::ffi::OsStr::from_bytes(SHM_DIR)).is_dir())
}

/// The identity `fstat` gives. macOS fills only mode, uid, gid and size for
/// a shared-memory object: no device, no inode, no times.
#[cfg(not(any(target_os = "macos", target_os = "ios")))]
#[allow(clippy::unnecessary_cast, clippy::useless_conversion)]
pub(crate) fn stat_identity(st: &nix::sys::stat::FileStat) -> Identity {
    Identity {
        device: st.st_dev as u64,
        inode: st.st_ino as u64,
        uid: st.st_uid,
        size: u64::try_from(st.st_size).unwrap_or(0),
        changed_ns: Some(
            i64::from(st.st_ctime)
                .saturating_mul(1_000_000_000)
                .saturating_add(i64::from(st.st_ctime_nsec)),
        ),
    }
}

/// The identity `fstat` gives. macOS fills only mode, uid, gid and size for
/// a shared-memory object: no device, no inode, no times.
#[cfg(any(target_os = "macos", target_os = "ios"))]
pub(crate) fn stat_identity(st: &nix::sys::stat::FileStat) -> Identity {
    Identity {
        device: 0,
        inode: 0,
        uid: st.st_uid,
        size: u64::try_from(st.st_size).unwrap_or(0),
        changed_ns: None,
    }
}
