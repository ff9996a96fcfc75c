//! The operating-system layer: the only code that makes shared-memory system
//! calls (`shm_open`, `ftruncate`, `fstat`, `mmap`, `munmap`, `shm_unlink`,
//! `close`). It knows no policy; callers hand it finished system names.
//!
//! [`ShmBackend`] is the seam. [`Posix`] calls the real OS. With the cargo
//! feature `xnu-model` (Linux only), `XnuModel` reproduces macOS's rules
//! on Linux so that they can be tested here (see its docs for the list).

mod boot_id;
#[cfg(feature = "crash-points")]
#[doc(hidden)]
pub mod crash_point;
pub(crate) mod holders;
pub(crate) mod journal_map;
mod mapping;
mod posix;
mod process;
/// The state directory's checks; public for the project's own tests only,
/// with no stability promise.
#[doc(hidden)]
pub mod state_dir;
#[cfg(all(feature = "xnu-model", target_os = "linux"))]
mod xnu_model;

pub use boot_id::boot_id;
pub use mapping::Mapping;
pub use posix::Posix;
pub(crate) use posix::{map_existing, page_size};
pub use process::current_pid;
/// Public for the `triton-shm` tool only, with no stability promise.
#[doc(hidden)]
pub use process::now_ns;
#[cfg(all(feature = "xnu-model", target_os = "linux"))]
pub use xnu_model::XnuModel;

use std::ffi::CStr;
use std::os::fd::{BorrowedFd, OwnedFd};

/// How [`ShmBackend::open`] opens an object. Always read-write.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpenFlags {
    /// `O_CREAT`, with mode 0600.
    pub create: bool,
    /// `O_EXCL`: fail with `EEXIST` if the object exists.
    pub exclusive: bool,
    /// `O_TRUNC`. The library never sets it: macOS refuses it on an object
    /// that already has a size. It exists so that the model can be tested.
    pub truncate: bool,
}

impl OpenFlags {
    /// `O_RDWR`: open an existing object.
    pub const EXISTING: OpenFlags = OpenFlags {
        create: false,
        exclusive: false,
        truncate: false,
    };
    /// `O_RDWR | O_CREAT | O_EXCL`: create a new object, never reuse one.
    pub const CREATE_NEW: OpenFlags = OpenFlags {
        create: true,
        exclusive: true,
        truncate: false,
    };
}

/// What `fstat` says identifies an object, as the reaper compares it with
/// what was recorded when the object was created.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    /// `st_dev`; 0 where the system gives none (macOS).
    pub device: u64,
    /// `st_ino`; 0 where the system gives none (macOS has no inode for a
    /// shared-memory object).
    pub inode: u64,
    /// `st_uid`: the object's owner.
    pub uid: u32,
    /// `st_size` (on macOS rounded up to a page).
    pub size: u64,
    /// `st_ctime` in nanoseconds since the epoch, where the system keeps it
    /// (not on macOS).
    pub changed_ns: Option<i64>,
}

impl Identity {
    /// Whether `found` is the object this identity describes. Linux
    /// compares device and inode; macOS, which gives a shared-memory object
    /// neither, only its owner and its size in 16 KiB granules (the largest
    /// page), so a replacement of the same owner and rounded size is taken
    /// for the original there.
    pub(crate) fn same_object(&self, found: &Identity) -> bool {
        if self.inode != 0 || found.inode != 0 {
            return (self.device, self.inode) == (found.device, found.inode);
        }
        const GRANULE: u64 = 16 * 1024;
        self.uid == found.uid && self.size.div_ceil(GRANULE) == found.size.div_ceil(GRANULE)
    }
}

/// The shared-memory system calls the library makes. Every method returns
/// the raw errno on failure. The descriptor returned by `open` is closed
/// when the `OwnedFd` drops.
pub trait ShmBackend: Send + Sync {
    /// A short name for messages, e.g. `"posix"`.
    fn name(&self) -> &'static str;

    /// Whether this is the library's own backend for the real operating
    /// system ([`Posix`]), which a registry then calls directly rather than
    /// through the trait object: a registration's path runs between system
    /// calls, where every indirect call costs. Any other backend, even one
    /// that passes calls on to the system, answers `false`, so that its
    /// methods are the ones called.
    fn is_system(&self) -> bool {
        false
    }

    /// `shm_open(name, O_RDWR | flags, 0600)`.
    fn open(&self, name: &CStr, flags: OpenFlags) -> Result<OwnedFd, i32>;

    /// `ftruncate(fd, size)`. The library calls it once per object it
    /// creates, never on an object it opened.
    fn set_size(&self, fd: BorrowedFd<'_>, size: u64) -> Result<(), i32>;

    /// `fstat(fd).st_size`. On macOS this is the size rounded up to a page.
    fn size(&self, fd: BorrowedFd<'_>) -> Result<u64, i32>;

    /// Map `len` bytes of the object at byte `offset`, which need not be
    /// page-aligned: the mapping starts at the page boundary at or below
    /// `offset`, and [`Mapping::data`] points at `offset` itself.
    fn map(&self, fd: BorrowedFd<'_>, offset: u64, len: usize) -> Result<Mapping, i32>;

    /// `shm_unlink(name)`.
    fn unlink(&self, name: &CStr) -> Result<(), i32>;

    /// `munmap` a mapping [`ShmBackend::map`] made. On failure the mapping
    /// is still in place and comes back with the errno.
    fn unmap(&self, mapping: Mapping) -> Result<(), (Mapping, i32)> {
        mapping.unmap()
    }

    /// `fstat(fd)` as an [`Identity`]. The default answers `ENOSYS`, which
    /// the reaper takes as "cannot tell": it then unlinks nothing.
    fn identity(&self, fd: BorrowedFd<'_>) -> Result<Identity, i32> {
        let _ = fd;
        Err(libc::ENOSYS)
    }

    /// The [`Identity`] of the object now under `name`, as an owner checks
    /// it right before its unlink. The default opens the name (`O_RDWR`)
    /// and asks [`ShmBackend::identity`]; the real backend on Linux makes
    /// it one `lstat` of the object's file in `/dev/shm`, which is what
    /// `shm_open` opens there. `ENOENT`: no object has the name.
    fn identity_by_name(&self, name: &CStr) -> Result<Identity, i32> {
        let fd = self.open(name, OpenFlags::EXISTING)?;
        self.identity(std::os::fd::AsFd::as_fd(&fd))
    }
}

/// Which backend a registry uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum BackendKind {
    /// The `TRITON_SHM_BACKEND` environment variable decides (`system` or
    /// `xnu-model`); unset means the real OS. Only builds with the
    /// `xnu-model` feature on Linux read it; others use the real OS.
    #[default]
    FromEnvironment,
    /// The real operating system.
    System,
    /// The macOS model; available only when built with the `xnu-model`
    /// feature on Linux.
    XnuModel,
}

/// The environment variable read by [`BackendKind::FromEnvironment`].
pub const BACKEND_ENV: &str = "TRITON_SHM_BACKEND";

/// The backend for `kind`, or a message saying why it is unavailable.
///
/// [`BackendKind::FromEnvironment`] reads [`BACKEND_ENV`] only in builds
/// that have the model to choose (the `xnu-model` feature on Linux): a
/// library built as it ships ignores the variable and uses the real OS, so
/// that nothing in a server's environment can change its backend or make
/// its registries fail to be made.
pub fn backend(kind: BackendKind) -> Result<&'static dyn ShmBackend, String> {
    static POSIX: Posix = Posix;
    let kind = match kind {
        BackendKind::FromEnvironment if !MODEL_BUILT_IN => BackendKind::System,
        BackendKind::FromEnvironment => match std::env::var(BACKEND_ENV) {
            Err(std::env::VarError::NotPresent) => BackendKind::System,
            Ok(v) if v.is_empty() || v == "system" => BackendKind::System,
            Ok(v) if v == "xnu-model" => BackendKind::XnuModel,
            Ok(v) => {
                return Err(format!(
                    "{BACKEND_ENV}='{v}' is not a backend; use 'system' or 'xnu-model'"
                ))
            }
            Err(e) => return Err(format!("{BACKEND_ENV} is not valid: {e}")),
        },
        other => other,
    };
    match kind {
        BackendKind::XnuModel => xnu_model_backend(),
        _ => Ok(&POSIX),
    }
}

/// Whether this build has the model of macOS, and so reads [`BACKEND_ENV`].
const MODEL_BUILT_IN: bool = cfg!(all(feature = "xnu-model", target_os = "linux"));

#[cfg(all(feature = "xnu-model", target_os = "linux"))]
fn xnu_model_backend() -> Result<&'static dyn ShmBackend, String> {
    Ok(XnuModel::shared())
}

#[cfg(not(all(feature = "xnu-model", target_os = "linux")))]
fn xnu_model_backend() -> Result<&'static dyn ShmBackend, String> {
    Err(
        "the xnu-model backend is not built in: build with the cargo feature \
         'xnu-model' on Linux"
            .to_owned(),
    )
}

/// The backend that calls the real operating system.
pub fn system() -> &'static dyn ShmBackend {
    static POSIX: Posix = Posix;
    &POSIX
}
