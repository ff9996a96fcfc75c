//! Regions: opening a region a client created (the server side), creating
//! one (the client or test side), and closing it.
//!
//! Every check that needs no system call (size, overflow, name, reserved
//! prefix, collision) runs before the first one. Descriptors are `OwnedFd`s,
//! closed on every path; mappings unmap themselves.

use crate::log::{log_at, Level};
use crate::name::NamingPolicy;
use crate::os::{Mapping, OpenFlags};
use crate::registry::{Hold, Journaling, Registry, Resolved};
use crate::status::{Error, Result, Status};
use std::borrow::Cow;
use std::ffi::CString;
use std::os::fd::AsFd;

/// A mapped shared-memory region tracked by a registry. Closing it (or
/// dropping it) unmaps it and releases its registry entry; the object is
/// unlinked only if this process created it or the unlink policy says so.
#[derive(Debug)]
pub struct Region {
    registry: Registry,
    key: Box<[u8]>,
    resolved: Resolved,
    /// The name actually opened; differs from `resolved.system()` when the
    /// `//key` fallback found the object.
    opened_name: Vec<u8>,
    mapping: Option<Mapping>,
    size: usize,
    /// The registry entry this region joined.
    generation: u64,
}

impl std::fmt::Debug for Resolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "'{}'", self.system().escape_ascii())
    }
}

fn check_size(byte_size: usize) -> Result<()> {
    if byte_size == 0 {
        return Err(Error::new(Status::INVALID_ARGUMENT, "byte_size is 0; a region needs at least one byte"));
    }
    Ok(())
}

impl Registry {
    /// Open and map `byte_size` bytes at `offset` of the region a client
    /// created under `key`: the server side of Triton's system shared memory.
    ///
    /// The object is opened read-write by its system name. Under the
    /// `darwin` policy, when that name does not exist and `key` starts with
    /// `/`, the name `/` + `key` is tried too: Python's
    /// `multiprocessing.shared_memory`, which Triton's Python client uses,
    /// names the object for key `/k` as `//k`. `offset` need not be
    /// page-aligned. The region is tracked as not owned.
    ///
    /// Errors: [`Status::INVALID_ARGUMENT`] (`byte_size` 0),
    /// [`Status::OUT_OF_BOUNDS`] (`offset + byte_size` overflows or passes the
    /// object's size, which on macOS is the size rounded up to a page),
    /// [`Status::INVALID_NAME`], [`Status::NAME_TOO_LONG`],
    /// [`Status::RESERVED_NAME`], [`Status::NAME_COLLISION`],
    /// [`Status::NOT_FOUND`] (no such object), and the statuses of failed
    /// system calls.
    pub fn open_region(&self, key: &[u8], offset: usize, byte_size: usize) -> Result<Region> {
        check_size(byte_size)?;
        let end = offset.checked_add(byte_size).ok_or_else(|| {
            Error::new(
                Status::OUT_OF_BOUNDS,
                format!("offset {offset} + byte_size {byte_size} overflows"),
            )
        })?;
        let resolved = self.resolve(key)?;
        self.check_collision(key, &resolved)?;
        let backend = self.backend();

        let (fd, opened_name) = match backend.open(&resolved.c_system, OpenFlags::EXISTING) {
            Ok(fd) => (fd, resolved.system().to_vec()),
            Err(libc::ENOENT) if self.options().naming == NamingPolicy::Darwin && key.starts_with(b"/") => {
                let mut python_name = Vec::with_capacity(key.len() + 1);
                python_name.push(b'/');
                python_name.extend_from_slice(key);
                let c_python = CString::new(python_name.clone()).map_err(|_| {
                    Error::new(Status::INVALID_NAME, "the name contains a NUL byte")
                })?;
                match backend.open(&c_python, OpenFlags::EXISTING) {
                    Ok(fd) => {
                        log_at!(
                            Level::Info,
                            "'{}' found as '{}' (Python client naming), not as '{}'",
                            key.escape_ascii(),
                            python_name.escape_ascii(),
                            resolved.system().escape_ascii()
                        );
                        (fd, python_name)
                    }
                    Err(_) => {
                        return Err(Error::from_errno(
                            libc::ENOENT,
                            format_args!(
                                "shm_open failed for '{}' and '{}' (original: '{}')",
                                resolved.system().escape_ascii(),
                                python_name.escape_ascii(),
                                key.escape_ascii()
                            ),
                        ))
                    }
                }
            }
            Err(errno) => return Err(os_error(errno, "shm_open", resolved.system(), key)),
        };

        let size = backend
            .size(fd.as_fd())
            .map_err(|errno| os_error(errno, "fstat", &opened_name, key))?;
        if u64::try_from(end).map_or(true, |end| end > size) {
            return Err(Error::new(
                Status::OUT_OF_BOUNDS,
                format!(
                    "offset {offset} + byte_size {byte_size} = {end} passes the end of '{}' \
                     (original: '{}'), which is {size} bytes",
                    opened_name.escape_ascii(),
                    key.escape_ascii()
                ),
            ));
        }
        let offset64 = u64::try_from(offset).map_err(|_| {
            Error::new(Status::OUT_OF_BOUNDS, format!("offset {offset} does not fit a file offset"))
        })?;
        let mapping = backend
            .map(fd.as_fd(), offset64, byte_size)
            .map_err(|errno| os_error(errno, "mmap", &opened_name, key))?;
        drop(fd);
        let (_, generation) =
            self.track(key, Cow::Borrowed(resolved.system()), false, Hold::Region, Journaling::No)?;
        self.account_mapping(byte_size, true);
        Ok(Region {
            registry: self.clone(),
            key: key.into(),
            resolved,
            opened_name,
            mapping: Some(mapping),
            size: byte_size,
            generation,
        })
    }

    /// Create, size and map a new region of `byte_size` bytes under `key`:
    /// the client side, also handy in tests. The object is created with
    /// `O_CREAT | O_EXCL` and mode 0600 and sized with exactly one
    /// `ftruncate` (macOS allows only one, and no `O_TRUNC`). It is tracked
    /// as owned, so closing the region unlinks it, even when the key was
    /// already tracked as not owned. With a journal, the creation is
    /// recorded before the object exists and completed with its identity
    /// (`fstat`) right after `shm_open`.
    ///
    /// Errors: [`Status::INVALID_ARGUMENT`] (`byte_size` 0),
    /// [`Status::INVALID_NAME`], [`Status::NAME_TOO_LONG`],
    /// [`Status::RESERVED_NAME`], [`Status::NAME_COLLISION`],
    /// [`Status::ALREADY_EXISTS`] (the object exists; it is left untouched),
    /// and the statuses of failed system calls. After a failure past the
    /// creation, the object is removed again.
    pub fn create_region(&self, key: &[u8], byte_size: usize) -> Result<Region> {
        check_size(byte_size)?;
        // ftruncate takes an off_t: refuse what it cannot express before
        // any object exists.
        let size64 = u64::try_from(byte_size)
            .ok()
            .filter(|&size| i64::try_from(size).is_ok())
            .ok_or_else(|| {
                Error::new(
                    Status::INVALID_ARGUMENT,
                    format!("byte_size {byte_size} is larger than a file offset can express ({})", i64::MAX),
                )
            })?;
        let resolved = self.resolve(key)?;
        self.check_collision(key, &resolved)?;
        let backend = self.backend();
        let system = resolved.system();
        // The record comes first, so a crash can never leave the object
        // without one.
        let slot = self.journal_intent(system, size64)?;
        #[cfg(feature = "crash-points")]
        crate::os::crash_point::hit("after-record");
        let fd = match backend.open(&resolved.c_system, OpenFlags::CREATE_NEW) {
            Ok(fd) => fd,
            Err(errno) => {
                // Not created (an existing object is someone else's): drop
                // the record so no reaper ever removes it.
                self.journal_release(slot);
                return Err(os_error(errno, "shm_open(O_CREAT|O_EXCL)", system, key));
            }
        };

        #[cfg(feature = "crash-points")]
        crate::os::crash_point::hit("after-create");
        // The identity is recorded before the object is sized: until then a
        // reaper knows it only as "never sized".
        let identified = match slot {
            Some(_) => backend
                .identity(fd.as_fd())
                .map(|identity| self.journal_identity(slot, &identity))
                .map_err(|errno| os_error(errno, "fstat", system, key)),
            None => Ok(()),
        };
        #[cfg(feature = "crash-points")]
        crate::os::crash_point::hit("after-identity");
        let built = identified
            .and_then(|()| {
                backend
                    .set_size(fd.as_fd(), size64)
                    .map_err(|errno| os_error(errno, "ftruncate", system, key))
            })
            .and_then(|()| {
                #[cfg(feature = "crash-points")]
                crate::os::crash_point::hit("after-size");
                backend
                    .map(fd.as_fd(), 0, byte_size)
                    .map_err(|errno| os_error(errno, "mmap", system, key))
            })
            .and_then(|mapping| {
                let journaling = Journaling::Created(slot);
                let (_, generation) =
                    self.track(key, Cow::Borrowed(resolved.system()), true, Hold::Region, journaling)?;
                Ok((mapping, generation))
            });
        drop(fd);
        match built {
            Ok((mapping, generation)) => {
                self.account_mapping(byte_size, true);
                Ok(Region {
                    registry: self.clone(),
                    key: key.into(),
                    opened_name: system.to_vec(),
                    resolved,
                    mapping: Some(mapping),
                    size: byte_size,
                    generation,
                })
            }
            Err(error) => {
                // Never leave behind an object we created.
                match backend.unlink(&resolved.c_system) {
                    Ok(()) | Err(libc::ENOENT) => self.journal_release(slot),
                    Err(errno) => log_at!(
                        Level::Error,
                        "could not remove '{}' after a failed create: errno {errno}",
                        system.escape_ascii()
                    ),
                }
                Err(error)
            }
        }
    }
}

fn os_error(errno: i32, call: &str, system: &[u8], key: &[u8]) -> Error {
    Error::from_errno(
        errno,
        format_args!(
            "{call} failed for '{}' (original: '{}')",
            system.escape_ascii(),
            key.escape_ascii()
        ),
    )
}

impl Region {
    /// The first byte of the region: the byte at the offset it was opened
    /// at. Valid until the region is closed.
    pub fn data(&self) -> *mut u8 {
        self.mapping.as_ref().map_or(std::ptr::null_mut(), Mapping::data)
    }

    /// The size asked for when the region was opened or created.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The key as the caller gave it.
    pub fn key(&self) -> &[u8] {
        &self.key
    }

    /// The name of the object actually opened.
    pub fn system_name(&self) -> &[u8] {
        &self.opened_name
    }

    /// Copy `bytes` into the region at `at`; false (nothing copied) if the
    /// range passes the region's size.
    pub fn write_at(&self, at: usize, bytes: &[u8]) -> bool {
        let fits = at.checked_add(bytes.len()).is_some_and(|end| end <= self.size);
        fits && self.mapping.as_ref().is_some_and(|m| m.write_at(at, bytes))
    }

    /// Copy the region's bytes at `at` into `out`; false (nothing copied) if
    /// the range passes the region's size.
    pub fn read_at(&self, at: usize, out: &mut [u8]) -> bool {
        let fits = at.checked_add(out.len()).is_some_and(|end| end <= self.size);
        fits && self.mapping.as_ref().is_some_and(|m| m.read_at(at, out))
    }

    /// Unmap the region and release its registry entry; when that was the
    /// entry's last region and nothing pinned it, the entry is untracked and
    /// the object unlinked if owned (or if the unlink policy is `All`).
    ///
    /// Errors: those of a failed `shm_unlink` (the entry then stays
    /// tracked). The mapping is gone in every case.
    pub fn close(mut self) -> Result<()> {
        self.finish()
    }

    fn finish(&mut self) -> Result<()> {
        match self.mapping.take() {
            Some(mapping) => {
                drop(mapping);
                self.registry.account_mapping(self.size, false);
                self.registry.release_region(&self.key, &self.resolved, self.generation)
            }
            None => Ok(()),
        }
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // Errors were logged by the registry; a destructor cannot report them.
        let _ = self.finish();
    }
}
