//! Regions: opening a region a client created (the server side), creating
//! one (the client or test side), and closing it.
//!
//! Every check that needs no system call (size, overflow, name, reserved
//! prefix, collision) runs before the first one. Descriptors are `OwnedFd`s,
//! closed on every path; mappings unmap themselves.

use crate::log::{log_at, Level};
use crate::name::{self, NamingPolicy, DARWIN_NAME_MAX};
use crate::os::{Identity, Mapping, OpenFlags};
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
    /// The name of the object opened or created; under `darwin` it may be
    /// a spelling other than the normalised name (see
    /// [`Registry::open_region`]).
    resolved: Resolved,
    mapping: Option<Mapping>,
    size: usize,
    /// Whether this region's hold on its registry entry was released.
    released: bool,
    /// The registry entry this region joined.
    generation: u64,
}

fn check_size(byte_size: usize) -> Result<()> {
    if byte_size == 0 {
        return Err(Error::new(
            Status::INVALID_ARGUMENT,
            "byte_size is 0; a region needs at least one byte",
        ));
    }
    Ok(())
}

impl Registry {
    /// Open and map `byte_size` bytes at `offset` of the region a client
    /// created under `key`: the server side of Triton's system shared memory.
    ///
    /// Under `posix` the object is opened by its system name (glibc makes
    /// every leading-slash spelling one object). Under `darwin`, where XNU
    /// checks only a name's length and compares names byte for byte, the
    /// names real clients use are tried in this order, each once: the
    /// normalised name (the seed's convention), the key as given (Triton's
    /// C++ client hands its key to `shm_open` verbatim), and `/` + key
    /// (CPython's `multiprocessing.shared_memory`, which Triton's Python
    /// client uses, prepends `/`). [`Region::system_name`] says which one
    /// opened; closing never unlinks another. `offset` need not be
    /// page-aligned. The region is tracked as not owned.
    ///
    /// The name checks come first, then the object is looked for, then the
    /// size: a missing object is [`Status::NOT_FOUND`] even when `byte_size`
    /// is 0 or `offset + byte_size` overflows.
    ///
    /// Errors: [`Status::INVALID_ARGUMENT`] (`byte_size` 0),
    /// [`Status::OUT_OF_BOUNDS`] (`offset + byte_size` overflows or passes the
    /// object's size, which on macOS is the size rounded up to a page),
    /// [`Status::INVALID_NAME`], [`Status::RESERVED_NAME`],
    /// [`Status::NAME_COLLISION`], [`Status::NOT_FOUND`] (no such object
    /// under any name tried), [`Status::NAME_TOO_LONG`] (no object found and
    /// a name to try was too long for the OS: the message names it and
    /// says which client could not have created it), and the statuses of
    /// failed system calls.
    pub fn open_region(&self, key: &[u8], offset: usize, byte_size: usize) -> Result<Region> {
        // The object is looked for before the size is judged: a key that
        // names nothing is NOT_FOUND whatever the size, as Triton's server
        // reports a missing key before its size.
        self.check_reserved(key)?;
        let candidates = self.client_names(key)?;
        if let [ClientName::Valid(only)] = candidates.as_slice() {
            // One name to try (posix): a collision shows before any system
            // call. With several, only the name that opens says which object
            // it is, and `track` checks that one.
            self.check_collision(
                key,
                &Resolved {
                    c_system: only.clone(),
                },
                false,
            )?;
        }
        let backend = self.backend();
        let mut tried: Vec<String> = Vec::new();
        let mut opened = None;
        for candidate in &candidates {
            let ClientName::Valid(name) = candidate else {
                continue;
            };
            match backend.open(name, OpenFlags::EXISTING) {
                Ok(fd) => {
                    opened = Some((fd, name));
                    break;
                }
                Err(libc::ENOENT) => tried.push(format!("'{}'", name.to_bytes().escape_ascii())),
                // A spelling this OS cannot name (glibc refuses an inner
                // '/', so darwin naming on Linux meets it): no object has it.
                Err(libc::EINVAL | libc::ENAMETOOLONG)
                    if !std::ptr::eq(candidate, &candidates[0]) =>
                {
                    tried.push(format!("'{}'", name.to_bytes().escape_ascii()));
                }
                Err(errno) => return Err(os_error(errno, "shm_open", name.to_bytes(), key)),
            }
        }
        let Some((fd, opened_c)) = opened else {
            return Err(not_found(key, &tried, &candidates));
        };
        let opened_name = opened_c.to_bytes();
        check_size(byte_size)?;
        let end = offset.checked_add(byte_size).ok_or_else(|| {
            Error::new(
                Status::OUT_OF_BOUNDS,
                format!("offset {offset} + byte_size {byte_size} overflows"),
            )
        })?;
        if candidates.first().is_some_and(|first| !first.is(opened_c)) {
            log_at!(
                Level::Info,
                "'{}' found as '{}' (a client that does not normalise names), not under its \
                 normalised name",
                key.escape_ascii(),
                opened_name.escape_ascii()
            );
        }

        // One fstat gives the size and the identity an unlink checks later
        // (policy `All`); a backend that keeps no identity gives the size.
        let (size, identity) = match backend.identity(fd.as_fd()) {
            Ok(identity) => (identity.size, Some(identity)),
            Err(libc::ENOSYS) => (
                backend
                    .size(fd.as_fd())
                    .map_err(|errno| os_error(errno, "fstat", opened_name, key))?,
                None,
            ),
            Err(errno) => return Err(os_error(errno, "fstat", opened_name, key)),
        };
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
            Error::new(
                Status::OUT_OF_BOUNDS,
                format!("offset {offset} does not fit a file offset"),
            )
        })?;
        let mapping = backend
            .map(fd.as_fd(), offset64, byte_size)
            .map_err(|errno| os_error(errno, "mmap", opened_name, key))?;
        drop(fd);
        let resolved = Resolved {
            c_system: opened_c.clone(),
        };
        let (_, generation) = self.track(
            key,
            Cow::Borrowed(resolved.system()),
            false,
            Hold::Region,
            Journaling::No,
            identity,
        )?;
        Ok(self.new_region(key, resolved, mapping, byte_size, generation))
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
                    format!(
                        "byte_size {byte_size} is larger than a file offset can express ({})",
                        i64::MAX
                    ),
                )
            })?;
        let resolved = self.resolve(key)?;
        self.check_collision(key, &resolved, true)?;
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
        // DESIGN, creator step 3: the identity is recorded before the object
        // is sized (until then a reaper knows it only as "never sized"), and
        // the registry entry keeps it, so that closing the region unlinks
        // this object and never another that took the name meanwhile. The
        // size kept is the one asked for: the object's own once sized.
        let identified = match backend.identity(fd.as_fd()) {
            Ok(found) => {
                self.journal_identity(slot, &found);
                Ok(Some(Identity {
                    size: size64,
                    ..found
                }))
            }
            // A backend that keeps no identity (a test double).
            Err(libc::ENOSYS) if slot.is_none() => Ok(None),
            Err(errno) => Err(os_error(errno, "fstat", system, key)),
        };
        #[cfg(feature = "crash-points")]
        crate::os::crash_point::hit("after-identity");
        // The identity the owner's unlink checks, should the setup fail.
        let own = identified.as_ref().ok().copied().flatten();
        let built = identified
            .and_then(|identity| {
                backend
                    .set_size(fd.as_fd(), size64)
                    .map_err(|errno| os_error(errno, "ftruncate", system, key))
                    .map(|()| identity)
            })
            .and_then(|identity| {
                #[cfg(feature = "crash-points")]
                crate::os::crash_point::hit("after-size");
                backend
                    .map(fd.as_fd(), 0, byte_size)
                    .map_err(|errno| os_error(errno, "mmap", system, key))
                    .map(|mapping| (mapping, identity))
            })
            .and_then(|(mapping, identity)| {
                let journaling = Journaling::Created(slot);
                let (_, generation) = self.track(
                    key,
                    Cow::Borrowed(resolved.system()),
                    true,
                    Hold::Region,
                    journaling,
                    identity,
                )?;
                Ok((mapping, generation))
            });
        drop(fd);
        match built {
            Ok((mapping, generation)) => {
                Ok(self.new_region(key, resolved, mapping, byte_size, generation))
            }
            Err(error) => {
                // Never leave behind an object we created, and never remove
                // another by its name: the owner's unlink, with the identity
                // of the descriptor just created. The record goes only once
                // the object has.
                if self.remove_failed_create(system, own) {
                    self.journal_release(slot);
                }
                Err(error)
            }
        }
    }
}

impl Registry {
    /// A region of `size` bytes mapped by `mapping`, tracked as entry
    /// `generation` of `key`, counted in the registry's mapped bytes.
    fn new_region(
        &self,
        key: &[u8],
        resolved: Resolved,
        mapping: Mapping,
        size: usize,
        generation: u64,
    ) -> Region {
        self.account_mapping(size, true);
        Region {
            registry: self.clone(),
            key: key.into(),
            resolved,
            mapping: Some(mapping),
            size,
            released: false,
            generation,
        }
    }
}

/// A name [`Registry::open_region`] may try for a key.
enum ClientName {
    /// A name the OS accepts.
    Valid(CString),
    /// A name a client would use that is longer than the OS allows, and the
    /// client that would use it.
    TooLong { name: Vec<u8>, client: &'static str },
}

impl ClientName {
    fn is(&self, name: &CString) -> bool {
        matches!(self, ClientName::Valid(mine) if mine == name)
    }
}

impl Registry {
    /// The names to try for a client's `key`, in order, without repeats.
    ///
    /// Errors: those of [`Registry::system_name`] under `posix`; under
    /// `darwin`, [`Status::INVALID_NAME`] for a key with nothing after its
    /// leading slashes.
    fn client_names(&self, key: &[u8]) -> Result<Vec<ClientName>> {
        let naming = self.options().naming;
        if naming == NamingPolicy::Posix {
            let system = self.system_name(key)?;
            return Ok(vec![ClientName::Valid(c_name(system)?)]);
        }
        let normalised =
            name::normalize(key).map_err(|e| e.for_key(key, &format!("{naming} naming policy")))?;
        let mut python = Vec::with_capacity(key.len() + 1);
        python.push(b'/');
        python.extend_from_slice(key);
        let spellings = [
            (normalised, "a client that normalises names"),
            (
                key.to_vec(),
                "Triton's C++ client, which uses the key as given",
            ),
            (
                python,
                "a Python client (multiprocessing.shared_memory prepends '/')",
            ),
        ];
        let mut names: Vec<ClientName> = Vec::with_capacity(spellings.len());
        let mut seen: Vec<Vec<u8>> = Vec::with_capacity(spellings.len());
        for (spelling, client) in spellings {
            if seen.contains(&spelling) {
                continue;
            }
            seen.push(spelling.clone());
            names.push(if spelling.len() > DARWIN_NAME_MAX {
                ClientName::TooLong {
                    name: spelling,
                    client,
                }
            } else {
                ClientName::Valid(c_name(spelling)?)
            });
        }
        Ok(names)
    }
}

fn c_name(name: Vec<u8>) -> Result<CString> {
    // Unreachable for keys that came in as C strings or passed a policy.
    CString::new(name).map_err(|_| Error::new(Status::INVALID_NAME, "the name contains a NUL byte"))
}

/// Why no name of `candidates` opened: [`Status::NAME_TOO_LONG`] when a name
/// a client would use is too long for the OS (so no such client can have
/// created it), [`Status::NOT_FOUND`] otherwise.
fn not_found(key: &[u8], tried: &[String], candidates: &[ClientName]) -> Error {
    let too_long: Vec<String> = candidates
        .iter()
        .filter_map(|candidate| match candidate {
            ClientName::TooLong { name, client } => Some(format!(
                "'{}' ({} bytes, for {client}) is longer than macOS allows ({DARWIN_NAME_MAX} \
                 bytes with its '/'), so no such client can have created it",
                name.escape_ascii(),
                name.len()
            )),
            ClientName::Valid(_) => None,
        })
        .collect();
    let searched = if tried.is_empty() {
        String::new()
    } else {
        format!("no shared-memory object {} exists", tried.join(" or "))
    };
    if too_long.is_empty() {
        return Error::from_errno(
            libc::ENOENT,
            format_args!(
                "cannot open the region '{}': {searched}",
                key.escape_ascii()
            ),
        );
    }
    let reason = [searched, too_long.join("; ")]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    Error::new(
        Status::NAME_TOO_LONG,
        format!("cannot open the region '{}': {reason}", key.escape_ascii()),
    )
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
        self.mapping
            .as_ref()
            .map_or(std::ptr::null_mut(), Mapping::data)
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
        self.resolved.system()
    }

    /// Copy `bytes` into the region at `at`; false (nothing copied) if the
    /// range passes the region's size.
    pub fn write_at(&self, at: usize, bytes: &[u8]) -> bool {
        let fits = at
            .checked_add(bytes.len())
            .is_some_and(|end| end <= self.size);
        fits && self.mapping.as_ref().is_some_and(|m| m.write_at(at, bytes))
    }

    /// Copy the region's bytes at `at` into `out`; false (nothing copied) if
    /// the range passes the region's size.
    pub fn read_at(&self, at: usize, out: &mut [u8]) -> bool {
        let fits = at
            .checked_add(out.len())
            .is_some_and(|end| end <= self.size);
        fits && self.mapping.as_ref().is_some_and(|m| m.read_at(at, out))
    }

    /// Unmap the region (if [`Region::unmap`] has not) and release its
    /// registry entry; when that was the entry's last region and nothing
    /// pinned it, the entry is untracked and the object unlinked if owned
    /// (or if the unlink policy is `All`).
    ///
    /// Errors: a failed `munmap` ([`Status::OS_ERROR`]): the mapping is then
    /// left in place and the entry released anyway, since nothing can use
    /// the region again; call [`Region::unmap`] first to keep a region whose
    /// unmap fails. A failed `shm_unlink`: the entry stays tracked for
    /// `cleanup_all`.
    pub fn close(mut self) -> Result<()> {
        let unmapped = self.unmap();
        let released = self.release();
        unmapped.and(released)
    }

    /// Unmap the region now, keeping it (and its registry entry) otherwise:
    /// afterwards [`Region::data`] is NULL and [`Region::close`] only
    /// releases the entry. Unmapping an unmapped region does nothing.
    ///
    /// Errors: [`Status::OS_ERROR`] when `munmap` fails; the region is then
    /// still mapped and usable, exactly as before the call.
    pub fn unmap(&mut self) -> Result<()> {
        let Some(mapping) = self.mapping.take() else {
            return Ok(());
        };
        if let Err((mapping, errno)) = self.registry.backend().unmap(mapping) {
            self.mapping = Some(mapping);
            return Err(os_error(errno, "munmap", self.resolved.system(), &self.key));
        }
        self.registry.account_mapping(self.size, false);
        Ok(())
    }

    /// Whether the region is still mapped: true until it is unmapped.
    pub fn is_mapped(&self) -> bool {
        self.mapping.is_some()
    }

    /// Release this region's hold on its registry entry, once.
    fn release(&mut self) -> Result<()> {
        if std::mem::replace(&mut self.released, true) {
            return Ok(());
        }
        if let Some(mapping) = self.mapping.take() {
            // munmap refused it: the memory stays mapped, unreachable.
            std::mem::forget(mapping);
            self.registry.account_mapping(self.size, false);
        }
        self.registry
            .release_region(&self.key, &self.resolved, self.generation)
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // Errors were logged by the registry; a destructor cannot report them.
        let _ = self.unmap();
        let _ = self.release();
    }
}
