//! The state directory that holds journals: creating and checking it, and
//! the file operations on journals in it.
//!
//! Security rules: the directory must be a real directory (never a symlink),
//! owned by the effective user, and not writable by group or others. The
//! library creates a missing directory with mode 0700 and never changes the
//! mode of one it did not create. Files are created 0600 and opened
//! relative to the checked directory's descriptor with `O_NOFOLLOW`, so a
//! symlink planted in it is never followed, and a file owned by another
//! user is never used.
//!
//! Locks are `flock` locks held by an open descriptor and released only by
//! closing it, never by `LOCK_UN`: a forked child shares the parent's open
//! file description, and an unlock from the child would release the
//! parent's lock.

use crate::status::ErrnoText;
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::{FileStat, Mode, SFlag};
use std::ffi::OsStr;
use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Why a state directory or file cannot be used.
#[derive(Debug)]
pub struct StateDirError {
    /// What went wrong, naming the path (and, for a refusal, the fix);
    /// `Display` adds the errno.
    pub message: String,
    /// The errno of the failed call; `None` when the library refused what
    /// it found (a symlink, another owner, a mode writable by others).
    pub errno: Option<i32>,
}

impl StateDirError {
    fn refused(message: String) -> Self {
        StateDirError {
            message,
            errno: None,
        }
    }

    fn failed(message: String, e: Errno) -> Self {
        StateDirError {
            message,
            errno: Some(e as i32),
        }
    }
}

impl std::fmt::Display for StateDirError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)?;
        match self.errno {
            Some(errno) => write!(f, ": {}", ErrnoText(errno)),
            None => Ok(()),
        }
    }
}

/// A checked state directory, held open by descriptor.
#[derive(Debug)]
pub struct StateDir {
    fd: OwnedFd,
    path: PathBuf,
}

/// A journal file whose exclusive `flock` this process holds until the file
/// is closed (dropped). Dropping never unlocks explicitly: see the module
/// docs.
#[derive(Debug)]
pub struct LockedFile {
    file: File,
}

impl LockedFile {
    /// The open file.
    pub fn file(&self) -> &File {
        &self.file
    }

    /// Keep the descriptor, and with it the lock, open until the process
    /// exits. For a journal whose regions outlive its registry.
    pub fn hold_until_exit(self) {
        std::mem::forget(self.file);
    }
}

impl AsFd for LockedFile {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }
}

/// The file in the state directory whose lock serialises reapers.
pub const REAPER_LOCK: &str = ".reaper.lock";

/// The default state directory: `triton-shm-<uid>` under the temporary
/// directory (`$TMPDIR`, else `/tmp`).
pub fn default_path() -> PathBuf {
    std::env::temp_dir().join(format!("triton-shm-{}", nix::unistd::geteuid()))
}

fn check_owned(st: &FileStat, what: &str, path: &Path) -> Result<(), StateDirError> {
    let me = nix::unistd::geteuid().as_raw();
    if st.st_uid != me {
        return Err(StateDirError::refused(format!(
            "{what} {} is owned by uid {}, not by this user (uid {me}); refusing to use it. \
             Remove it or choose another directory with TRITON_SHM_STATE_DIR",
            path.display(),
            st.st_uid
        )));
    }
    Ok(())
}

/// Open a file descriptor relative to `dir` without following symlinks.
fn open_at(dir: &OwnedFd, name: &OsStr, flags: OFlag, mode: Mode) -> Result<OwnedFd, Errno> {
    let raw = nix::fcntl::openat(
        Some(dir.as_raw_fd()),
        name,
        flags | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        mode,
    )?;
    // SAFETY: openat just returned this descriptor and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

/// Take the exclusive lock of `fd` without waiting. `Ok(false)`: another
/// open file description holds it.
fn try_flock(fd: BorrowedFd<'_>) -> Result<bool, Errno> {
    // SAFETY: flock on a descriptor we hold open; it touches no memory.
    let rc = unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc == 0 {
        return Ok(true);
    }
    match Errno::last() {
        Errno::EWOULDBLOCK => Ok(false),
        e => Err(e),
    }
}

/// Write all of `bytes` at `offset`, going on after a short write (tmpfs
/// writes partially at a page boundary when it runs out of space, and the
/// next write then reports why). A write of nothing is `ENOSPC`.
pub fn write_all_at(fd: BorrowedFd<'_>, mut bytes: &[u8], mut offset: u64) -> Result<(), i32> {
    while !bytes.is_empty() {
        let at = libc::off_t::try_from(offset).map_err(|_| libc::EFBIG)?;
        // SAFETY: pwrite reads `bytes.len()` bytes from a live slice into a
        // descriptor we hold open.
        let n = unsafe { libc::pwrite(fd.as_raw_fd(), bytes.as_ptr().cast(), bytes.len(), at) };
        match usize::try_from(n) {
            Ok(0) => return Err(libc::ENOSPC),
            Ok(n) => {
                bytes = &bytes[n.min(bytes.len())..];
                offset += n as u64;
            }
            Err(_) => match Errno::last() {
                Errno::EINTR => {}
                e => return Err(e as i32),
            },
        }
    }
    Ok(())
}

/// Grow `file` from `from` to `to` bytes with every new page allocated
/// now, so a later store into a mapping of it can never fault (a sparse
/// file on a full tmpfs raises SIGBUS on the first touch). Linux:
/// `posix_fallocate`; elsewhere, or where the filesystem does not support
/// it, zeros are written.
pub fn extend_allocated(file: &LockedFile, from: u64, to: u64) -> Result<(), i32> {
    #[cfg(target_os = "linux")]
    {
        let (start, len) = (
            libc::off_t::try_from(from),
            libc::off_t::try_from(to - from),
        );
        let (Ok(start), Ok(len)) = (start, len) else {
            return Err(libc::EFBIG);
        };
        // SAFETY: posix_fallocate on a descriptor we hold open; it touches
        // no memory of ours.
        match unsafe { libc::posix_fallocate(file.as_fd().as_raw_fd(), start, len) } {
            0 => return Ok(()),
            libc::EOPNOTSUPP | libc::EINVAL => {}
            errno => return Err(errno),
        }
    }
    // Made when needed (a rare path), not kept in the library's image.
    let zeros = vec![0u8; 64 * 1024];
    let mut at = from;
    while at < to {
        let n = usize::try_from((to - at).min(zeros.len() as u64)).unwrap_or(zeros.len());
        write_all_at(file.as_fd(), &zeros[..n], at)?;
        at += n as u64;
    }
    Ok(())
}

/// The size of an open file.
pub fn file_size(file: &File) -> Result<u64, i32> {
    let st = nix::sys::stat::fstat(file.as_raw_fd()).map_err(|e| e as i32)?;
    u64::try_from(st.st_size).map_err(|_| libc::EOVERFLOW)
}

/// Seconds since the epoch at which `file` was last modified.
pub fn modified(file: &File) -> Option<i64> {
    nix::sys::stat::fstat(file.as_raw_fd())
        .ok()
        .map(|st| st.st_mtime)
}

impl StateDir {
    /// Open the state directory at `path`, creating it (mode 0700) if it is
    /// missing and `create` is set, and check it as the module docs say.
    pub fn open(path: &Path, create: bool) -> Result<StateDir, StateDirError> {
        if create {
            match nix::unistd::mkdir(path, Mode::S_IRWXU) {
                Ok(()) | Err(Errno::EEXIST) => {}
                Err(e) => {
                    return Err(StateDirError::failed(
                        format!("cannot create the state directory {}", path.display()),
                        e,
                    ))
                }
            }
        }
        let raw = nix::fcntl::open(
            path,
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| {
            let is_link = nix::sys::stat::lstat(path).is_ok_and(|st| {
                SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFLNK
            });
            let what = format!("cannot use the state directory {}", path.display());
            match e {
                _ if is_link => StateDirError::refused(format!(
                    "{what}: it is a symlink, which is never followed"
                )),
                Errno::ENOTDIR => StateDirError::refused(format!("{what}: it is not a directory")),
                other => StateDirError::failed(what, other),
            }
        })?;
        // SAFETY: open just returned this descriptor and nothing else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let st = nix::sys::stat::fstat(fd.as_raw_fd())
            .map_err(|e| StateDirError::failed(format!("cannot stat {}", path.display()), e))?;
        check_owned(&st, "the state directory", path)?;
        if st.st_mode & 0o022 != 0 {
            return Err(StateDirError::refused(format!(
                "the state directory {} is writable by group or others (mode {:o}); refusing to \
                 use it. Run chmod 700 on it or choose another directory",
                path.display(),
                st.st_mode & 0o7777
            )));
        }
        Ok(StateDir {
            fd,
            path: path.to_owned(),
        })
    }

    /// Another descriptor for the same checked directory.
    pub fn try_clone(&self) -> Result<StateDir, StateDirError> {
        let fd = self.fd.try_clone().map_err(|e| StateDirError {
            message: format!(
                "cannot duplicate the descriptor of {}: {e}",
                self.path.display()
            ),
            errno: e.raw_os_error(),
        })?;
        Ok(StateDir {
            fd,
            path: self.path.clone(),
        })
    }

    /// The directory's path, for messages.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Create `temp_name` (mode 0600, must not exist), lock it, write
    /// `content` into it, and only then link it as `final_name` (which must
    /// not exist: a name taken by another journal is never replaced) and
    /// drop the temporary name. No reaper ever sees an unlocked journal.
    pub fn create_locked(
        &self,
        temp_name: &str,
        final_name: &str,
        content: &[u8],
    ) -> Result<LockedFile, StateDirError> {
        let fail = |what: &str, e: Errno| {
            StateDirError::failed(
                format!(
                    "cannot {what} journal {} in {}",
                    final_name,
                    self.path.display()
                ),
                e,
            )
        };
        let fd = open_at(
            &self.fd,
            OsStr::new(temp_name),
            OFlag::O_RDWR | OFlag::O_CREAT | OFlag::O_EXCL,
            Mode::S_IRUSR | Mode::S_IWUSR,
        )
        .map_err(|e| fail("create", e))?;
        let locked = match try_flock(fd.as_fd()) {
            Ok(true) => LockedFile {
                file: File::from(fd),
            },
            Ok(false) => {
                let _ = self.remove(temp_name);
                return Err(fail("lock", Errno::EWOULDBLOCK));
            }
            Err(e) => {
                let _ = self.remove(temp_name);
                return Err(fail("lock", e));
            }
        };
        let written =
            write_all_at(locked.as_fd(), content, 0).map_err(|e| fail("write", Errno::from_raw(e)));
        let linked = written.and_then(|()| {
            nix::unistd::linkat(
                Some(self.fd.as_raw_fd()),
                OsStr::new(temp_name),
                Some(self.fd.as_raw_fd()),
                OsStr::new(final_name),
                nix::fcntl::AtFlags::empty(),
            )
            .map_err(|e| fail("name", e))
        });
        let _ = self.remove(temp_name);
        linked.map(|()| locked)
    }

    fn names_where(&self, keep: impl Fn(&[u8]) -> bool) -> Result<Vec<String>, StateDirError> {
        let mut dir = nix::dir::Dir::openat(
            Some(self.fd.as_raw_fd()),
            ".",
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| StateDirError::failed(format!("cannot list {}", self.path.display()), e))?;
        let mut names = Vec::new();
        for entry in dir.iter() {
            let Ok(entry) = entry else { continue };
            let name = entry.file_name().to_bytes();
            if keep(name) {
                if let Ok(name) = std::str::from_utf8(name) {
                    names.push(name.to_owned());
                }
            }
        }
        names.sort();
        Ok(names)
    }

    /// Names of the journals in the directory: `*.slots` (this version's
    /// slot tables) and `*.journal` (the text journals of earlier
    /// versions).
    pub fn journal_names(&self) -> Result<Vec<String>, StateDirError> {
        self.names_where(|name| {
            (name.ends_with(b".slots") || name.ends_with(b".journal")) && !name.starts_with(b".")
        })
    }

    /// Names of journals still being created (`.*.tmp`), or left half-made
    /// by an owner killed before it named them.
    pub fn temp_names(&self) -> Result<Vec<String>, StateDirError> {
        self.names_where(|name| name.starts_with(b".") && name.ends_with(b".tmp"))
    }

    /// Open the journal `name` read-write without following a symlink,
    /// refusing anything that is not a regular file owned by this user.
    pub fn open_journal(&self, name: &str) -> Result<File, StateDirError> {
        let fd = open_at(&self.fd, OsStr::new(name), OFlag::O_RDWR, Mode::empty()).map_err(
            |e| match e {
                Errno::ELOOP => StateDirError::refused(format!(
                    "cannot open journal {name}: it is a symlink, which is never followed"
                )),
                other => StateDirError::failed(format!("cannot open journal {name}"), other),
            },
        )?;
        let st = nix::sys::stat::fstat(fd.as_raw_fd())
            .map_err(|e| StateDirError::failed(format!("cannot stat journal {name}"), e))?;
        if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT != SFlag::S_IFREG {
            return Err(StateDirError::refused(format!(
                "journal {name} is not a regular file; ignored"
            )));
        }
        check_owned(&st, "journal", &self.path.join(name))?;
        Ok(File::from(fd))
    }

    /// Take the state directory's reaper lock without waiting: an exclusive
    /// `flock` on [`REAPER_LOCK`], created (0600) if missing, and still
    /// linked once locked. Only its holder removes it, as the very last
    /// step of a reap that leaves no journal (see [`StateDir::remove`]).
    /// `Ok(None)`: another reaper holds it. The journal listings ignore the
    /// file.
    pub fn try_reaper_lock(&self) -> Result<Option<LockedFile>, StateDirError> {
        // A reaper that leaves an empty directory removes the file while it
        // holds the lock, its last act: a lock taken on a file no longer
        // linked serialises nothing, so open the file anew.
        for _ in 0..3 {
            match self.try_reaper_lock_once()? {
                Some(locked) if !self.still_linked(locked.file(), REAPER_LOCK) => continue,
                other => return Ok(other),
            }
        }
        Ok(None)
    }

    fn try_reaper_lock_once(&self) -> Result<Option<LockedFile>, StateDirError> {
        let what = || self.path.join(REAPER_LOCK);
        let fd = open_at(
            &self.fd,
            OsStr::new(REAPER_LOCK),
            OFlag::O_RDWR | OFlag::O_CREAT,
            Mode::S_IRUSR | Mode::S_IWUSR,
        )
        .map_err(|e| match e {
            Errno::ELOOP => StateDirError::refused(format!(
                "{} is a symlink, which is never followed",
                what().display()
            )),
            other => StateDirError::failed(format!("cannot open {}", what().display()), other),
        })?;
        let st = nix::sys::stat::fstat(fd.as_raw_fd())
            .map_err(|e| StateDirError::failed(format!("cannot stat {}", what().display()), e))?;
        if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT != SFlag::S_IFREG {
            return Err(StateDirError::refused(format!(
                "{} is not a regular file",
                what().display()
            )));
        }
        check_owned(&st, "reaper lock", &what())?;
        match try_flock(fd.as_fd()) {
            Ok(true) => Ok(Some(LockedFile {
                file: File::from(fd),
            })),
            Ok(false) => Ok(None),
            Err(e) => Err(StateDirError::failed(
                format!("cannot lock {}", what().display()),
                e,
            )),
        }
    }

    /// Try to take the exclusive lock of an open journal without waiting.
    /// `Ok(None)` means a live process holds it.
    pub fn try_lock(file: File) -> Result<Option<LockedFile>, StateDirError> {
        match try_flock(file.as_fd()) {
            Ok(true) => Ok(Some(LockedFile { file })),
            Ok(false) => Ok(None),
            Err(e) => Err(StateDirError::failed("cannot lock a journal".to_owned(), e)),
        }
    }

    /// Whether `file` is still the file linked as `name` here: a reaper that
    /// took the lock after another reaper removed (or replaced) the journal
    /// holds a file nobody can find any more, and must leave it alone.
    pub fn still_linked(&self, file: &File, name: &str) -> bool {
        let Ok(held) = nix::sys::stat::fstat(file.as_raw_fd()) else {
            return false;
        };
        let Ok(linked) = nix::sys::stat::fstatat(
            Some(self.fd.as_raw_fd()),
            OsStr::new(name),
            nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
        ) else {
            return false;
        };
        held.st_nlink > 0 && held.st_dev == linked.st_dev && held.st_ino == linked.st_ino
    }

    /// Remove the file `name` from the directory.
    pub fn remove(&self, name: &str) -> Result<(), StateDirError> {
        nix::unistd::unlinkat(
            Some(self.fd.as_raw_fd()),
            OsStr::from_bytes(name.as_bytes()),
            nix::unistd::UnlinkatFlags::NoRemoveDir,
        )
        .map_err(|e| StateDirError::failed(format!("cannot remove journal {name}"), e))
    }
}

/// Empty a journal, keeping its lock.
pub fn truncate(file: &LockedFile, len: u64) -> Result<(), i32> {
    let len = libc::off_t::try_from(len).map_err(|_| libc::EFBIG)?;
    nix::unistd::ftruncate(file.as_fd(), len).map_err(|e| e as i32)
}
