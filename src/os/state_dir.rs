//! The state directory that holds journals: creating and checking it, and
//! the file operations on journals in it.
//!
//! Security rules: the directory must be a real directory (never a symlink),
//! owned by the effective user, and not writable by group or others; a
//! directory that is ours but readable by others is tightened to 0700.
//! Files are created 0600 and opened relative to the checked directory's
//! descriptor with `O_NOFOLLOW`, so a symlink planted in it is never
//! followed, and a file owned by another user is never used.

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg, OFlag};
use nix::sys::stat::{FileStat, Mode, SFlag};
use std::ffi::OsStr;
use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Why a state directory or file cannot be used.
#[derive(Debug)]
pub struct StateDirError(pub String);

impl std::fmt::Display for StateDirError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A checked state directory, held open by descriptor.
#[derive(Debug)]
pub struct StateDir {
    fd: OwnedFd,
    path: PathBuf,
}

/// A journal file with an exclusive `flock` held until drop.
pub type LockedFile = Flock<File>;

/// The default state directory: `triton-shm-<uid>` under the temporary
/// directory (`$TMPDIR`, else `/tmp`).
pub fn default_path() -> PathBuf {
    std::env::temp_dir().join(format!("triton-shm-{}", nix::unistd::geteuid()))
}

fn errno_text(e: Errno) -> String {
    format!("{} ({})", e.desc(), e as i32)
}

fn check_owned(st: &FileStat, what: &str, path: &Path) -> Result<(), StateDirError> {
    let me = nix::unistd::geteuid().as_raw();
    if st.st_uid != me {
        return Err(StateDirError(format!(
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

impl StateDir {
    /// Open the state directory at `path`, creating it (mode 0700) if it is
    /// missing and `create` is set, and check it as the module docs say.
    pub fn open(path: &Path, create: bool) -> Result<StateDir, StateDirError> {
        if create {
            match nix::unistd::mkdir(path, Mode::S_IRWXU) {
                Ok(()) | Err(Errno::EEXIST) => {}
                Err(e) => {
                    return Err(StateDirError(format!(
                        "cannot create the state directory {}: {}",
                        path.display(),
                        errno_text(e)
                    )))
                }
            }
        }
        let raw = nix::fcntl::open(
            path,
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| {
            let is_link = nix::sys::stat::lstat(path)
                .is_ok_and(|st| SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFLNK);
            let why = match e {
                _ if is_link => "it is a symlink, which is never followed".to_owned(),
                Errno::ENOTDIR => "it is not a directory".to_owned(),
                other => errno_text(other),
            };
            StateDirError(format!("cannot use the state directory {}: {why}", path.display()))
        })?;
        // SAFETY: open just returned this descriptor and nothing else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let st = nix::sys::stat::fstat(fd.as_raw_fd()).map_err(|e| {
            StateDirError(format!("cannot stat {}: {}", path.display(), errno_text(e)))
        })?;
        check_owned(&st, "the state directory", path)?;
        if st.st_mode & 0o022 != 0 {
            return Err(StateDirError(format!(
                "the state directory {} is writable by group or others (mode {:o}); refusing to \
                 use it. Run chmod 700 on it or choose another directory",
                path.display(),
                st.st_mode & 0o7777
            )));
        }
        if st.st_mode & 0o077 != 0 {
            nix::sys::stat::fchmod(fd.as_raw_fd(), Mode::S_IRWXU).map_err(|e| {
                StateDirError(format!("cannot chmod 700 {}: {}", path.display(), errno_text(e)))
            })?;
        }
        Ok(StateDir {
            fd,
            path: path.to_owned(),
        })
    }

    /// The directory's path, for messages.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Create `name` (mode 0600, must not exist) holding `header`, lock it
    /// exclusively, and only then give it its final name `final_name`, so
    /// that no reaper ever sees an unlocked new journal.
    pub fn create_locked(
        &self,
        temp_name: &str,
        final_name: &str,
        header: &[u8],
    ) -> Result<LockedFile, StateDirError> {
        let fail = |what: &str, e: Errno| {
            StateDirError(format!(
                "cannot {what} journal {} in {}: {}",
                final_name,
                self.path.display(),
                errno_text(e)
            ))
        };
        let fd = open_at(
            &self.fd,
            OsStr::new(temp_name),
            OFlag::O_RDWR | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_APPEND,
            Mode::S_IRUSR | Mode::S_IWUSR,
        )
        .map_err(|e| fail("create", e))?;
        let locked = Flock::lock(File::from(fd), FlockArg::LockExclusiveNonblock)
            .map_err(|(_, e)| fail("lock", e))?;
        let written = nix::unistd::write(locked.as_fd(), header).map_err(|e| fail("write", e));
        let renamed = written.and_then(|_| {
            nix::fcntl::renameat(
                Some(self.fd.as_raw_fd()),
                OsStr::new(temp_name),
                Some(self.fd.as_raw_fd()),
                OsStr::new(final_name),
            )
            .map_err(|e| fail("name", e))
        });
        if let Err(e) = renamed {
            let _ = self.remove(temp_name);
            return Err(e);
        }
        Ok(locked)
    }

    /// Names of the journals (`*.journal`) in the directory.
    pub fn journal_names(&self) -> Result<Vec<String>, StateDirError> {
        let mut dir = nix::dir::Dir::openat(
            Some(self.fd.as_raw_fd()),
            ".",
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| {
            StateDirError(format!("cannot list {}: {}", self.path.display(), errno_text(e)))
        })?;
        let mut names = Vec::new();
        for entry in dir.iter() {
            let Ok(entry) = entry else { continue };
            let name = entry.file_name().to_bytes();
            if name.ends_with(b".journal") {
                if let Ok(name) = std::str::from_utf8(name) {
                    names.push(name.to_owned());
                }
            }
        }
        names.sort();
        Ok(names)
    }

    /// Open the journal `name` read-write without following a symlink,
    /// refusing anything that is not a regular file owned by this user.
    pub fn open_journal(&self, name: &str) -> Result<File, StateDirError> {
        let fd = open_at(&self.fd, OsStr::new(name), OFlag::O_RDWR, Mode::empty()).map_err(|e| {
            let why = match e {
                Errno::ELOOP => "it is a symlink, which is never followed".to_owned(),
                other => errno_text(other),
            };
            StateDirError(format!("cannot open journal {name}: {why}"))
        })?;
        let st = nix::sys::stat::fstat(fd.as_raw_fd())
            .map_err(|e| StateDirError(format!("cannot stat journal {name}: {}", errno_text(e))))?;
        if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT != SFlag::S_IFREG {
            return Err(StateDirError(format!("journal {name} is not a regular file; ignored")));
        }
        check_owned(&st, "journal", &self.path.join(name))?;
        Ok(File::from(fd))
    }

    /// Try to take the exclusive lock of an open journal without waiting.
    /// `Ok(None)` means a live process holds it.
    pub fn try_lock(file: File) -> Result<Option<LockedFile>, StateDirError> {
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(locked) => Ok(Some(locked)),
            Err((_, Errno::EWOULDBLOCK)) => Ok(None),
            Err((_, e)) => Err(StateDirError(format!("cannot lock a journal: {}", errno_text(e)))),
        }
    }

    /// Remove the file `name` from the directory.
    pub fn remove(&self, name: &str) -> Result<(), StateDirError> {
        nix::unistd::unlinkat(
            Some(self.fd.as_raw_fd()),
            OsStr::from_bytes(name.as_bytes()),
            nix::unistd::UnlinkatFlags::NoRemoveDir,
        )
        .map_err(|e| StateDirError(format!("cannot remove journal {name}: {}", errno_text(e))))
    }

    /// Seconds since the epoch at which `file` was last modified.
    pub fn modified(file: &File) -> Option<i64> {
        nix::sys::stat::fstat(file.as_raw_fd()).ok().map(|st| st.st_mtime)
    }
}

/// Append `bytes` to a journal opened with `O_APPEND`, in one `write`.
pub fn append(file: &LockedFile, bytes: &[u8]) -> Result<(), i32> {
    let n = nix::unistd::write(file.as_fd(), bytes).map_err(|e| e as i32)?;
    if n == bytes.len() {
        Ok(())
    } else {
        Err(libc::EIO)
    }
}

/// Empty a journal, keeping its lock.
pub fn truncate(file: &LockedFile) -> Result<(), i32> {
    nix::unistd::ftruncate(file.as_fd(), 0).map_err(|e| e as i32)
}
